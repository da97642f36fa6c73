"""The warehouse's run lease across real processes: a second run waits or refuses with the
holder's name, a SIGKILLed holder is seen dead at once, a run that lost its lease stops."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from include.pipeline import runlock
from include.pipeline.runlock import Lease, RunLock, WarehouseBusy

ROOT = Path(__file__).resolve().parents[2]


def wrapper(warehouse: Path, *command: str, wait: float | None = None, label: str = "test",
            env: dict | None = None) -> subprocess.Popen:
    args = [sys.executable, "-m", "include.pipeline.runlock", "run", "--warehouse", str(warehouse),
            "--label", label, "--date", "2026-03-02"]
    if wait is not None:
        args += ["--wait", str(wait)]
    return subprocess.Popen([*args, "--", *command], cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env={**os.environ, "FSDP_REPORTS_DIR": str(warehouse.parent / "reports"),
                                            "FSDP_DUCKDB_PATH": str(warehouse), **(env or {})},
                            start_new_session=True)


def window_script(path: Path, seconds: float) -> list[str]:
    """A command that records when it ran: start and end times in ``path``."""
    code = (f"import time, pathlib; p = pathlib.Path({str(path)!r}); t0 = time.time(); "
            f"time.sleep({seconds}); p.write_text(f'{{t0}} {{time.time()}}')")
    return [sys.executable, "-c", code]


def wait_for(predicate, timeout: float = 30, what: str = "condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_two_runs_started_at_once_run_one_after_the_other(tmp_path):
    warehouse = tmp_path / "fsdp.duckdb"
    a, b = tmp_path / "a.txt", tmp_path / "b.txt"
    first = wrapper(warehouse, *window_script(a, 2), label="run A")
    wait_for(lambda: RunLock(warehouse).read() is not None, what="run A's lease")
    second = wrapper(warehouse, *window_script(b, 0.1), label="run B")
    _, err_b = second.communicate(timeout=60)
    first.communicate(timeout=60)
    assert first.returncode == second.returncode == 0
    (a0, a1), (b0, b1) = (map(float, p.read_text().split()) for p in (a, b))
    assert b0 >= a1, "run B ran while run A held the warehouse"
    # the waiting run said whom it waits for, in one line
    assert "is in use by a run for 2026-03-02 (run A;" in err_b and "waiting for it to finish" in err_b
    assert RunLock(warehouse).read() is None          # released after both


def test_a_second_run_refuses_after_its_wait_with_the_holders_name(tmp_path):
    warehouse = tmp_path / "fsdp.duckdb"
    holder = wrapper(warehouse, sys.executable, "-c", "import time; time.sleep(30)", label="scripts/run.sh --date 2026-03-02")
    try:
        wait_for(lambda: RunLock(warehouse).read() is not None, what="the holder's lease")
        refused = wrapper(warehouse, "true", wait=0, label="run B")
        _, err = refused.communicate(timeout=30)
        assert refused.returncode == 75
        assert err.startswith("refused: warehouse ")
        assert "in use by a run for 2026-03-02 (scripts/run.sh --date 2026-03-02; pid" in err
        assert "a process of it is running" in err
    finally:
        os.killpg(holder.pid, signal.SIGTERM)
        holder.wait(30)


def test_a_sigkilled_holder_is_dead_at_once_and_the_next_run_takes_over(tmp_path):
    warehouse = tmp_path / "fsdp.duckdb"
    holder = wrapper(warehouse, sys.executable, "-c", "import time; time.sleep(60)", label="run A")
    wait_for(lambda: RunLock(warehouse).read() is not None, what="the holder's lease")
    os.killpg(holder.pid, signal.SIGKILL)     # the wrapper and its command: nobody releases anything
    holder.wait(10)
    lock = RunLock(warehouse)
    left = lock.read()
    assert left is not None and left.command == "run A"
    assert lock.holder_state(left) == (False, "its process is gone")
    started = time.monotonic()
    lease, died, why = lock.acquire(kind="process", logical_date="2026-03-03", command="run B", wait_s=5)
    assert time.monotonic() - started < 2              # no stale-lock timeout to sit out
    assert died.command == "run A" and why == "its process is gone"
    lock.release(lease.token)


def test_a_dag_run_between_tasks_keeps_the_lease_until_its_heartbeat_is_stale(tmp_path):
    lock = RunLock(tmp_path / "fsdp.duckdb")
    lease = Lease(token="t", kind="dag", run_id="scheduled__1", dag_id="fsdp_daily", logical_date="2026-03-02")
    lock._write(lease)
    assert lock.holder_state(lease, stale_s=600)[0] is True          # a scheduler between two tasks
    with pytest.raises(WarehouseBusy, match="in use by run scheduled__1 for 2026-03-02"):
        lock.acquire(kind="dag", run_id="scheduled__2", wait_s=0.2, poll_s=0.05)
    lease.heartbeat_at = "2026-01-01T00:00:00+00:00"
    lock._write(lease)
    alive, why = lock.holder_state(lock.read(), stale_s=600)
    assert not alive and why.startswith("no task of it started for")
    # the same Airflow DB says the run ended: dead at once, whatever the heartbeat
    lease.heartbeat_at = runlock._now()
    lease.airflow_db = runlock.airflow_db_identity()
    lock._write(lease)
    assert lock.holder_state(lock.read(), lambda dag, run: "failed", stale_s=600) == (False, "its DagRun is failed")


def test_a_task_of_a_run_that_lost_its_lease_stops(tmp_path):
    lock = RunLock(tmp_path / "fsdp.duckdb")
    lock._write(Lease(token="other", kind="dag", run_id="scheduled__2", logical_date="2026-03-03"))
    with pytest.raises(WarehouseBusy, match="run scheduled__1 no longer holds warehouse .* held by run scheduled__2"):
        lock.heartbeat("scheduled__1")


def test_the_lease_file_says_who_holds_the_warehouse(tmp_path):
    warehouse = tmp_path / "fsdp.duckdb"
    holder = wrapper(warehouse, sys.executable, "-c", "import time; time.sleep(30)", label="scripts/run.sh --date 2026-03-02")
    try:
        wait_for(lambda: RunLock(warehouse).read() is not None, what="the holder's lease")
        lease = json.loads(Path(f"{warehouse}.run.json").read_text())
        assert lease["kind"] == "process" and lease["logical_date"] == "2026-03-02" and lease["pid"] == holder.pid
        show = subprocess.run([sys.executable, "-m", "include.pipeline.runlock", "show", "--warehouse", str(warehouse)],
                              cwd=ROOT, capture_output=True, text=True, check=True)
        assert "held by a run for 2026-03-02 (scripts/run.sh --date 2026-03-02;" in show.stdout
    finally:
        os.killpg(holder.pid, signal.SIGTERM)
        holder.wait(30)
