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
from include.pipeline.alerts import FsdpAlertNotifier


@dag(
    dag_id="fsdp_product_health",
    schedule=product.assets(),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    # it only runs when the product is published: paused, the first publication would never be checked
    is_paused_upon_creation=False,
    max_active_runs=1,
    default_args={"owner": "fsdp-data-product", "retries": 2, "retry_delay": timedelta(seconds=30)},
    tags=["fsdp", "data-product", "health"],
    doc_md=__doc__,
    on_failure_callback=FsdpAlertNotifier("failure"),
)
def fsdp_product_health():
    @task(pool=settings.DUCKDB_POOL)
    def report_product_health(dag_run=None, triggering_asset_events=None) -> dict:
        from datetime import date

        from include.pipeline.health import report_health, sources_of

        sources = sources_of(triggering_asset_events, dag_run.conf)
        dates = sorted(d for d in sources.values() if d)
        day = date.fromisoformat(dates[-1]) if dates else (dag_run.logical_date or dag_run.run_after).date()
        return report_health(day, dag_run.run_id, sources)

    report_product_health()


fsdp_product_health()
