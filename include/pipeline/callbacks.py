"""Failure callbacks: one clear line per failed task try and one per failed run, instead of a
trail of tracebacks (those stay in the task logs). scripts/run.sh prints these lines."""
from __future__ import annotations

import logging
import re

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


TASK_PREFIX = "FSDP task FAILED:"
# a landing file named in an error: abfs://landing/<entity>/dt=.../x.csv or <entity>/dt=.../x.csv
_FILE = re.compile(r"(abfs://[^\s'\",;|)]+|\b[\w.-]+/dt=[^\s/'\",;|]+/[^\s'\",;|)]+)")
# lines of a dbt or Python error that carry no reason of their own
_NOISE = re.compile(r"^(Traceback|File \"|During handling|The above exception|\s*\^+\s*$)")


def reason_of(exc: BaseException | None) -> str:
    """The first line of ``exc`` that says what went wrong, prefixed with its type when that adds
    something; dbt's "completed with errors:" wrapper (Cosmos) is replaced by the node's own message."""
    if exc is None:
        return "unknown (no exception in the task context)"
    text = str(exc).strip()
    text = re.sub(r"^dbt invocation completed with errors:\s*", "", text)
    lines = [line.strip() for line in text.splitlines() if line.strip() and not _NOISE.match(line.strip())]
    first = lines[0] if lines else ""
    name = type(exc).__name__
    generic = name in ("Exception", "RuntimeError", "AirflowException", "AirflowFailException", "CosmosDbtRunError")
    line = first if (generic and first) else f"{name}: {first}" if first else name
    return re.sub(r"\s+", " ", line)[:400]


def task_failure_line(context) -> str:
    """One line for a failed task try: task, try, reason, the landing file the error names, log."""
    ti = context.get("ti") or context.get("task_instance")
    exc = context.get("exception")
    reason = reason_of(exc)
    parts = [f"{TASK_PREFIX} task={getattr(ti, 'task_id', '?')}"]
    tries = getattr(ti, "max_tries", None)
    if ti is not None and tries is not None:
        parts.append(f"try {ti.try_number} of {tries + 1}")
    parts.append(f"reason={reason}")
    match = _FILE.search(str(exc) if exc is not None else "")
    if match:
        parts.append(f"file={match.group(1)}")
    log_url = getattr(ti, "log_url", None)
    if log_url:
        parts.append(f"log={log_url}")
    return " | ".join(parts)


def log_task_failure(context) -> None:
    """Task on_failure_callback: log :func:`task_failure_line` at ERROR (never raises)."""
    try:
        log.error(task_failure_line(context))
    except Exception:  # a callback must never hide the failure it reports
        log.exception("%s (could not build the line)", TASK_PREFIX)

