"""Airflow listener (registered by plugins/fsdp_run_reports.py): closes the run report when an
fsdp_daily run ends, and marks the run with a note saying its verdict.

Runs where DAG run states change: in the scheduler, and in ``airflow dags test``. Listener hooks
must never raise (Airflow logs and swallows it, but the scheduler's loop pays for it): every hook
catches and logs.
"""
from __future__ import annotations

import logging

from airflow.listeners import hookimpl

log = logging.getLogger(__name__)

DAG_ID = "fsdp_daily"
HEALTH_DAG_ID = "fsdp_product_health"
NOTE_LIMIT = 1000  # Airflow's dag_run_note.content is a String(1000)


def _day(dag_run):
    value = dag_run.logical_date or dag_run.run_after
    return value.date()


def note_for(dag_run) -> str | None:
    """The note for a finished run, from its report (fsdp_daily) or health report."""
    from include.pipeline import run_report

    if dag_run.dag_id == DAG_ID:
        state = str(getattr(dag_run.state, "value", dag_run.state))
        record = run_report.finish(_day(dag_run), dag_run.run_id, state, run_report.true_start(dag_run),
                                   dag_run.end_date)
        return run_report.verdict_line(record)
    if dag_run.dag_id == HEALTH_DAG_ID:
        from include.pipeline.health import health_note

        return health_note(dag_run.run_id)
    return None


def set_note(dag_run, note: str) -> None:
    """Put ``note`` on the run: on the ORM object the scheduler is about to commit when it is bound
    to a session (a second session would wait on the scheduler's own lock on SQLite); a detached
    run (``airflow dags test``) is left to scripts/run.sh, which sets it after the run
    (include.pipeline.summary)."""
    from sqlalchemy import inspect

    if inspect(dag_run).session is not None:
        dag_run.note = note[:NOTE_LIMIT]


def _mark(dag_run) -> None:
    if dag_run.dag_id not in (DAG_ID, HEALTH_DAG_ID):
        return
    try:
        note = note_for(dag_run)
        if note:
            set_note(dag_run, note)
    except Exception:
        log.exception("fsdp run report: could not close the report of %s %s", dag_run.dag_id, dag_run.run_id)


@hookimpl
def on_dag_run_success(dag_run, msg: str):
    _mark(dag_run)


@hookimpl
def on_dag_run_failed(dag_run, msg: str):
    _mark(dag_run)
