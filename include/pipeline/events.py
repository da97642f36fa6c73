"""Run events: one JSON line per notable thing that happened during a run and left no other
trace, starting with retries of storage and catalog calls (the run report counts them).

Every retry logs one line, ``retry <system>: <what>: attempt N of M failed (<reason>); next
attempt in W s``, and appends the same facts to the run's event file,
``<FSDP_REPORTS_DIR>/events/<run key>.jsonl``. The run is found in the environment Airflow
gives every task process (``AIRFLOW_CTX_DAG_RUN_ID``, exported by the task runner), so clients
deep in other libraries (the Azure SDK's retry policy, adlfs inside dbt, the OpenMetadata SDK
in the catalog venv) need no run id passed to them. ``FSDP_RUN_EVENTS_FILE`` overrides the file
(tests, scripts outside Airflow). Appends are single ``write`` calls of one line on a file opened
with O_APPEND, so concurrent processes never interleave parts of lines.

Stdlib only: imported by both virtualenvs.
"""
from __future__ import annotations

import json
import logging
import os
import re
import time
from pathlib import Path

log = logging.getLogger("fsdp.retry")

RUN_ID_VARS = ("AIRFLOW_CTX_DAG_RUN_ID", "FSDP_RUN_ID")


def run_key(run_id: str) -> str:
    """A file-name-safe, readable key for a run id (``manual__2026-01-05T10:00:00+00:00``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", run_id).strip("_") or "run"


def events_dir() -> Path:
    from include.pipeline import settings

    return settings.reports_dir() / "events"


def events_file(run_id: str | None = None) -> Path | None:
    """The event file of ``run_id`` (default: the run of this process, if any)."""
    if run_id is None:
        explicit = os.environ.get("FSDP_RUN_EVENTS_FILE")
        if explicit:
            return Path(explicit)
        run_id = next((os.environ[v] for v in RUN_ID_VARS if os.environ.get(v)), None)
        if not run_id:
            return None
    return events_dir() / f"{run_key(run_id)}.jsonl"


def record(kind: str, **fields) -> None:
    """Append one event to the current run's file (nothing when outside a run). Never raises:
    reporting an outage must not turn into a second failure."""
    path = events_file()
    if path is None:
        return
    line = json.dumps({"kind": kind, "at": round(time.time(), 3),
                       "task": os.environ.get("AIRFLOW_CTX_TASK_ID"),
                       "try": os.environ.get("AIRFLOW_CTX_TRY_NUMBER"), **fields}, default=str) + "\n"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line.encode())
        finally:
            os.close(fd)
    except OSError as exc:
        log.debug("could not record run event in %s: %s", path, exc)


def retry(system: str, what: str, attempt: int, of: int | None, wait_s: float, reason: str) -> None:
    """One retry of a call to an outside system: one log line and one event.

    ``attempt`` is the attempt that just failed (1 = the first call), ``of`` the attempts allowed
    (None when unknown), ``wait_s`` the pause before the next one."""
    reason = " ".join(str(reason).split())[:200]
    log.warning("retry %s: %s: attempt %d%s failed (%s); next attempt in %.1f s",
                system, what, attempt, f" of {of}" if of else "", reason, wait_s)
    record("retry", system=system, what=what, attempt=attempt, of=of, wait_s=round(wait_s, 2), reason=reason)


def read(run_id: str) -> list[dict]:
    """Every event recorded for ``run_id``."""
    return read_file(events_file(run_id))


def read_file(path: Path | None) -> list[dict]:
    """The events of one file (a torn last line, from a killed writer, is skipped)."""
    if path is None or not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except json.JSONDecodeError:
            continue
    return out


def retry_summary(run_id: str) -> dict[str, dict]:
    """Retries of ``run_id`` per system: count, total wait, and the calls retried most."""
    out: dict[str, dict] = {}
    for ev in read(run_id):
        if ev.get("kind") != "retry":
            continue
        s = out.setdefault(ev.get("system") or "?", {"retries": 0, "waited_s": 0.0, "calls": {}, "tasks": []})
        s["retries"] += 1
        s["waited_s"] = round(s["waited_s"] + float(ev.get("wait_s") or 0), 1)
        call = ev.get("what") or "?"
        s["calls"][call] = s["calls"].get(call, 0) + 1
        if ev.get("task") and ev["task"] not in s["tasks"]:
            s["tasks"].append(ev["task"])
    for s in out.values():   # the five calls retried most, enough to see what was hit
        s["calls"] = dict(sorted(s["calls"].items(), key=lambda kv: (-kv[1], kv[0]))[:5])
    return out
