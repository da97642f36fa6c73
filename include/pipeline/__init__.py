"""Small, importable functions the Airflow DAGs call (the DAG files only declare tasks).

Modules: ``settings`` (paths and names from the environment), ``embedded`` (the environment of
the embedded Airflow: SQLite, repo dags/ and plugins/), ``landing`` (mock data for a logical
date), ``product`` (the data product tables and their Airflow Assets), ``dbt_docs`` (docs for the
Airflow UI), ``summary`` (the run summary printed by scripts/run.sh), ``callbacks``, ``runlock``
(one run at a time per warehouse, across processes), ``runstate`` (the warehouse's run log, died
runs, the run report), ``runs`` (the DAG's first and last tasks), ``events`` (retries and other
run events).
"""
