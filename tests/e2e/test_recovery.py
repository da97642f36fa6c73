"""Crash and outage, end to end: the README's run command (scripts/run.sh) on its own Azurite and
DuckDB file, one run and a half (the suite's time budget).

1. The first run is killed with SIGKILL (the whole process group: run.sh, the lease holder,
   Airflow) in the middle of dbt: nothing records anything; the summary must still say DIED, not
   RUNNING.
2. The rerun of that date finds the dead run and records it (Airflow DagRun failed, warehouse run
   log ``died``, the date's report) and repairs the warehouse; while it publishes the output port,
   storage goes away for 40 s (Azurite stopped for real): the calls' retries and the task's retries
   absorb it, or the run fails, and either way the report counts the retries. Afterwards the
   output port equals the warehouse, raw = accepted + rejected everywhere, both runs' logs are kept.
"""
from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import threading
import time
from pathlib import Path

import pytest

from include.pipeline import run_report
from tests.conftest import AzuriteProcess, _free_port
from tests.e2e import harness

pytestmark = [pytest.mark.azurite, pytest.mark.integration, harness.long_scenario("a killed run, then its rerun through a storage outage")]

CRASH_DAY = "2026-04-02"
ROWS = 100


def _start(args: list[str], env: dict) -> subprocess.Popen:
    return subprocess.Popen(["scripts/run.sh", *args], cwd=harness.ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, start_new_session=True)


def _wait_for_line(log_dir: Path, day: str, needle: str, proc: subprocess.Popen, timeout: float = 900) -> None:
    deadline = time.monotonic() + timeout
    link = log_dir / f"pipeline-{day}.log"
    while time.monotonic() < deadline:
        if link.exists() and needle in link.read_text(errors="replace"):
            return
        if proc.poll() is not None:
            raise AssertionError(f"run ended before `{needle}`: {proc.stdout.read()[-3000:]}{proc.stderr.read()[-3000:]}")
        time.sleep(0.5)
    raise AssertionError(f"`{needle}` did not appear in {link}")


def _port_status(env: dict) -> dict:
    code = ("import json, sys; from include.output_port import status; "
            "print(json.dumps({t: s['problems'] for t, s in status(content=True)['curated'].items()}))")
    out = harness.run([str(harness.PYTHON), "-c", code], env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def _summary(env: dict, day: str) -> subprocess.CompletedProcess:
    return harness.run([str(harness.PYTHON), "-m", "include.pipeline.summary", "--date", day], env, check=False)


def _query(env, sql: str):
    import duckdb

    with duckdb.connect(env["FSDP_DUCKDB_PATH"], read_only=True) as con:
        return con.execute(sql).fetchall()


@pytest.fixture(scope="module")
def scenario(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("recovery")
    (tmp / "azurite").mkdir()
    azurite = AzuriteProcess(tmp / "azurite", _free_port())
    azurite.start()
    env = harness.isolated_env(tmp, azurite.connection_string)
    env.update({"AZURITE_BLOB_PORT": str(azurite.port), "FSDP_LOG_DIR": str(tmp / "logs"),
                # call-level retries give up after ~13 s, so a 40 s outage also exercises the task's retries
                "FSDP_BLOB_RETRIES": "2", "FSDP_BLOB_BACKOFF": "0.5"})
    out: dict = {"env": env, "tmp": tmp, "azurite": azurite}
    try:
        # 1. SIGKILL in the middle of dbt
        run = _start(["--date", CRASH_DAY, "--rows", str(ROWS), "--bad-rows", "5"], env)
        # dbt's own line, in the producer's one `dbt build` (watcher mode) as in the model's task (local)
        _wait_for_line(tmp / "logs", CRASH_DAY, "START sql incremental model main.int_customers_validated", run)
        time.sleep(2)
        os.killpg(run.pid, signal.SIGKILL)
        run.wait(60)
        out["crash"] = {"code": run.returncode, "summary": _summary(env, CRASH_DAY),
                        "log": (tmp / "logs" / f"pipeline-{CRASH_DAY}.log").resolve()}
        # 2. the rerun of the date, with storage away for 40 s while the output port publishes
        run = _start(["--date", CRASH_DAY, "--skip-generation"], env)
        _wait_for_line(tmp / "logs", CRASH_DAY, "starting task_id=publish_output_port", run)
        azurite.stop()
        stopped = time.monotonic()
        restart = threading.Thread(target=lambda: (time.sleep(max(0, 40 - (time.monotonic() - stopped))),
                                                   azurite.start()), daemon=True)
        restart.start()
        stdout, stderr = run.communicate(timeout=1500)
        restart.join()
        out["rerun"] = {"code": run.returncode, "stdout": stdout, "stderr": stderr,
                        "report": _rerun_report(env),
                        "log": (tmp / "logs" / f"pipeline-{CRASH_DAY}.log").resolve()}
        if run.returncode != 0:        # the outage outlasted every retry: the next run heals the port
            heal = _start(["--date", CRASH_DAY, "--skip-generation"], env)
            out["heal"] = {"stdout": heal.communicate(timeout=1500)[0], "code": heal.returncode}
        out["port"] = _port_status(env)
        yield out
    finally:
        azurite.stop(graceful=False)


def _rerun_report(env) -> dict:
    """The report of the date's latest run that did not die (one report per run: the dead run's
    is kept beside it)."""
    reports = [json.loads(p.read_text()) for p in (Path(env["FSDP_REPORTS_DIR"]) / "runs" / CRASH_DAY).glob("*.json")]
    return sorted((r for r in reports if r.get("verdict") != "died"), key=lambda r: r.get("started_at") or "")[-1]


def test_a_run_killed_in_the_middle_of_dbt_is_shown_as_died_not_running(scenario):
    crash = scenario["crash"]
    assert crash["code"] == -signal.SIGKILL
    summary = crash["summary"]
    assert summary.returncode == 1 and summary.stdout.strip(), summary.stdout[-2000:] + summary.stderr[-3000:]
    first_line = summary.stdout.splitlines()[0]
    assert first_line.startswith(f"fsdp_daily {CRASH_DAY}: DIED"), summary.stdout
    assert "RUNNING" not in summary.stdout
    assert "scripts/run.sh --date 2026-04-02 --full-refresh" in summary.stdout


def test_the_rerun_records_the_dead_run_repairs_the_warehouse_and_keeps_both_logs(scenario):
    env, rerun, crash = scenario["env"], scenario["rerun"], scenario["crash"]
    out = rerun["stdout"]
    assert f"previous run of this date manual__" in out and ": DIED (died: its process is gone" in out
    assert "repaired: run manual__" in out
    report = rerun["report"]
    state = report["sections"]["run_state"]
    dead_run = state["previous_run"]["run_id"]
    assert state["previous_run"]["status"] == "died" and state["repairing"][0]["run_id"] == dead_run
    # the dead run keeps its own report, which says it died and what to run
    dead = json.loads((Path(env["FSDP_REPORTS_DIR"]) / "runs" / CRASH_DAY / f"{run_report.file_name(dead_run)}.json")
                      .read_text())
    assert dead["verdict"] == "died" and "--full-refresh" in dead["sections"]["run_state"]["died"]["repair"]
    # Airflow: the dead DagRun was set to failed, not left running (`airflow dags test` of the same
    # date then replaces it with the new run)
    assert f"Airflow: DagRun {dead_run} of fsdp_daily set to failed" in rerun["stderr"]
    with sqlite3.connect(Path(env["AIRFLOW_HOME"]) / "airflow.db") as con:
        states = dict(con.execute("select run_id, state from dag_run where dag_id = 'fsdp_daily'").fetchall())
    assert "running" not in states.values()
    # the warehouse's own run log
    log = {r[0]: r[1:] for r in _query(env, "select run_id, status, repaired_by from ops.pipeline_runs")}
    assert log[dead_run] == ("died", report["run_id"])
    # both runs' logs are kept
    assert crash["log"] != rerun["log"] and crash["log"].exists() and rerun["log"].exists()


def test_the_storage_outage_is_counted_and_never_reported_as_success_with_a_short_port(scenario):
    rerun = scenario["rerun"]
    report = rerun["report"]
    storage = report["sections"]["retries"]["systems"]["storage"]
    assert storage["retries"] >= 1, report["sections"]["retries"]
    assert "publish_output_port" in storage["tasks"]
    assert "retries: storage " in rerun["stdout"]
    if rerun["code"] == 0:       # absorbed: a success only with the port equal to the warehouse
        assert report["state"] == "success" and f"fsdp_daily {CRASH_DAY}: SUCCESS" in rerun["stdout"]
    else:                        # not absorbed: FAILED, never SUCCESS; the next run healed the port
        assert report["verdict"] == "failed" and "publish_output_port" in report["sections"]["tasks"]["failed"]
        assert scenario["heal"]["code"] == 0
    (status,), = _query(scenario["env"], f"select status from ops.pipeline_runs where run_id = '{report['run_id']}'")
    assert status == ("complete" if rerun["code"] == 0 else "failed")


def test_after_the_rerun_nothing_is_lost_or_duplicated(scenario):
    env = scenario["env"]
    assert scenario["port"] == {t: [] for t in scenario["port"]}            # the port equals the warehouse
    for raw, validated, rejected in (
            ("customer_overview_raw", "int_customers_validated", "customer_overview_rejected"),
            ("account_raw", "int_accounts_validated", "account_rejected"),
            ("transaction_raw", "int_transactions_validated", "transaction_rejected")):
        (n_raw,), = _query(env, f"select count(*) from fs_accelerator.{raw}")
        (n_ok,), = _query(env, f"select count(*) from main.{validated} where is_valid")
        (n_bad,), = _query(env, f"select count(*) from fs_accelerator.{rejected}")
        assert n_raw == n_ok + n_bad, raw
    (dups,), = _query(env, "select count(*) - count(distinct txn_id) from fs_accelerator.transaction_dp")
    assert dups == 0
    # every landed transaction is accounted for
    landed = _rerun_report(env)["sections"]["entities"]["entities"]["transactions"]["landed"]
    (n_raw,), = _query(env, "select count(*) from fs_accelerator.transaction_raw")
    assert n_raw == landed
