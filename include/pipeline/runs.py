"""The first and the last task of every fsdp_daily run (Airflow setup and teardown tasks).

``start_run``: take the warehouse's lease (include/pipeline/runlock.py; waits for a running run,
or refuses after FSDP_RUN_LOCK_WAIT_S with the holder's name), record any run it finds dead
(include/pipeline/runstate.py), open this run in the warehouse's run log and write the
``run_state`` section of its run report (include/pipeline/run_report.py: what it repairs).

``end_run``: runs whatever happened upstream (a teardown, after the ``run_report`` teardown):
closes the run in the run log (``complete`` only when every task succeeded), rebuilds the report's
``run_state`` and ``retries`` sections (every retried storage or catalog call,
include/pipeline/events.py), and releases the lease, last. A teardown does not decide the
DagRun's state: a failed task still fails it.

``task_started``: the ``on_execute_callback`` of every task: refreshes the lease's heartbeat and
holds its alive lock while the task process lives; a task of a run that lost the lease (another
run judged it dead and took the warehouse over) fails at once instead of writing beside it.
"""
from __future__ import annotations

import logging
import os
from datetime import date

from include.pipeline import run_report, runlock, runstate, settings

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
    run_report.refresh(dag_id, run_id, date.fromisoformat(logical_date[:10]), ["run_state"])
    return {"token": lease.token, "wrapped": bool(token), "kind": lease.kind, **state}


def end_run(run_id: str, dag_id: str, logical_date: str, lease: dict | None, task_states: dict[str, str]) -> dict:
    """``task_states``: task id -> state of every other task of the run (the reporting teardowns,
    run_report.REPORTING_TASKS, do not decide it: quality_warnings fails to mark warnings)."""
    failed = sorted(t for t, s in task_states.items()
                    if s not in ("success", "skipped") and t not in run_report.REPORTING_TASKS)
    ok = not failed
    try:
        runstate.finish(run_id, "complete" if ok else "failed")
    finally:
        try:
            record = run_report.refresh(dag_id, run_id, date.fromisoformat(logical_date[:10]), ["run_state", "retries"])
        finally:
            if lease:
                runlock.RunLock(settings.duckdb_path()).finish(lease["token"], "success" if ok else "failed",
                                                               release=not lease.get("wrapped"))
    retries = (record["sections"].get("retries") or {}).get("systems") or {}
    total = sum(s["retries"] for s in retries.values())
    log.info("run %s %s; %d retried calls (%s); report %s", run_id, "complete" if ok else "FAILED", total,
             ", ".join(f"{k} {v['retries']}" for k, v in retries.items()) or "none",
             run_report.report_path(logical_date, run_id))
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
