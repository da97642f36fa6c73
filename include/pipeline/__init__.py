"""Small, importable functions the Airflow DAGs call (the DAG files only declare tasks).

Modules: ``settings`` (paths and names from the environment), ``embedded`` (the environment of
the embedded Airflow: SQLite, repo dags/ and plugins/), ``landing`` (mock data for a logical
date), ``product`` (the data product tables and their Airflow Assets), ``dbt_docs`` (docs for the
Airflow UI), ``summary`` (the run summary printed by scripts/run.sh), ``callbacks``.
"""

import logging as _logging

# The Azure SDK logs every HTTP request and response, headers included, at INFO: dozens of lines
# per blob call in every task log (dbt reads the landing through adlfs). Warnings and errors stay.
_logging.getLogger("azure").setLevel(_logging.WARNING)
