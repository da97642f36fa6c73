"""
### fsdp_daily: the customer data product, one logical date per run

Lands the day's customer, account, product and transaction files in the `landing` blob
container, builds the data product with dbt on DuckDB, checks it, publishes it, and refreshes
the dbt docs shown in this UI (**Browse > dbt Docs (FSDP data product)**).

| step | what it does |
| --- | --- |
| `start_run` | (setup) takes the warehouse's run lease: one run at a time per DuckDB file, across processes (scripts/run.sh, this scheduler, the compose stack). A second run waits for the first (or refuses after `FSDP_RUN_LOCK_WAIT_S`) with a line naming it. A run found dead (its process gone) is recorded as died, and this run repairs what it left. |
| `land_mock_data` | generates the logical date's mock data and lands it as CSV (`landing/<entity>/dt=<date>/`). Skipped with **skip_generation** (in production the source systems land the files). Retries with exponential backoff on blob errors. |
| `landing_inventory` | reads what the manifests say is landed for the date (each landing's `_manifest.json`): rows per entity. Runs when landing was skipped. |
| `source_freshness` | `dbt source freshness` over the landing (newest file per source; warn after 1 day, error after 3): never fails the run for staleness, marks it with warnings; the result goes to the run report and the catalog. |
| `dbt` | the dbt project (Astronomer Cosmos): one task per model, snapshot and seed, each followed by its dbt tests, so a failing test stops exactly the models that depend on it. Its first task, `dbt_producer_watcher`, runs the group's one `dbt build` of its models, snapshot and data tests (its log has dbt's output; the unit tests, which test the models' logic on fixed inputs, run in CI instead, as dbt advises); the model and test tasks after it take their node's outcome from that build, and a task that retries runs dbt for its node alone (`FSDP_COSMOS_EXECUTION_MODE=local`: each task runs dbt itself). `dbt_done` is done when every task of the group is, whatever its outcome (the run report waits for it; `marketplace_done` likewise). First `landing_inspection` registers and checks every landed file of the date (and earlier ones not yet registered, never later ones) against the contract and its manifest; refused files are listed in `fs_accelerator.landing_ledger` with their reason and never stop the other files. |
| `quality_gate` | Soda checks (`include/quality/checks/`, one file per product table) and column profiles; a failed fail-level check fails the run here, before anything is published; warnings are recorded. Results: `reports/quality/<date>/` (JSON) and the `quality.check_results` / `quality.column_profiles` tables. |
| `marketplace` | the market place's consumer marts (dbt tag `marketplace`: customers, transactions, archetypes, spend segments, time spine), one task per model and test like `dbt` (with its own `dbt build`), built only from data that passed the gate. |
| `publish_dbt_docs` | right after the marts, first in the pool: `dbt docs generate` for the warehouse as built, published atomically for the UI. |
| `publish_catalog` | pushes tables, tags, lineage, the data product and the quality results to OpenMetadata (`include/catalog`, own virtualenv); with no server configured it records what it would send to `.local/catalog/`. After the docs, because it reads the fresh `catalog.json`; it opens no warehouse, so it runs while the serving side below publishes. |
| `apply_role_views` | (re)creates the governance views, one schema per role (`include/governance`): masked PII per the masking policies. |
| `semantic_layer` | the MetricFlow semantic layer (`include/semantic`): every saved query (one per dashboard chart and data API) compiled for every role and its export table written to `marketplace_exports`. |
| `publish_output_port` | the output port (`include/output_port`): each product table as Parquet in the `curated` container, PII masked for the port's audience (hashed names, quarter-bucketed dates of birth), published atomically per table (a pointer switched last) and reconciled with the warehouse: a file lost or altered in the container is rewritten, and a port that does not match the warehouse fails the run. Only after the quality gate: unchecked rows are never published. |
| `publish_serving_copy` | publishes the read-only serving copy the data API and dashboards read (`include/serving`): product and market-place tables with PII in the public treatment, one schema per governance role, clear PII only in a separate owner-only file; switched atomically, old copies pruned. Only after the quality gate passed. |
| `publish_data_product` | verifies every product table exists and has rows and updates the product's Airflow **Assets** (`fs_accelerator.*`, which schedule `fsdp_product_health`); each asset event carries the table's rows and quality outcome in its extra. |
| `quality_warnings` | marks a run with warnings: **fails, without failing the run** (a teardown task), when the quality gate recorded warn-level results or a landed source is stale, and sends a warning alert. Green when there is nothing to say. |
| `run_report` | last task of every run, failed ones too (teardown), after every dbt task: writes the run report (task states, rows per entity and stage, the landing ledger: files registered and every refused file with its reason, top failed rules, quality results, source freshness), browsable under **Browse > Run reports** and in the run's **Run report** tab. When the run ends its note says the verdict. |
| `end_run` | (teardown, last, runs whatever happened) records the run's end in the warehouse's run log (`ops.pipeline_runs`: complete only if every task that builds the product succeeded), refreshes the run report's `run_state` and `retries` sections, and releases the lease. |

**Parameters** (trigger form): `rows` customers to generate, `bad_rows` extra invalid rows the
cleansing must reject, `skip_generation`, `full_refresh` (dbt `--full-refresh`: rebuilds the
incremental raw history from every landed file).

**Backfill** (catchup is off): `airflow backfill create --dag-id fsdp_daily --from-date 2026-01-01 --to-date 2026-01-07`.
Every task that opens the DuckDB file runs in the one-slot pool `duckdb_writer` (DuckDB allows one
writing process per file); the run lease orders whole runs across Airflows and scripts. Every retried
storage or catalog call logs one `retry ...` line and is counted in the run report. On failure, and
when a run is still not done `FSDP_RUN_DEADLINE_MINUTES` (default 120) after it was queued, the run
alerts through `include/pipeline/alerts.py` (a log line starting `FSDP run FAILED` / `FSDP deadline
missed`; e-mail, Slack or a webhook when `FSDP_ALERT_CHANNELS` names them).
"""
from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import Param, dag, setup, task, teardown

from include.pipeline import product, settings
from include.pipeline.alerts import FsdpAlertNotifier, run_deadline
from include.pipeline.callbacks import log_task_failure
from include.pipeline.dbt import dbt_task_group, group_done
from include.pipeline.runs import task_started

# Blob storage calls retry transient errors inside the client (include/blob_storage.py); a task
# retry covers longer outages (an emulator restart, a storage account throttling for minutes).
BLOB_RETRIES = {"retries": 4, "retry_delay": timedelta(seconds=15), "retry_exponential_backoff": True,
                "max_retry_delay": timedelta(minutes=10)}


@dag(
    dag_id="fsdp_daily",
    schedule=settings.daily_schedule(),   # FSDP_DAILY_SCHEDULE, default @daily
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "fsdp-data-product", "retries": 1, "retry_delay": timedelta(seconds=30),
                  # every task refreshes the run's warehouse lease and stops if another run took it over
                  "pre_execute": task_started,
                  "on_failure_callback": log_task_failure},
    params={
        "rows": Param(500, type="integer", minimum=1, maximum=5_000_000, title="Customers to generate",
                      description="Customers in the logical date's mock landing."),
        "bad_rows": Param(25, type="integer", minimum=0, maximum=1_000_000, title="Extra bad rows",
                          description="Invalid customer rows added on top, which the cleansing must reject."),
        "skip_generation": Param(False, type="boolean", title="Skip generation",
                                 description="Use the files already landed (production: the source systems land them)."),
        "full_refresh": Param(False, type="boolean", title="Full refresh",
                              description="dbt --full-refresh: rebuild incremental models from every landed file."),
    },
    tags=["fsdp", "data-product", "dbt", "duckdb"],
    doc_md=__doc__,
    on_failure_callback=FsdpAlertNotifier("failure"),
    deadline=run_deadline(),
)
def fsdp_daily():
    @setup
    @task(pool=settings.DUCKDB_POOL)
    def start_run(logical_date=None, dag_run=None, ti=None) -> dict:
        from airflow.sdk.exceptions import AirflowFailException

        from include.pipeline.dbt import release_dbt_duckdb
        from include.pipeline.runlock import WarehouseBusy
        from include.pipeline.runs import start_run as start

        release_dbt_duckdb()
        try:
            return start(dag_run.run_id, dag_run.dag_id, _day(logical_date, dag_run).isoformat(), ti=ti)
        except WarehouseBusy as exc:   # it waited FSDP_RUN_LOCK_WAIT_S already: a retry would wait again
            raise AirflowFailException(str(exc)) from None

    @teardown
    @task(pool=settings.DUCKDB_POOL)
    def end_run(lease: dict, logical_date=None, dag_run=None, ti=None) -> dict:
        from include.pipeline.dbt import release_dbt_duckdb
        from include.pipeline.runs import end_run as end

        release_dbt_duckdb()
        states = (ti.get_task_states(dag_id=dag_run.dag_id, run_ids=[dag_run.run_id]) or {}).get(dag_run.run_id, {})
        states = {t: str(s).lower().split(".")[-1] for t, s in states.items() if t != ti.task_id}
        return end(dag_run.run_id, dag_run.dag_id, _day(logical_date, dag_run).isoformat(), lease, states)

    @task(**BLOB_RETRIES)
    def land_mock_data(params=None, logical_date=None, dag_run=None) -> dict:
        from airflow.sdk.exceptions import AirflowSkipException

        from include.pipeline.landing import land_mock_data as land
        from include.pipeline.landing import retry_only_storage_errors

        if params["skip_generation"]:
            raise AirflowSkipException("skip_generation: using the files the source systems landed")
        with retry_only_storage_errors():
            return land(_day(logical_date, dag_run), rows=params["rows"], bad_rows=params["bad_rows"])

    @task(trigger_rule="none_failed", **BLOB_RETRIES)
    def landing_inventory(logical_date=None, dag_run=None) -> dict[str, int]:
        from include.pipeline.landing import landed_rows, retry_only_storage_errors

        with retry_only_storage_errors():
            return landed_rows(_day(logical_date, dag_run))

    @task(pool=settings.DUCKDB_POOL)
    def source_freshness(logical_date=None, dag_run=None) -> dict:
        from include.pipeline.freshness import run_source_freshness

        return run_source_freshness(_day(logical_date, dag_run), dag_run.run_id)

    @task(pool=settings.DUCKDB_POOL)
    def quality_gate(logical_date=None, dag_run=None) -> dict:
        from include.pipeline.dbt import release_dbt_duckdb
        from include.quality import run_quality

        release_dbt_duckdb()
        day = _day(logical_date, dag_run)
        result = run_quality(settings.duckdb_path(), dag_run.run_id, day, settings.reports_dir() / "quality")
        return result.raise_for_failures().as_dict()

    @task(pool=settings.DUCKDB_POOL)
    def apply_role_views() -> dict:
        from include.governance.views import apply_role_views as apply
        from include.pipeline.dbt import release_dbt_duckdb

        release_dbt_duckdb()
        return apply(settings.duckdb_path(), settings.dbt_manifest_path())

    @task(pool=settings.DUCKDB_POOL)
    def semantic_layer() -> dict:
        from include.pipeline.dbt import release_dbt_duckdb
        from include.semantic.exports import publish_exports

        release_dbt_duckdb()
        return publish_exports(settings.duckdb_path(), settings.dbt_target_dir() / "semantic_manifest.json")

    @task(pool=settings.DUCKDB_POOL, **BLOB_RETRIES)
    def publish_output_port(logical_date=None, dag_run=None) -> dict:
        from include.output_port import publish
        from include.pipeline.dbt import release_dbt_duckdb
        from include.pipeline.landing import retry_only_storage_errors
        from include.pipeline.report_sections import record_output_port

        release_dbt_duckdb()
        day = _day(logical_date, dag_run)
        with retry_only_storage_errors():
            result = publish(settings.duckdb_path(), dag_run.run_id, day.isoformat())
        record_output_port(day, dag_run.run_id, result)
        return result

    @task(pool=settings.DUCKDB_POOL)
    def publish_serving_copy(quality: dict, logical_date=None, dag_run=None) -> dict:
        from include import serving

        copy = serving.publish(settings.duckdb_path(), dag_run.run_id, _day(logical_date, dag_run), quality,
                               manifest_path=settings.dbt_manifest_path())
        return copy.as_dict()

    @task(pool=settings.DUCKDB_POOL, outlets=product.assets())
    def publish_data_product(logical_date=None, dag_run=None, outlet_events=None) -> dict:
        from include.pipeline.product import publish

        return publish(_day(logical_date, dag_run), dag_run.run_id, outlet_events)

    # first into the pool once the marts are built: the catalog step waits for it alone, and then runs
    # outside the pool while the serving side takes its turns
    @task(pool=settings.DUCKDB_POOL, priority_weight=1000, weight_rule="absolute")
    def publish_dbt_docs() -> str:
        from include.pipeline.dbt import publish_docs

        return str(publish_docs())

    @task(retries=2, retry_delay=timedelta(minutes=1), retry_exponential_backoff=True)
    def publish_catalog(logical_date=None, dag_run=None, dag=None) -> dict:
        from include.catalog.launcher import push_to_catalog
        from include.pipeline.dbt import merge_run_results
        from include.pipeline.freshness import result_path

        docs, day = settings.dbt_docs_dir(), _day(logical_date, dag_run)
        return push_to_catalog(manifest=docs / "manifest.json", catalog=docs / "catalog.json",
                               run_results=merge_run_results(dag_run.run_id),
                               quality_json=settings.reports_dir() / "quality" / day.isoformat(),
                               freshness_json=result_path(day, dag_run.run_id), dag=dag)

    # its failure marks a run with warnings, not a failed task: no "FSDP task FAILED" line for it
    @task(trigger_rule="all_done", on_failure_callback=None)
    def quality_warnings(ti=None, dag_run=None, logical_date=None) -> str:
        from include.pipeline.reporting import flag_warnings

        return flag_warnings(ti, dag_run, _day(logical_date, dag_run))

    @task(pool=settings.DUCKDB_POOL, trigger_rule="all_done")
    def run_report(ti=None, dag_run=None, logical_date=None, params=None) -> str:
        from include.pipeline.reporting import write_run_report

        return write_run_report(ti, dag_run, _day(logical_date, dag_run), dict(params or {}))

    run = start_run()
    landed = landing_inventory()
    freshness = source_freshness()
    dbt = dbt_task_group("dbt", exclude=["tag:marketplace"])
    marketplace = dbt_task_group("marketplace", select=["tag:marketplace"])
    gate = quality_gate()
    catalog = publish_catalog()
    run >> land_mock_data() >> landed >> freshness >> dbt >> gate >> marketplace
    # two branches after the marts: the docs and the catalog (which reads no warehouse, only the docs'
    # files, and is the longest step of a small day) run while the serving side publishes
    served = (marketplace >> apply_role_views() >> semantic_layer() >> publish_output_port()
              >> publish_serving_copy(gate) >> publish_data_product())
    marketplace >> publish_dbt_docs() >> catalog
    # teardowns: they run whatever happened upstream and never decide the run's state; the lease's
    # end_run is the last of them, so nothing of this run touches the warehouse after it is released
    warnings = quality_warnings().as_teardown()
    [gate, freshness] >> warnings
    report = run_report().as_teardown()
    # and after every dbt task: a failed one makes what follows its group upstream_failed at once,
    # while the group's other tasks (a retry, another branch) still run
    [catalog, served, warnings, group_done(dbt), group_done(marketplace)] >> report
    report >> end_run(run)


def _day(logical_date, dag_run):
    """The run's date: its logical date, or run_after for runs triggered without one."""
    return (logical_date or dag_run.run_after).date()


fsdp_daily()
