"""The market place's semantic layer: dbt MetricFlow metrics served from Python.

    from include.semantic import SemanticLayer, Query, SemanticError
    sl = SemanticLayer(duckdb_path)                      # read-only; cheap to keep open
    sl.catalog()                                         # logical tables, members, types, tags
    sl.run(Query(measures=["transactions.debit_to_credit_ratio"],
                 dimensions=["customers.zone", "customers.city", "customers.branch_name", "transactions.channel"]),
           role="role_public")

See README.md in this folder for names, operators, roles and the command line.
"""
from include.semantic.errors import QueryTimeout, SemanticError
from include.semantic.layer import Compiled, Result, SemanticLayer
from include.semantic.model import Catalog, LogicalTable, Member, SavedQuery
from include.semantic.query import OPERATORS, Query

__all__ = ["SemanticLayer", "Query", "SemanticError", "QueryTimeout", "Compiled", "Result", "Catalog",
           "LogicalTable", "Member", "SavedQuery", "OPERATORS"]
