"""Unit tests of the pipeline's pure functions: the per-entity counts, the failure line, the retry
policy of blob I/O and the embedded Airflow environment."""
from __future__ import annotations

import json
from datetime import date, datetime, timezone
from types import SimpleNamespace

import duckdb
import pytest

from include.blob_storage import StorageUnavailable
from include.pipeline import callbacks, embedded, landing, summary


def test_entity_counts_split_new_raw_rows_into_accepted_and_rejected_for_the_day():
    con = duckdb.connect()
    con.execute("create schema fs_accelerator")
    con.execute("create table fs_accelerator.customer_overview_raw as select * from (values "
                "('customers', date '2026-01-02'), ('customers', date '2026-01-02'), ('customers', date '2026-01-02'),"
                "('customer_updates', date '2026-01-02'), ('customers', date '2026-01-01')) t(_landing_entity, _landed_date)")
    con.execute("create table fs_accelerator.customer_overview_rejected as select * from (values "
                "('customers', date '2026-01-02')) t(_landing_entity, _landed_date)")
    counts = summary.entity_counts(con, date(2026, 1, 2), {"customers": 4})
    assert counts["customers"] == {"landed": 4, "raw": 3, "accepted": 2, "rejected": 1}
    assert counts["customer_updates"] == {"landed": None, "raw": 1, "accepted": 1, "rejected": 0}
    # Regression: a model that does not exist yet is reported as unknown, not as zero rows
    assert counts["transactions"] == {"landed": None, "raw": None, "accepted": None, "rejected": None}


def test_an_empty_campaign_table_does_not_stop_the_publication_but_an_empty_product_table_does():
    from include.pipeline import product

    # Regression: a small customer base can go a day without campaign events (and starts without any)
    counts = {t.relation: 5 for t in product.PRODUCT_TABLES}
    assert product.problems({**counts, "fs_accelerator.campaign_event_dp": 0}) == []
    assert product.problems({**counts, "fs_accelerator.transaction_dp": 0}) == ["fs_accelerator.transaction_dp is empty"]
    assert product.problems({**counts, "fs_accelerator.campaign_event_dp": None}) == [
        "fs_accelerator.campaign_event_dp is missing"]


def test_failure_summary_is_one_line_naming_dag_run_task_try_and_reason():
    ti = SimpleNamespace(task_id="dbt.stg_customers.run", try_number=2, max_tries=1, log_url="http://x/log")
    line = callbacks.failure_summary({
        "dag": SimpleNamespace(dag_id="fsdp_daily"), "run_id": "manual__1", "ti": ti, "reason": "task_failure",
        "logical_date": datetime(2026, 1, 2, tzinfo=timezone.utc),
        "dag_run": SimpleNamespace(run_id="manual__1", conf={"rows": 5})})
    assert "\n" not in line
    assert line.startswith("FSDP run FAILED: dag=fsdp_daily")
    for part in ("run_id=manual__1", "logical_date=2026-01-02", "failed_task=dbt.stg_customers.run (try 2 of 2)",
                 "reason=task_failure", "log=http://x/log"):
        assert part in line


def test_failure_callback_never_raises_on_a_minimal_context(caplog):
    callbacks.log_failure_summary({})
    assert "FSDP run FAILED" in caplog.text


def test_storage_errors_are_retried_and_bugs_fail_at_once():
    from airflow.sdk.exceptions import AirflowFailException

    with pytest.raises(StorageUnavailable):
        with landing.retry_only_storage_errors():
            raise StorageUnavailable("blob storage is unreachable")
    with pytest.raises(AirflowFailException, match="no retry"):
        with landing.retry_only_storage_errors():
            raise ValueError("bad column")


def test_embedded_env_points_airflow_at_the_repo_bundle_and_a_private_home(tmp_path):
    env = embedded.embedded_env(home=tmp_path / "af", base={"FSDP_DUCKDB_PATH": str(tmp_path / "w.duckdb")})
    embedded.prepare_home(env)
    assert env["AIRFLOW__CORE__DAGS_FOLDER"].endswith("/dags")
    assert env["AIRFLOW__CORE__LOAD_EXAMPLES"] == "False"
    assert env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"] == f"sqlite:///{tmp_path / 'af' / 'airflow.db'}"
    assert env["FSDP_DUCKDB_PATH"] == str(tmp_path / "w.duckdb")
    docs = json.loads(env["AIRFLOW__COSMOS__DBT_DOCS_PROJECTS"])["fsdp"]
    assert docs["dir"] == env["FSDP_DBT_DOCS_DIR"]
    passwords = json.loads((tmp_path / "af" / "simple_auth_manager_passwords.json").read_text())
    assert passwords == {"admin": embedded.admin_password()}
    # Regression: api-server and scheduler must share the JWT secret, or every task fails to authenticate
    secret = env["AIRFLOW__API_AUTH__JWT_SECRET"]
    embedded.prepare_home(env)
    assert env["AIRFLOW__API_AUTH__JWT_SECRET"] == secret


def test_a_task_failure_is_one_line_with_its_reason_and_the_file_it_names():
    # Regression: with three failed tasks run.sh showed one, with Python tracebacks
    class CosmosDbtRunError(Exception):
        pass

    exc = CosmosDbtRunError("dbt invocation completed with errors: transaction_raw: Runtime Error in model "
                            "transaction_raw\n  LandingChanged: abfs://landing/transactions/dt=2026-01-05/part-00000.csv "
                            "changed after it was registered\nTraceback (most recent call last):\n  File \"x.py\"")
    ti = SimpleNamespace(task_id="dbt.transaction_raw_run", try_number=2, max_tries=1, log_url=None)
    line = callbacks.task_failure_line({"ti": ti, "exception": exc})
    assert "\n" not in line and line.startswith("FSDP task FAILED: task=dbt.transaction_raw_run | try 2 of 2")
    assert "reason=transaction_raw: Runtime Error in model transaction_raw" in line
    assert "file=abfs://landing/transactions/dt=2026-01-05/part-00000.csv" in line
    assert "Traceback" not in line
    assert callbacks.reason_of(ValueError("month must be in 1..12")) == "ValueError: month must be in 1..12"
    assert callbacks.reason_of(None).startswith("unknown")


def test_the_task_failure_callback_never_raises(caplog):
    callbacks.log_task_failure({"exception": RuntimeError("x"), "ti": object()})
    callbacks.log_task_failure({})
    assert caplog.text.count(callbacks.TASK_PREFIX) == 2


def test_entity_counts_take_landed_rows_from_the_ledger_not_the_manifest():
    # Regression: the summary printed the manifest's count as "landed"
    con = duckdb.connect()
    con.execute("create schema fs_accelerator")
    con.execute("create table fs_accelerator.transaction_raw as select 'transactions' as _landing_entity, "
                "date '2026-01-02' as _landed_date from range(7)")
    con.execute("create table fs_accelerator.transaction_rejected as select 'transactions' as _landing_entity, "
                "date '2026-01-02' as _landed_date from range(2)")
    con.execute("""create table fs_accelerator.landing_ledger as select * from (values
        ('transactions', date '2026-01-02', 'part', 'accepted', 9, null, 2, 0, 7, 0),
        ('transactions', date '2026-01-02', 'part', 'refused', 4, 4, null, null, null, null),
        ('transactions', date '2026-01-02', 'manifest', 'accepted', null, null, null, null, null, null))
        t(entity, landed_date, kind, outcome, rows, refused_rows, exact_duplicates, conflicting_rows, new_rows,
          unaccounted_rows)""")
    counts = summary.entity_counts(con, date(2026, 1, 2), {"transactions": 100})["transactions"]
    assert (counts["landed"], counts["manifest"], counts["files"], counts["refused_files"]) == (13, 100, 2, 1)
    assert counts["landed"] == counts["refused_rows"] + counts["exact_duplicates"] + counts["raw"]
    assert (counts["accepted"], counts["rejected"]) == (5, 2)
