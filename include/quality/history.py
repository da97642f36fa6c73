"""Quality over time: check results and column profiles of every run, as tables in the warehouse
(schema ``quality``) next to the product they describe.

Rows are keyed by run_id: writing a run again (an Airflow retry, a re-run of the same date)
replaces its rows in one transaction, never appends duplicates. The caller opens the connection
read-write, calls ``write_run``, and closes it: DuckDB allows one writing process per file.
"""
from __future__ import annotations

import json
from datetime import date, datetime
from typing import Iterable

from include.quality.profiles import ColumnProfile
from include.quality.soda_runner import CheckResult

SCHEMA = "quality"
CHECK_RESULTS = f"{SCHEMA}.check_results"
COLUMN_PROFILES = f"{SCHEMA}.column_profiles"

DDL = (
    f"create schema if not exists {SCHEMA}",
    f"""create table if not exists {CHECK_RESULTS} (
        run_id varchar not null,
        logical_date date not null,
        checked_at timestamp not null,      -- when the gate ran (UTC), for the record only
        dataset varchar not null,           -- product table, e.g. customer_overview_dp
        check_name varchar not null,        -- the check's name in include/quality/checks/<dataset>.yml
        column_name varchar,
        outcome varchar not null,           -- pass | warn | fail | error
        value double,                       -- measured metric: count, share, freshness in ms
        definition varchar,                 -- the SodaCL text of the check
        diagnostics json,                   -- thresholds, freshness, schema differences
        engine varchar                      -- e.g. soda-core 3.5.6
    )""",
    f"""create table if not exists {COLUMN_PROFILES} (
        run_id varchar not null,
        logical_date date not null,
        profiled_at timestamp not null,
        dataset varchar not null,
        profile varchar not null,           -- full | filtered
        row_filter varchar,                 -- SQL of the filter of a filtered profile
        row_count bigint not null,
        column_name varchar not null,
        data_type varchar not null,
        null_count bigint not null,
        null_pct double,
        distinct_count bigint not null,
        min_value varchar,
        max_value varchar,
        min_length integer,
        max_length integer,
        mean double,
        stddev double,
        quantiles json,                     -- p25, p50, p75
        top_values json                     -- list of value, count
    )""",
)


def ensure_tables(con) -> None:
    for statement in DDL:
        con.execute(statement)


def write_run(con, run_id: str, logical_date: date, at: datetime, checks: Iterable[CheckResult],
              profiles: Iterable[ColumnProfile], engine: str) -> None:
    """Replace run ``run_id``'s rows in both history tables with ``checks`` and ``profiles``."""
    ensure_tables(con)
    check_rows = [dict(run_id=run_id, logical_date=logical_date, checked_at=at, dataset=c.dataset,
                       check_name=c.name, column_name=c.column, outcome=c.outcome, value=c.value,
                       definition=c.definition, diagnostics=json.dumps(c.diagnostics, default=str), engine=engine)
                  for c in checks]
    profile_rows = [dict(run_id=run_id, logical_date=logical_date, profiled_at=at, dataset=p.dataset,
                         profile=p.profile, row_filter=p.row_filter, row_count=p.row_count,
                         column_name=p.column_name, data_type=p.data_type, null_count=p.null_count,
                         null_pct=p.null_pct, distinct_count=p.distinct_count, min_value=p.min, max_value=p.max,
                         min_length=p.min_length, max_length=p.max_length, mean=p.mean, stddev=p.stddev,
                         quantiles=json.dumps(p.quantiles), top_values=json.dumps(p.top_values, default=str))
                    for p in profiles]
    con.execute("begin transaction")
    try:
        con.execute(f"delete from {CHECK_RESULTS} where run_id = ?", [run_id])
        con.execute(f"delete from {COLUMN_PROFILES} where run_id = ?", [run_id])
        _insert(con, CHECK_RESULTS, check_rows)
        _insert(con, COLUMN_PROFILES, profile_rows)
        con.execute("commit")
    except Exception:
        con.execute("rollback")
        raise


def _insert(con, table: str, rows: list[dict]) -> None:
    """Insert ``rows`` by column name in one statement (executemany is slow on DuckDB 1.0)."""
    if not rows:
        return
    import pyarrow as pa

    batch = pa.Table.from_pylist(rows)
    con.register("_quality_rows", batch)
    try:
        names = ", ".join(batch.column_names)
        con.execute(f"insert into {table} ({names}) select {names} from _quality_rows")
    finally:
        con.unregister("_quality_rows")


def check_history(con, dataset: str | None = None, check_name: str | None = None, limit: int = 50) -> list[tuple]:
    """(logical_date, run_id, dataset, check_name, outcome, value), newest first."""
    where, params = [], []
    if dataset:
        where.append("dataset = ?")
        params.append(dataset)
    if check_name:
        where.append("check_name = ?")
        params.append(check_name)
    sql = (f"select logical_date, run_id, dataset, check_name, outcome, value from {CHECK_RESULTS}"
           f"{' where ' + ' and '.join(where) if where else ''}"
           f" order by logical_date desc, checked_at desc, dataset, check_name limit {int(limit)}")
    return con.execute(sql, params).fetchall()
