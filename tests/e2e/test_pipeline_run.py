"""End to end: the README's run command (scripts/run.sh: `airflow dags test fsdp_daily`, then the
product health check) against a real Azurite and a DuckDB file, with the webhook alert channel
pointed at a local fake receiver; asserts on the product tables, the role views, the assets and
their extras, the docs, the run report, the run's note and task logs, and the printed report.

The run lands enough extra bad customer rows for the rejected_share check to warn: the run must
succeed, marked with warnings."""
from __future__ import annotations

import json
import re
import shutil
import socket
import sqlite3
from pathlib import Path

import pytest

from tests.conftest import AzuriteProcess
from tests.e2e import harness
from tests.pipeline.fake_receivers import FakeHTTP

pytestmark = [pytest.mark.azurite, pytest.mark.integration]

DAY = "2026-03-02"
ROWS, BAD_ROWS = 300, 60
PRODUCT = ["customer_overview_dp", "account_dp", "product_dp", "transaction_dp"]
PORT = PRODUCT + ["campaign_event_dp"]      # the output port's tables (include/pipeline/product.py)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def pipeline_run(tmp_path_factory):
    """One full run of scripts/run.sh on its own Azurite (the DAG lands into the default
    `landing` container, which must hold only this run's files)."""
    tmp = tmp_path_factory.mktemp("e2e")
    azurite = AzuriteProcess(tmp / "azurite", _free_port())
    (tmp / "azurite").mkdir()
    azurite.start()
    env = harness.isolated_env(tmp, azurite.connection_string)
    env["AZURITE_BLOB_PORT"] = str(azurite.port)  # scripts/lib.sh finds it up and starts none
    env["FSDP_BLOB_RETRIES"] = "1"
    env["FSDP_LOG_DIR"] = str(tmp / "logs")
    with FakeHTTP() as receiver:
        env["FSDP_ALERT_CHANNELS"] = "log,webhook"
        env["FSDP_ALERT_WEBHOOK_ENDPOINT"] = "/alerts"
        env["AIRFLOW_CONN_FSDP_ALERTS_WEBHOOK"] = json.dumps(
            {"conn_type": "http", "host": "127.0.0.1", "port": receiver.port, "schema": "http"})
        proc = harness.run(["scripts/run.sh", "--date", DAY, "--rows", str(ROWS), "--bad-rows", str(BAD_ROWS)],
                           env, timeout=2700, check=False)  # 8 min quiet; 20+ min at load average 14
    yield {"env": env, "proc": proc, "tmp": tmp, "azurite": azurite, "alerts": receiver.requests}
    azurite.stop()
    shutil.rmtree(tmp / "azurite", ignore_errors=True)


def _query(env, sql: str):
    import duckdb

    with duckdb.connect(env["FSDP_DUCKDB_PATH"], read_only=True) as con:
        return con.execute(sql).fetchall()


def _report(env) -> dict:
    [path] = (Path(env["FSDP_REPORTS_DIR"]) / "runs" / DAY).glob("*.json")
    return json.loads(path.read_text())


def test_the_run_succeeds_with_warnings_and_prints_the_run_report(pipeline_run):
    proc = pipeline_run["proc"]
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    out = proc.stdout
    assert f"fsdp_daily {DAY}: SUCCESS WITH WARNINGS" in out
    # landed, refused, copies, new in raw, accepted, rejected
    assert re.search(r"^\s+customers" + r"\s+[\d,]+" * 6 + "$", out, re.M), out
    assert "landing ledger:" in out and "0 refused" in out
    assert "quality gate: WARN" in out and "rejected_share" in out
    assert "dbt tests:" in out and "failed" not in out.split("dbt tests:")[1].splitlines()[0]
    assert "product health: WARN degraded" in out
    assert pipeline_run["env"]["FSDP_DUCKDB_PATH"] in out
    assert pipeline_run["env"]["FSDP_DBT_DOCS_DIR"] in out


def test_the_run_report_is_kept_per_run_with_every_section(pipeline_run):
    report = _report(pipeline_run["env"])
    assert report["dag_id"] == "fsdp_daily" and report["logical_date"] == DAY and report["state"] == "success"
    assert report["verdict"] == "success_with_warnings"
    assert set(report["sections"]) >= {"tasks", "run_state", "entities", "failed_rules", "quality", "freshness",
                                       "output_port", "retries", "product_health", "locations"}
    # Regression: `airflow dags test` records the logical date as the start: a 5-minute run lasted 20 h
    assert 10 < report["duration_s"] < 1800, report["duration_s"]
    assert not report["started_at"].startswith(f"{DAY}T00:00:00")
    tasks = report["sections"]["tasks"]
    assert tasks["failed"] == [] and tasks["counts"]["success"] > 20
    assert report["sections"]["quality"]["status"] == "warn"
    rules = report["sections"]["failed_rules"]["rules"]["customers"]
    assert rules and all(n > 0 for _, n in rules)
    assert report["sections"]["product_health"]["verdict"] == "degraded"
    # the landing is minutes old: fresh (customer_updates has never landed on the first day)
    fresh = {s["table"]: s["status"] for s in report["sections"]["freshness"]["sources"]}
    assert fresh["customers"] == "pass" and fresh["customer_updates"] == "never landed"


def test_the_run_is_marked_with_warnings_without_failing(pipeline_run):
    db = Path(pipeline_run["env"]["AIRFLOW_HOME"]) / "airflow.db"
    with sqlite3.connect(db) as con:
        (run_id, state, note), = con.execute(
            "select r.run_id, r.state, n.content from dag_run r left join dag_run_note n on n.dag_run_id = r.id "
            "where r.dag_id = 'fsdp_daily'").fetchall()
        states = dict(con.execute("select task_id, state from task_instance where dag_id = 'fsdp_daily' "
                                  "and run_id = ?", [run_id]).fetchall())
    assert state == "success"
    assert states["quality_warnings"] == "failed" and states["run_report"] == "success"
    assert note.startswith("Success with warnings") and "rejected_share" in note


def test_the_warning_alert_reaches_the_webhook(pipeline_run):
    events = [r["json"]["event"] for r in pipeline_run["alerts"]]
    assert events == ["quality_warnings"], pipeline_run["alerts"]
    alert = pipeline_run["alerts"][0]["json"]
    assert alert["dag_id"] == "fsdp_daily" and alert["logical_date"] == DAY and "rejected_share" in alert["text"]


def test_every_task_has_its_log_file_for_the_ui(pipeline_run):
    logs = Path(pipeline_run["env"]["AIRFLOW_HOME"]) / "logs" / "dag_id=fsdp_daily"
    files = list(logs.glob("run_id=*/task_id=*/attempt=*.log"))
    assert len(files) > 20
    land = next(logs.glob("run_id=*/task_id=land_mock_data/attempt=1.log")).read_text()
    assert "land_mock_data" in land and "dbt.customer_overview_raw" not in land


def test_task_logs_hold_no_sdk_http_dumps_or_deprecation_warnings_of_our_imports(pipeline_run):
    logs = Path(pipeline_run["env"]["AIRFLOW_HOME"]) / "logs" / "dag_id=fsdp_daily"
    for path in logs.glob("run_id=*/task_id=*/attempt=*.log"):
        body = path.read_text()
        assert "Request URL:" not in body and "Response headers:" not in body, path
        assert "AirflowSkipException is deprecated" not in body, path


def test_every_product_table_is_built_with_rows(pipeline_run):
    env = pipeline_run["env"]
    for table in PRODUCT:
        assert _query(env, f"select count(*) from fs_accelerator.{table}")[0][0] > 0, table


def test_landed_customers_are_accepted_or_rejected_and_bad_rows_are_rejected(pipeline_run):
    env = pipeline_run["env"]
    report = _report(env)["sections"]["entities"]
    customers = report["entities"]["customers"]
    assert customers["landed"] == ROWS + BAD_ROWS
    assert customers["accepted"] + customers["rejected"] == customers["raw"]
    assert customers["rejected"] > 0
    dp = _query(env, "select count(*), count(distinct cust_id) from fs_accelerator.customer_overview_dp")[0]
    assert dp[0] == dp[1] == customers["accepted"]
    assert report["product_tables"]["fs_accelerator.customer_overview_dp"] == dp[0]


def test_the_serving_copy_is_published_without_clear_pii(pipeline_run):
    from include import serving

    env = pipeline_run["env"]
    copy = serving.current(env["FSDP_SERVING_DIR"])
    assert copy is not None and copy.logical_date == DAY and copy.quality["status"].startswith("passed")
    import duckdb

    with duckdb.connect(str(copy.path), read_only=True) as con:
        hashed = con.execute("select count(*) filter (where length(cust_first_name) = 64), "
                             "count(cust_first_name) from fs_accelerator.customer_overview_dp").fetchone()
    assert hashed[0] == hashed[1] > 0
    clear = _query(env, "select count(*) from fs_accelerator.customer_overview_dp where cust_first_name is not null")
    assert clear[0][0] == hashed[1]


def test_role_views_are_applied(pipeline_run):
    views = {r[0] for r in _query(pipeline_run["env"],
                                  "select schema_name from duckdb_views() where view_name = 'customer_overview_dp'")}
    assert "role_pii_reader" in views and "role_public" in views


def test_publish_updates_an_asset_event_per_product_table_with_rows_and_quality(pipeline_run):
    db = Path(pipeline_run["env"]["AIRFLOW_HOME"]) / "airflow.db"
    with sqlite3.connect(db) as con:
        events = {uri: json.loads(extra) for uri, extra in con.execute(
            "select a.uri, e.extra from asset_event e join asset a on a.id = e.asset_id")}
    assert {f"duckdb://fsdp/fs_accelerator/{t}" for t in PRODUCT} <= set(events)
    customers = events["duckdb://fsdp/fs_accelerator/customer_overview_dp"]
    assert customers["rows"] > 0 and customers["logical_date"] == DAY
    assert customers["quality_status"] == "warn" and customers["quality"]["warn"] >= 1


def test_dbt_docs_are_published_for_the_ui(pipeline_run):
    docs = Path(pipeline_run["env"]["FSDP_DBT_DOCS_DIR"])
    for name in ("index.html", "manifest.json", "catalog.json"):
        assert (docs / name).stat().st_size > 0, name
    catalog = json.loads((docs / "catalog.json").read_text())
    assert any(k.endswith("customer_overview_dp") for k in catalog["nodes"])


def test_the_health_check_gives_its_verdict_for_the_publishing_run(pipeline_run):
    env = pipeline_run["env"]
    [path] = (Path(env["FSDP_REPORTS_DIR"]) / "product_health" / DAY).glob("*.json")
    report = json.loads(path.read_text())
    assert report["verdict"] == "degraded"
    assert any("quality warnings" in p or "rejected share" in p for p in report["problems"])
    assert report["triggered_by"] == [_report(env)["run_id"]]
    assert report["tables"]["fs_accelerator.customer_overview_dp"]["rows"] > 0


def test_the_output_port_equals_the_warehouse_and_holds_no_clear_pii(pipeline_run):
    from include.blob_storage import open_store
    from include.output_port import status
    from include.output_port.reader import read_table

    env = pipeline_run["env"]
    store = open_store(env["AZURE_STORAGE_CONNECTION_STRING"])
    section = _report(env)["sections"]["output_port"]
    assert section["status"] == "ok"
    port = section["ports"]["curated"]
    assert {t: r["status"] for t, r in port["tables"].items()} == {t: "created" for t in PORT}
    assert port["audience"] == ["roles:id:dob-bucketing"]
    # reconciled against the warehouse, file by file and row checksum by row checksum
    import os

    from include.output_port.ports import ports

    saved = dict(os.environ)
    try:
        os.environ.update({k: env[k] for k in ("AZURE_STORAGE_CONNECTION_STRING", "FSDP_DBT_TARGET_DIR")})
        result = status(env["FSDP_DUCKDB_PATH"], content=True, ports_=ports({}))["curated"]
    finally:
        os.environ.clear()
        os.environ.update(saved)
    assert {t: s["problems"] for t, s in result.items()} == {t: [] for t in PORT}
    emails = {e for (e,) in _query(env, "select email_addr from fs_accelerator.customer_overview_dp")}
    con = read_table(store, "curated", "customer_overview_dp", pipeline_run["tmp"] / "read")
    published = {e for (e,) in con.execute("select email_addr from t").fetchall()}
    assert len(published) == len(emails) and not published & emails


def test_the_run_is_recorded_complete_in_the_warehouse_and_its_report(pipeline_run):
    env = pipeline_run["env"]
    (status, dag_id), = _query(env, "select status, dag_id from ops.pipeline_runs")
    assert (status, dag_id) == ("complete", "fsdp_daily")
    sections = _report(env)["sections"]
    assert sections["run_state"]["run_log"] == "complete" and not sections["run_state"].get("died")
    assert sections["tasks"]["failed"] == [] and sections["retries"]["systems"] == {}
    out = pipeline_run["proc"].stdout
    assert "retries: none (no storage or catalog call was retried)" in out
    assert "run state: run log: complete" in out
    assert "output port: curated (audience roles:id:dob-bucketing): customer_overview_dp created" in out
    assert not Path(f"{env['FSDP_DUCKDB_PATH']}.run.json").exists()      # the lease was released
    latest = Path(env["FSDP_LOG_DIR"]) / f"pipeline-{DAY}.log"
    assert latest.is_symlink() and latest.resolve().name.startswith(f"pipeline-{DAY}-")
