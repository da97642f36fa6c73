"""Saved-query exports: every saved query with ``exports: [{config: {export_as: table, schema}}]``
materialised as a table, so tools that only read tables (Superset) show exactly what the semantic
layer answers. dbt Core cannot run exports (``dbt sl export`` is dbt Cloud's); the daily DAG's
``semantic_layer`` step calls ``publish_exports`` after the quality gate and the market-place marts.

Columns are the members' names with ``.`` as ``__`` (``customers__zone``,
``transactions__debit_to_credit_ratio``). An export never carries a governed (tagged) member: it
is read without a role. All tables are replaced in one transaction.
"""
from __future__ import annotations

import os
from pathlib import Path

from include.semantic.errors import SemanticError
from include.semantic.layer import SemanticLayer, _quote


def column_name(key: str) -> str:
    return key.replace(".", "__")


def publish_exports(duckdb_path: str | os.PathLike, semantic_manifest_path: str | os.PathLike | None = None) -> dict:
    """Replace every export table; returns {schema.table: rows}. Raises SemanticError when an export
    selects a governed member or a saved query fails."""
    import duckdb

    con = duckdb.connect(str(duckdb_path))
    try:
        sl = SemanticLayer(duckdb_path, semantic_manifest_path, connection=con)
        catalog = sl.catalog()
        planned = []
        for saved in catalog.saved_queries.values():
            tagged = [m for m in (*saved.measures, *saved.dimensions, *(t["dimension"] for t in saved.time_dimensions))
                      if catalog.members[m].tags]
            if tagged and saved.exports:
                raise SemanticError(f"saved query {saved.name} exports governed member {tagged[0]}", member=tagged[0])
            for export in saved.exports:
                if export.get("export_as", "table") != "table":
                    raise SemanticError(f"export {export['name']}: only export_as: table is supported")
                compiled = sl.compile(sl.saved_query(saved.name))
                select = ", ".join(f"{_quote(k)} as {_quote(column_name(k))}" for k, _ in compiled.columns)
                planned.append((export.get("schema") or "marketplace_exports", export.get("alias") or export["name"],
                                f"select {select} from (\n{compiled.sql}\n) as export", compiled.parameters))
        summary = {}
        con.begin()
        for schema, table, sql, params in planned:
            con.execute(f"create schema if not exists {_quote(schema)}")
            con.execute(f"create or replace table {_quote(schema)}.{_quote(table)} as {sql}", params or None)
            summary[f"{schema}.{table}"] = con.execute(f"select count(*) from {_quote(schema)}.{_quote(table)}").fetchone()[0]
        con.commit()
        return summary
    except duckdb.Error as exc:
        raise SemanticError(f"publishing the saved-query exports failed: {str(exc).splitlines()[0]}") from None
    finally:
        con.close()


def main() -> int:  # pragma: no cover - thin CLI
    import json
    import sys

    db = os.environ.get("FSDP_DUCKDB_PATH") or str(Path(__file__).resolve().parents[2] / ".local/warehouse/fsdp.duckdb")
    print(json.dumps(publish_exports(sys.argv[1] if len(sys.argv) > 1 else db), indent=2))
    return 0
