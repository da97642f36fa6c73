"""The warehouse's own run log and the run report: a run that died is recorded as died (not
running), the next run says it repairs it, and the report of a date keeps the death."""
from __future__ import annotations

import json

import duckdb
import pytest

from include.pipeline import runstate
from include.pipeline.runlock import Lease


@pytest.fixture
def env(tmp_path, monkeypatch):
    monkeypatch.setenv("FSDP_DUCKDB_PATH", str(tmp_path / "warehouse" / "fsdp.duckdb"))
    monkeypatch.setenv("FSDP_REPORTS_DIR", str(tmp_path / "reports"))
    return tmp_path


def _log(env):
    with duckdb.connect(str(env / "warehouse" / "fsdp.duckdb"), read_only=True) as con:
        return {r[0]: r[1:] for r in con.execute(
            "select run_id, status, repaired_by, detail from ops.pipeline_runs").fetchall()}


def test_the_warehouse_records_which_run_last_built_it_completely(env):
    runstate.begin("run-1", "fsdp_daily", "2026-03-01")
    runstate.finish("run-1", "complete")
    state = runstate.begin("run-2", "fsdp_daily", "2026-03-02")
    assert state["last_complete"]["run_id"] == "run-1" and state["repairing"] == []
    runstate.finish("run-2", "failed")
    with duckdb.connect(str(env / "warehouse" / "fsdp.duckdb"), read_only=True) as con:
        runs = runstate.warehouse_runs(con)
    assert runs["last_complete"]["run_id"] == "run-1"          # a failed run is not a complete build
    assert [r["status"] for r in runs["latest"]] == ["failed", "complete"]


def test_a_run_left_building_is_died_and_the_next_run_repairs_it(env):
    runstate.begin("run-1", "fsdp_daily", "2026-03-01")          # then SIGKILL: no finish
    state = runstate.begin("run-2", "fsdp_daily", "2026-03-02")
    assert state["repairing"] == [{"run_id": "run-1", "logical_date": "2026-03-01"}]
    log = _log(env)
    assert log["run-1"][:2] == ("died", "run-2")
    assert "found by run run-2" in log["run-1"][2]
    assert log["run-2"][0] == "building"
    # a retry of run-2's first task repairs nothing twice
    assert runstate.begin("run-2", "fsdp_daily", "2026-03-02")["repairing"] == []


def test_a_died_run_is_recorded_in_its_report_and_the_next_run_of_the_date_keeps_it(env):
    runstate.update_report("2026-03-02", "run-1", status="running")
    lease = Lease(token="t", kind="process", run_id="run-1", dag_id="fsdp_daily", logical_date="2026-03-02")
    runstate.handle_died(lease, "its process is gone", found_by="scripts/run.sh --date 2026-03-02")
    report = json.loads((env / "reports" / "runs" / "2026-03-02.json").read_text())
    assert report["status"] == "died" and report["run_id"] == "run-1"
    assert report["died"]["detail"] == "died: its process is gone (found by scripts/run.sh --date 2026-03-02)"
    assert "scripts/run.sh --date 2026-03-02 --full-refresh" in report["died"]["repair"]
    assert _log(env)["run-1"][0] == "died"
    # the rerun of the date owns the report from now on and says what came before it
    runstate.update_report("2026-03-02", "run-2", status="running")
    report = json.loads((env / "reports" / "runs" / "2026-03-02.json").read_text())
    assert report["run_id"] == "run-2" and report["previous_run"]["status"] == "died"
    assert report["previous_run"]["run_id"] == "run-1"
    runstate.update_report("2026-03-02", "run-2", status="success", retries={})
    report = json.loads((env / "reports" / "runs" / "2026-03-02.json").read_text())
    assert report["status"] == "success" and report["previous_run"]["run_id"] == "run-1"


def test_a_complete_run_is_never_turned_into_a_died_one(env):
    runstate.begin("run-1", "fsdp_daily", "2026-03-01")
    runstate.finish("run-1", "complete")
    runstate.mark_died("run-1", "fsdp_daily", "2026-03-01", "died: late report")
    assert _log(env)["run-1"][0] == "complete"
