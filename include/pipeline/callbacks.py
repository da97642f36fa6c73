"""Failure callback: one clear summary line per failed run, instead of a trail of tracebacks."""
from __future__ import annotations

import logging

log = logging.getLogger("fsdp.pipeline")


def failure_summary(context) -> str:
    """One line naming the run, the task that failed last, its try, the reason and where its log is."""
    dag = context.get("dag")
    dag_id = getattr(dag, "dag_id", None) or "?"
    ti = context.get("ti") or context.get("task_instance")
    dag_run = context.get("dag_run")
    logical_date = context.get("logical_date") or getattr(dag_run, "logical_date", None)
    parts = [f"FSDP run FAILED: dag={dag_id}", f"run_id={context.get('run_id') or getattr(dag_run, 'run_id', '?')}"]
    if logical_date is not None:
        parts.append(f"logical_date={logical_date:%Y-%m-%d}" if hasattr(logical_date, "strftime") else
                     f"logical_date={logical_date}")
    if ti is not None:
        tries = getattr(ti, "max_tries", None)
        parts.append(f"failed_task={ti.task_id}" + (f" (try {ti.try_number} of {tries + 1})" if tries is not None else ""))
    parts.append(f"reason={context.get('reason') or 'task_failure'}")
    conf = getattr(dag_run, "conf", None)
    if conf:
        parts.append(f"conf={conf}")
    log_url = getattr(ti, "log_url", None) if ti is not None else None
    if log_url:
        parts.append(f"log={log_url}")
    return " | ".join(parts)


def log_failure_summary(context) -> None:
    """DAG on_failure_callback: log :func:`failure_summary` at ERROR."""
    try:
        log.error(failure_summary(context))
    except Exception:  # a callback must never hide the failure it reports
        log.exception("FSDP run FAILED (could not build the summary)")
