"""The data product's tables, their Airflow Assets, and checks/reports over them.

The asset list is declared here (not read from the dbt manifest) because the DAG files declare
Assets at parse time; tests/dags keep it in step with the manifest's ``data_product`` models.
"""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path

from include.pipeline import settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ProductTable:
    schema: str
    name: str
    # a table whose source can have no rows yet without anything being wrong (no campaign has reached
    # a customer of a small base): empty is reported, not a failure
    may_be_empty: bool = False

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def asset_uri(self) -> str:
        return f"duckdb://fsdp/{self.schema}/{self.name}"


# the dbt marts tagged data_product (dbt_project/models/marts), the seed's *_dp tables
PRODUCT_TABLES: tuple[ProductTable, ...] = tuple(
    ProductTable(settings.PRODUCT_SCHEMA, name) for name in ("customer_overview_dp", "account_dp", "product_dp",
                                                             "transaction_dp")
) + (ProductTable(settings.PRODUCT_SCHEMA, "campaign_event_dp", may_be_empty=True),)


def assets():
    """Airflow Assets of the product tables (cheap: no I/O)."""
    from airflow.sdk import Asset

    return [Asset(name=t.relation, uri=t.asset_uri, group="fsdp_data_product",
                  extra={"schema": t.schema, "table": t.name}) for t in PRODUCT_TABLES]


def connect(db_path: Path | None = None):
    """A read-only DuckDB connection to the warehouse file (hold the DuckDB pool while it is open)."""
    import duckdb

    from include.pipeline.dbt import release_dbt_duckdb

    release_dbt_duckdb()
    path = Path(db_path or settings.duckdb_path())
    if not path.exists():
        raise FileNotFoundError(f"DuckDB file {path} does not exist: has dbt run?")
    return duckdb.connect(str(path), read_only=True)


def table_rows(con, tables=PRODUCT_TABLES) -> dict[str, int | None]:
    """Row count per product table; None when the table does not exist."""
    existing = {f"{s}.{n}" for s, n in con.execute(
        "select table_schema, table_name from information_schema.tables").fetchall()}
    return {t.relation: (con.execute(f'select count(*) from "{t.schema}"."{t.name}"').fetchone()[0]
                         if t.relation in existing else None) for t in tables}


def problems(counts: dict[str, int | None], tables=PRODUCT_TABLES) -> list[str]:
    """What stops the product from being published: a missing table, an empty one (unless it may be)."""
    by_relation = {t.relation: t for t in tables}
    return [f"{name} {'is missing' if n is None else 'is empty'}" for name, n in counts.items()
            if n is None or (n == 0 and not by_relation[name].may_be_empty)]


def verify_product(db_path: Path | None = None) -> dict[str, int]:
    """Row counts of the product tables; raises when one is missing or empty (nothing to publish)."""
    with connect(db_path) as con:
        counts = table_rows(con)
    problems_found = problems(counts)
    if problems_found:
        raise RuntimeError("data product not publishable: " + "; ".join(problems_found))
    log.info("product tables: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
    return {k: int(v) for k, v in counts.items()}


def quality_by_table(con, run_id: str) -> dict[str, dict[str, int]]:
    """Soda outcomes per product table for the run: {table: {"pass": n, "warn": n, ...}}."""
    if not con.execute("select count(*) from information_schema.tables where table_schema = 'quality' "
                       "and table_name = 'check_results'").fetchone()[0]:
        return {}
    out: dict[str, dict[str, int]] = {}
    for dataset, outcome, n in con.execute(
            "select dataset, outcome, count(*) from quality.check_results where run_id = ? group by all",
            [run_id]).fetchall():
        out.setdefault(dataset, {})[outcome] = int(n)
    return out


def quality_status(outcomes: dict[str, int]) -> str:
    """fail | warn | pass | unchecked, from one table's outcome counts."""
    if not outcomes:
        return "unchecked"
    if outcomes.get("fail") or outcomes.get("error"):
        return "fail"
    return "warn" if outcomes.get("warn") else "pass"


def publish(logical_date: date, run_id: str, outlet_events=None) -> dict:
    """fsdp_daily's publication: verify the product tables (missing or empty fails the run) and put
    each table's rows and quality outcome in the extra of its Asset event; returns the extras."""
    counts = verify_product()
    with connect() as con:
        quality = quality_by_table(con, run_id)
    extras = {}
    for table, asset in zip(PRODUCT_TABLES, assets()):
        outcomes = quality.get(table.name, {})
        extras[table.relation] = {
            "run_id": run_id, "logical_date": logical_date.isoformat(), "rows": counts[table.relation],
            "quality_status": quality_status(outcomes), "quality": outcomes,
        }
        if outlet_events is not None:
            outlet_events[asset].extra = extras[table.relation]
    log.info("published: %s", "; ".join(f"{t} rows={e['rows']} quality={e['quality_status']}" for t, e in extras.items()))
    return extras


def write_report(kind: str, logical_date: date, payload: dict, reports_dir: Path | None = None) -> Path:
    """Write ``payload`` as reports/<kind>/<date>.json (atomic replace); returns the path."""
    out_dir = Path(reports_dir or settings.reports_dir()) / kind
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / f"{logical_date.isoformat()}.json"
    tmp = path.with_suffix(".json.tmp")
    body = {"kind": kind, "logical_date": logical_date.isoformat(),
            "written_at": datetime.now(timezone.utc).isoformat(timespec="seconds"), **payload}
    tmp.write_text(json.dumps(body, indent=2, sort_keys=True, default=str) + "\n")
    tmp.replace(path)
    return path
