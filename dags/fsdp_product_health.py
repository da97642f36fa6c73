"""
### fsdp_product_health: the day's health of the customer data product

Scheduled on the data product's Airflow **Assets** (`fs_accelerator.*`, updated by
`fsdp_daily.publish_data_product`): runs after every successful publication of all product
tables. Reads the warehouse read-only and reports, per product table, rows, columns and the
null share of every column, plus accepted/rejected rows per landed entity; writes
`reports/product_health/<date>.json` and fails when a product table is missing or empty.
"""
from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import dag, task

from include.pipeline import product, settings
from include.pipeline.callbacks import log_failure_summary


@dag(
    dag_id="fsdp_product_health",
    schedule=product.assets(),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "fsdp-data-product", "retries": 2, "retry_delay": timedelta(seconds=30)},
    tags=["fsdp", "data-product", "health"],
    doc_md=__doc__,
    on_failure_callback=log_failure_summary,
)
def fsdp_product_health():
    @task(pool=settings.DUCKDB_POOL)
    def report_product_health(dag_run=None, triggering_asset_events=None) -> dict:
        from include.pipeline.health import report_health

        sources = sorted({e.source_run_id for events in (triggering_asset_events or {}).values()
                          for e in events if getattr(e, "source_run_id", None)})
        return report_health(dag_run.run_after.date(), triggered_by=sources)

    report_product_health()


fsdp_product_health()
