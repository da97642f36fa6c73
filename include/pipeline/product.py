"""The data product's tables, their Airflow Assets, and checks/reports over them.

The one declaration of the product tables: the quality gate checks them, the DAG declares their
Assets, the output port (include/output_port) publishes the ones marked ``exported`` with their
``partition_by``. A new product or consumer table is one more ``ProductTable`` here. The list is
declared here (not read from the dbt manifest) because the DAG files declare Assets at parse time;
tests/dags keep it in step with the manifest's ``data_product`` models.
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
    # output port: published as Parquet, one folder of files per value of these columns (hive
    # layout); each partition is the unit the port rewrites when it changes or goes missing
    partition_by: tuple[str, ...] = ()
    exported: bool = True

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.name}"

    @property
    def asset_uri(self) -> str:
        return f"duckdb://fsdp/{self.schema}/{self.name}"


# the dbt marts tagged data_product (dbt_project/models/marts), the seed's *_dp tables
PRODUCT_TABLES: tuple[ProductTable, ...] = (
    # the seed's Iceberg partition spec of customer_overview_dp
    ProductTable(settings.PRODUCT_SCHEMA, "customer_overview_dp", partition_by=("country", "state")),
    ProductTable(settings.PRODUCT_SCHEMA, "account_dp"),
    ProductTable(settings.PRODUCT_SCHEMA, "product_dp"),
    # a day's new transactions fall in new txn_date partitions: the other files stay as they are
    ProductTable(settings.PRODUCT_SCHEMA, "transaction_dp", partition_by=("txn_date",)),
)


def exported_tables() -> tuple[ProductTable, ...]:
    """The product tables the output port publishes."""
    return tuple(t for t in PRODUCT_TABLES if t.exported)


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


def verify_product(db_path: Path | None = None) -> dict[str, int]:
    """Row counts of the product tables; raises when one is missing or empty (nothing to publish)."""
    with connect(db_path) as con:
        counts = table_rows(con)
    problems = [f"{name} {'is missing' if n is None else 'is empty'}" for name, n in counts.items() if not n]
    if problems:
        raise RuntimeError("data product not publishable: " + "; ".join(problems))
    log.info("product tables: %s", ", ".join(f"{k}={v}" for k, v in counts.items()))
    return {k: int(v) for k, v in counts.items()}


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
