"""The first and the last task of every fsdp_daily run (Airflow setup and teardown tasks).

``start_run``: take the warehouse's lease (include/pipeline/runlock.py; waits for a running run,
or refuses after FSDP_RUN_LOCK_WAIT_S with the holder's name), record any run it finds dead
(include/pipeline/runstate.py), open this run in the warehouse's run log and its run report.

``end_run``: runs whatever happened upstream (a teardown): closes the run in the run log
(``complete`` only when every task succeeded), writes its end state, retries (every retried
storage or catalog call, include/pipeline/events.py) and task retries into the run report, and
releases the lease. A teardown does not decide the DagRun's state: a failed task still fails it.

``task_started``: the ``on_execute_callback`` of every task: refreshes the lease's heartbeat and
holds its alive lock while the task process lives; a task of a run that lost the lease (another
run judged it dead and took the warehouse over) fails at once instead of writing beside it.
"""
from __future__ import annotations

import logging
import os
from datetime import datetime, timezone

from include.pipeline import events, runlock, runstate, settings

log = logging.getLogger("fsdp.pipeline")


def _dag_run_state(ti):
    def state(dag_id: str, run_id: str) -> str | None:
        try:
            return str(ti.get_dagrun_state(dag_id=dag_id, run_id=run_id)).lower().split(".")[-1]
        except Exception:  # noqa: BLE001 - unknown run or no API: judged on the heartbeat instead
            return None
    return state


def start_run(run_id: str, dag_id: str, logical_date: str, ti=None) -> dict:
    lock = runlock.RunLock(settings.duckdb_path())
    token = os.environ.get(runlock.TOKEN_ENV)
    if token:
        lease = lock.adopt(token, run_id=run_id, dag_id=dag_id, logical_date=logical_date)
        log.info("warehouse %s: run %s holds it (lease of %s)", lock.warehouse, run_id, lease.command)
    else:
        kind = "process" if runlock.runs_whole_dag_in_this_process() else "dag"
        lease, died, why = lock.acquire(kind=kind, run_id=run_id, dag_id=dag_id, logical_date=logical_date,
                                        command=f"Airflow DAG {dag_id}", dag_run_state=_dag_run_state(ti) if ti else None)
        if died is not None:
            runstate.handle_died(died, why, found_by=f"run {run_id}")
        log.info("warehouse %s: run %s holds it", lock.warehouse, run_id)
    state = runstate.begin(run_id, dag_id, logical_date)
    runstate.update_report(logical_date, run_id, status="running",
                           started_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
                           repairing=state["repairing"], warehouse_last_complete=state["last_complete"])
    return {"token": lease.token, "wrapped": bool(token), "kind": lease.kind, **state}


def end_run(run_id: str, dag_id: str, logical_date: str, lease: dict | None, task_states: dict[str, str]) -> dict:
    """``task_states``: task id -> state of every other task of the run."""
    failed = sorted(t for t, s in task_states.items() if s not in ("success", "skipped"))
    ok = not failed
    try:
        runstate.finish(run_id, "complete" if ok else "failed")
    finally:
        retries = events.retry_summary(run_id)
        path = runstate.update_report(
            logical_date, run_id, status="success" if ok else "failed",
            finished_at=datetime.now(timezone.utc).isoformat(timespec="seconds"),
            not_succeeded=failed, retries=retries)
        if lease:
            runlock.RunLock(settings.duckdb_path()).finish(lease["token"], "success" if ok else "failed",
                                                           release=not lease.get("wrapped"))
    total = sum(s["retries"] for s in retries.values())
    log.info("run %s %s; %d retried calls (%s); report %s", run_id, "complete" if ok else "FAILED", total,
             ", ".join(f"{k} {v['retries']}" for k, v in retries.items()) or "none", path)
    return {"status": "complete" if ok else "failed", "not_succeeded": failed, "retries": retries}


def task_started(context) -> None:
    """on_execute_callback of every task: heartbeat the lease of this run (see the module docstring).
    The setup task takes the lease itself, so it is skipped here."""
    ti = context.get("ti") or context.get("task_instance")
    if ti is None or ti.task_id == "start_run":
        return
    run_id = context.get("run_id") or getattr(context.get("dag_run"), "run_id", None)
    if not run_id:
        return
    runlock.RunLock(settings.duckdb_path()).heartbeat(run_id)
