"""The embedded Airflow takes the warehouse's lease itself: an `airflow dags test` run (the path
scripts/airflow.sh's runs take too: the DAG's first task, not a wrapper) started while another
run holds the warehouse waits for it, then refuses with the holder's name; no other task runs."""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from include.pipeline.runlock import RunLock
from tests.e2e import harness

pytestmark = [pytest.mark.integration]


def test_a_dag_run_refuses_a_warehouse_another_run_holds(tmp_path):
    env = harness.isolated_env(tmp_path)
    env["FSDP_RUN_LOCK_WAIT_S"] = "5"
    harness.init_airflow(env)
    harness.parse_manifest(env)
    warehouse = Path(env["FSDP_DUCKDB_PATH"])
    holder = subprocess.Popen([sys.executable, "-m", "include.pipeline.runlock", "run", "--warehouse", str(warehouse),
                               "--date", "2026-03-01", "--label", "scripts/run.sh --date 2026-03-01", "--",
                               sys.executable, "-c", "import time; time.sleep(600)"],
                              cwd=harness.ROOT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 30
        while RunLock(warehouse).read() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        proc = harness.run([str(harness.BIN / "airflow"), "dags", "test", "fsdp_daily", "2026-03-02"], env,
                           timeout=600, check=False)
    finally:
        os.killpg(holder.pid, signal.SIGTERM)
        holder.wait(30)
    log = proc.stdout + proc.stderr
    assert "is in use by a run for 2026-03-01 (scripts/run.sh --date 2026-03-01; pid" in log
    assert "waited 5 s (FSDP_RUN_LOCK_WAIT_S). Run again when it has finished." in log
    with sqlite3.connect(Path(env["AIRFLOW_HOME"]) / "airflow.db") as con:
        states = dict(con.execute("select task_id, state from task_instance where dag_id = 'fsdp_daily'").fetchall())
    assert states["start_run"] == "failed"
    assert not [t for t, s in states.items() if s == "success"], states     # nothing ran beside it
