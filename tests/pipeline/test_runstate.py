"""The warehouse's own run log and the run report's run_state section: a run that died is recorded
as died (not running), the next run says it repairs it, and the dead run's report keeps the death."""
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


def _report(env, run_id):
    return json.loads((env / "reports" / "runs" / "2026-03-02" / f"{run_id}.json").read_text())


def test_a_died_run_is_recorded_in_its_report_and_the_next_run_of_the_date_says_so(env):
    """The run_state section of the run report (include/pipeline/report_sections.py): one report
    per run, the dead run's own says DIED, the rerun's says what it repaired and what came before."""
    from datetime import date

    from include.pipeline import run_report
    from include.pipeline.runlock import RunLock

    day = date(2026, 3, 2)
    runstate.begin("run-1", "fsdp_daily", "2026-03-02")          # no live holder of the lease: as after SIGKILL
    run_report.refresh("fsdp_daily", "run-1", day, ["run_state"])
    report = _report(env, "run-1")
    assert report["verdict"] == "died" and "no live holder" in report["sections"]["run_state"]["died"]["detail"]
    assert run_report.format_text(report).startswith("fsdp_daily 2026-03-02: DIED")

    lease = Lease(token="t", kind="process", run_id="run-1", dag_id="fsdp_daily", logical_date="2026-03-02")
    runstate.handle_died(lease, "its process is gone", found_by="scripts/run.sh --date 2026-03-02")
    section = _report(env, "run-1")["sections"]["run_state"]
    assert section["status"] == "fail" and section["run_log"] == "died"
    assert section["died"]["detail"] == "died: its process is gone (found by scripts/run.sh --date 2026-03-02)"
    assert "scripts/run.sh --date 2026-03-02 --full-refresh" in section["died"]["repair"]
    assert _log(env)["run-1"][0] == "died"

    # the rerun of the date holds the lease: its own report says what it repairs and what came before
    lock = RunLock(env / "warehouse" / "fsdp.duckdb")
    mine, _, _ = lock.acquire(kind="process", run_id="run-2", dag_id="fsdp_daily", logical_date="2026-03-02",
                              command="test", wait_s=0)
    try:
        runstate.begin("run-2", "fsdp_daily", "2026-03-02")
        run_report.refresh("fsdp_daily", "run-2", day, ["run_state"])
        section = _report(env, "run-2")["sections"]["run_state"]
        assert section["run_log"] == "building" and not section.get("died")
        assert section["previous_run"]["run_id"] == "run-1" and section["previous_run"]["status"] == "died"
        assert section["repairing"] == [{"run_id": "run-1", "logical_date": "2026-03-02"}]
        assert "repaired: run run-1" in section["summary"] and "previous run of this date run-1: DIED" in section["summary"]
        runstate.finish("run-2", "complete")
        report = run_report.refresh("fsdp_daily", "run-2", day, ["run_state"])
    finally:
        lock.finish(mine.token, "success", release=True)
    assert report["verdict"] == "success" and report["sections"]["run_state"]["run_log"] == "complete"
    assert report["sections"]["run_state"]["warehouse_last_complete"]["run_id"] == "run-2"
    assert _report(env, "run-1")["verdict"] == "died"            # the dead run's report is kept as it was


def test_a_complete_run_is_never_turned_into_a_died_one(env):
    runstate.begin("run-1", "fsdp_daily", "2026-03-01")
    runstate.finish("run-1", "complete")
    runstate.mark_died("run-1", "fsdp_daily", "2026-03-01", "died: late report")
    assert _log(env)["run-1"][0] == "complete"
