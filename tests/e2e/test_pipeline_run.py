"""End to end: the README's run command (scripts/run.sh: `airflow dags test fsdp_daily`)
against a real Azurite and a DuckDB file, then the asset-scheduled health DAG; asserts on the
product tables, the role views, the assets, the docs and the printed summary."""
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

pytestmark = [pytest.mark.azurite, pytest.mark.integration]

DAY = "2026-03-02"
ROWS, BAD_ROWS = 300, 20
PRODUCT = ["customer_overview_dp", "account_dp", "product_dp", "transaction_dp"]


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
    proc = harness.run(["scripts/run.sh", "--date", DAY, "--rows", str(ROWS), "--bad-rows", str(BAD_ROWS)],
                       env, timeout=900, check=False)
    yield {"env": env, "proc": proc, "tmp": tmp, "azurite": azurite}
    azurite.stop()
    shutil.rmtree(tmp / "azurite", ignore_errors=True)


def _query(env, sql: str):
    import duckdb

    with duckdb.connect(env["FSDP_DUCKDB_PATH"], read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_run_succeeds_and_prints_the_summary(pipeline_run):
    proc = pipeline_run["proc"]
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    out = proc.stdout
    assert f"fsdp_daily {DAY}: SUCCESS" in out
    # files, landed, refused, copies, new in raw, accepted, rejected
    assert re.search(r"^\s+customers" + r"\s+[\d,]+" * 7 + "$", out, re.M), out
    assert "checks, dbt tests:" in out and "failed" not in out.split("checks, dbt tests:")[1].splitlines()[0]
    assert pipeline_run["env"]["FSDP_DUCKDB_PATH"] in out
    assert pipeline_run["env"]["FSDP_DBT_DOCS_DIR"] in out


def test_every_product_table_is_built_with_rows(pipeline_run):
    env = pipeline_run["env"]
    for table in PRODUCT:
        assert _query(env, f"select count(*) from fs_accelerator.{table}")[0][0] > 0, table


def test_landed_customers_are_accepted_or_rejected_and_bad_rows_are_rejected(pipeline_run):
    env = pipeline_run["env"]
    report = json.loads((Path(env["FSDP_REPORTS_DIR"]) / "runs" / f"{DAY}.json").read_text())
    customers = report["entities"]["customers"]
    assert customers["landed"] == ROWS + BAD_ROWS
    assert customers["accepted"] + customers["rejected"] == customers["raw"]
    assert customers["rejected"] > 0
    dp = _query(env, "select count(*), count(distinct cust_id) from fs_accelerator.customer_overview_dp")[0]
    assert dp[0] == dp[1] == customers["accepted"]
    assert report["product_tables"]["fs_accelerator.customer_overview_dp"] == dp[0]


def test_role_views_are_applied(pipeline_run):
    views = {r[0] for r in _query(pipeline_run["env"],
                                  "select schema_name from duckdb_views() where view_name = 'customer_overview_dp'")}
    assert "role_pii_reader" in views and "role_public" in views


def test_publish_updates_an_asset_event_per_product_table(pipeline_run):
    db = Path(pipeline_run["env"]["AIRFLOW_HOME"]) / "airflow.db"
    with sqlite3.connect(db) as con:
        uris = {r[0] for r in con.execute(
            "select a.uri from asset_event e join asset a on a.id = e.asset_id")}
    assert {f"duckdb://fsdp/fs_accelerator/{t}" for t in PRODUCT} <= uris


def test_dbt_docs_are_published_for_the_ui(pipeline_run):
    docs = Path(pipeline_run["env"]["FSDP_DBT_DOCS_DIR"])
    for name in ("index.html", "manifest.json", "catalog.json"):
        assert (docs / name).stat().st_size > 0, name
    catalog = json.loads((docs / "catalog.json").read_text())
    assert any(k.endswith("customer_overview_dp") for k in catalog["nodes"])


def test_the_health_dag_reports_a_healthy_product(pipeline_run):
    env = pipeline_run["env"]
    harness.run([str(harness.BIN / "airflow"), "dags", "test", "fsdp_product_health", DAY], env, timeout=300)
    reports = list((Path(env["FSDP_REPORTS_DIR"]) / "product_health").glob("*.json"))
    assert reports
    report = json.loads(reports[0].read_text())
    assert report["status"] == "healthy"
    assert report["tables"]["fs_accelerator.customer_overview_dp"]["rows"] > 0
