"""The run report: one JSON record per DAG run, kept for every run, built from sections.

Where it lives: ``<FSDP_REPORTS_DIR>/runs/<logical date>/<run id>.json`` (run id made file-safe;
the record holds the real one). A second run of the same date gets a file of its own.

Who writes it (each merges its part under a file lock, so writers never lose each other's work):

* ``fsdp_daily.run_report``, a teardown task that runs last in every run, failed or not: the run's
  header and every registered section (:data:`SECTIONS`);
* the scheduler's listener (plugins/fsdp_run_reports.py), when the run ends: its final state, end
  time and duration (:func:`finish`), and the one-line verdict it puts in the run's note;
* ``fsdp_product_health``: the ``product_health`` section of the run that published the product.

The record::

    {"schema_version": 1, "dag_id", "run_id", "logical_date", "run_type", "started_at", "ended_at",
     "duration_s", "state" (Airflow's), "verdict" (success | success_with_warnings | failed | running),
     "params", "sections": {name: {"status": ok|warn|fail|info, "summary": str, ...data...}}}

Adding a section: write ``build(ctx) -> dict | None`` (``ctx`` is a :class:`RunContext`; return
``None`` when the section does not apply) and ``view(data) -> View`` (a summary line, a status and
tables: the text printed by scripts/run.sh and the Airflow UI page both render from it), then
``register(Section(...))``. A section whose build raises is recorded with its error and status
``fail``; it never costs the rest of the report.
"""
from __future__ import annotations

import fcntl
import json
import logging
import re
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from include.pipeline import settings

log = logging.getLogger(__name__)

SCHEMA_VERSION = 1
STATUS_ORDER = {"info": 0, "ok": 0, "warn": 1, "fail": 2}
# tasks that report on the run rather than build the product: their state is not the run's
REPORTING_TASKS = ("run_report", "quality_warnings")


# ---- the record on disk ------------------------------------------------------------------------

def reports_root(reports_dir: Path | None = None) -> Path:
    return Path(reports_dir or settings.reports_dir()) / "runs"


def file_name(run_id: str) -> str:
    """A file-safe name for an Airflow run id (``manual__2026-01-05T10:00:00.123+00:00``)."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", run_id).strip("_") or "run"


def report_path(logical_date: date | str, run_id: str, reports_dir: Path | None = None) -> Path:
    day = logical_date if isinstance(logical_date, str) else logical_date.isoformat()
    return reports_root(reports_dir) / day[:10] / f"{file_name(run_id)}.json"


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_suffix(".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def load(path: Path) -> dict | None:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        return None


def update(logical_date: date | str, run_id: str, *, fields: dict | None = None,
           sections: dict[str, dict] | None = None, reports_dir: Path | None = None) -> dict:
    """Merge top-level ``fields`` and ``sections`` into the run's report (created when missing),
    recompute its verdict and write it atomically; returns the record."""
    path = report_path(logical_date, run_id, reports_dir)
    with _locked(path):
        record = load(path) or {"schema_version": SCHEMA_VERSION, "run_id": run_id,
                                "logical_date": str(logical_date)[:10], "sections": {}}
        record.update(fields or {})
        record["sections"].update(sections or {})
        record["verdict"] = verdict(record)
        record["written_at"] = _now().isoformat(timespec="seconds")
        tmp = path.with_suffix(".json.tmp")
        record["sections"] = ordered(record["sections"])
        tmp.write_text(json.dumps(record, indent=2, default=str) + "\n")
        tmp.replace(path)
    return record


def true_start(dag_run) -> datetime | None:
    """When the run really started: ``airflow dags test`` records the logical date as the start
    date (a run of today's date "started" at midnight), so never earlier than ``run_after``."""
    start, after = getattr(dag_run, "start_date", None), getattr(dag_run, "run_after", None)
    if start and after and start < after:
        return after
    return start or after


def finish(logical_date: date | str, run_id: str, state: str, started_at: datetime | None,
           ended_at: datetime | None, reports_dir: Path | None = None, dag_id: str = "fsdp_daily") -> dict:
    """Record the run's final state, end time and duration (the run has ended)."""
    fields: dict[str, Any] = {"state": state, "dag_id": dag_id}
    if started_at:
        fields["started_at"] = started_at.isoformat(timespec="seconds")
    if ended_at:
        fields["ended_at"] = ended_at.isoformat(timespec="seconds")
    if started_at and ended_at:
        fields["duration_s"] = round((ended_at - started_at).total_seconds(), 1)
    return update(logical_date, run_id, fields=fields, reports_dir=reports_dir)


def list_reports(reports_dir: Path | None = None, dag_id: str | None = None, limit: int = 500) -> list[dict]:
    """Headers of the stored reports (no sections), newest start first."""
    out = []
    for path in reports_root(reports_dir).glob("*/*.json"):
        record = load(path)
        if not record or (dag_id and record.get("dag_id") != dag_id):
            continue
        head = {k: v for k, v in record.items() if k != "sections"}
        head["warnings"] = [name for name, s in record.get("sections", {}).items() if s.get("status") == "warn"]
        head["path"] = str(path)
        out.append(head)
    out.sort(key=lambda r: (r.get("started_at") or "", r.get("run_id") or ""), reverse=True)
    return out[:limit]


def find(run_id: str, reports_dir: Path | None = None) -> dict | None:
    """The report of ``run_id``, whatever its logical date."""
    for path in reports_root(reports_dir).glob(f"*/{file_name(run_id)}.json"):
        record = load(path)
        if record and record.get("run_id") == run_id:
            return record
    return None


def latest_for_date(logical_date: date, dag_id: str, reports_dir: Path | None = None) -> dict | None:
    heads = [h for h in list_reports(reports_dir, dag_id) if h.get("logical_date") == logical_date.isoformat()]
    return load(Path(heads[0]["path"])) if heads else None


# ---- verdict -----------------------------------------------------------------------------------

def verdict(record: dict) -> str:
    """``failed`` when the run (or a task that builds the product) failed; ``running`` before it
    ends; ``success_with_warnings`` when any section warns; else ``success``."""
    sections = record.get("sections", {})
    state = record.get("state")
    failed_tasks = sections.get("tasks", {}).get("failed") or []
    if state == "failed" or failed_tasks or any(s.get("status") == "fail" for s in sections.values()):
        return "failed"
    if any(s.get("status") == "warn" for s in sections.values()):
        return "success_with_warnings" if state in (None, "success", "running") else "failed"
    if state in (None, "running", "queued"):
        return "running" if state else "success"
    return "success" if state == "success" else str(state)


def verdict_line(record: dict) -> str:
    """One line for the run's note and the top of the text report."""
    v = record.get("verdict") or verdict(record)
    head = {"success": "Success", "success_with_warnings": "Success with warnings", "failed": "FAILED",
            "running": "Running"}.get(v, v)
    parts = [head]
    for name, section in record.get("sections", {}).items():
        if section.get("status") in ("warn", "fail"):
            parts.append(f"{SECTION_TITLES.get(name, name)}: {section.get('summary', '')}")
    health = record.get("sections", {}).get("product_health")
    if health and health.get("status") not in ("warn", "fail"):
        parts.append(f"product health: {health.get('verdict')}")
    return " | ".join(parts)


# ---- sections ----------------------------------------------------------------------------------

@dataclass
class Table:
    columns: list[str]
    rows: list[list]
    title: str | None = None


@dataclass
class View:
    summary: str
    status: str = "ok"           # ok | info | warn | fail
    tables: list[Table] = field(default_factory=list)


@dataclass
class RunContext:
    """What a section's build may use: the run, its task states, and the warehouse (read-only)."""
    dag_id: str
    run_id: str
    logical_date: date
    params: dict
    tasks: dict[str, dict]        # task_id -> {"state": ..., "duration": s, ...}
    con: Any = None               # read-only DuckDB connection, or None when there is no warehouse
    landed: dict | None = None    # landing_inventory's rows per entity


@dataclass(frozen=True)
class Section:
    name: str
    title: str
    build: Callable[[RunContext], dict | None]
    view: Callable[[dict], View]


SECTIONS: dict[str, Section] = {}
SECTION_TITLES: dict[str, str] = {}


def register(section: Section) -> Section:
    """Add (or replace) a section; display order is registration order."""
    SECTIONS[section.name] = section
    SECTION_TITLES[section.name] = section.title
    return section


def build_sections(ctx: RunContext, names: list[str] | None = None) -> dict[str, dict]:
    """Every registered section's data plus its status and summary (``view``)."""
    out = {}
    for name, section in SECTIONS.items():
        if names and name not in names:
            continue
        try:
            data = section.build(ctx)
            if data is None:
                continue
            v = section.view(data)
            out[name] = {**data, "status": v.status, "summary": v.summary}
        except Exception as exc:  # one broken section must not cost the report
            log.exception("run report section %s failed", name)
            out[name] = {"status": "fail", "summary": f"could not build: {type(exc).__name__}: {exc}"[:500],
                         "error": str(exc)}
    return out


def ordered(sections: dict[str, dict]) -> dict[str, dict]:
    """Sections in registration order, then any unknown ones (written by a newer writer)."""
    known = [n for n in SECTIONS if n in sections]
    return {n: sections[n] for n in known + sorted(set(sections) - set(known))}


def view_of(name: str, data: dict) -> View:
    section = SECTIONS.get(name)
    if section is None or "error" in data:
        return View(summary=data.get("summary", ""), status=data.get("status", "info"))
    v = section.view({k: val for k, val in data.items() if k not in ("status", "summary")})
    return View(summary=data.get("summary", v.summary), status=data.get("status", v.status), tables=v.tables)


def collect(dag_id: str, run_id: str, logical_date: date, params: dict, tasks: dict[str, dict],
            landed: dict | None = None, started_at: datetime | None = None, state: str = "running",
            run_type: str | None = None) -> dict:
    """Build every section for a run and store them with its header; returns the record."""
    from include.pipeline import product

    try:
        con = product.connect()
    except FileNotFoundError:
        con = None
    try:
        sections = build_sections(RunContext(dag_id=dag_id, run_id=run_id, logical_date=logical_date,
                                             params=params, tasks=tasks, con=con, landed=landed))
    finally:
        if con is not None:
            con.close()
    return update(logical_date, run_id, sections=sections, fields={
        "dag_id": dag_id, "run_type": run_type, "params": params, "state": state,
        "started_at": started_at.isoformat(timespec="seconds") if started_at else None})


# ---- rendering as text (scripts/run.sh) --------------------------------------------------------

def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.4g}"
    return str(value)


def format_table(table: Table, indent: str = "    ") -> list[str]:
    cells = [[_cell(c) for c in row] for row in table.rows]
    widths = [max([len(h)] + [len(r[i]) for r in cells]) for i, h in enumerate(table.columns)]

    def line(values):
        first = f"{values[0]:<{widths[0]}}"
        rest = [f"{v:>{w}}" if _numeric(v) else f"{v:<{w}}" for v, w in zip(values[1:], widths[1:])]
        return (indent + "  ".join([first, *rest])).rstrip()

    lines = [f"{indent}{table.title}"] if table.title else []
    lines.append(line(table.columns))
    lines += [line(r) for r in cells]
    return lines


def _numeric(text: str) -> bool:
    return bool(re.fullmatch(r"[-\d,.%]+|-", text))


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h {minutes:02d}m {secs:02d}s" if hours else f"{minutes}m {secs:02d}s"


def format_text(record: dict) -> str:
    """The report as text, as scripts/run.sh prints it."""
    v = record.get("verdict") or verdict(record)
    lines = [f"{record.get('dag_id', 'fsdp_daily')} {record.get('logical_date')}: "
             f"{v.replace('_', ' ').upper()}  (run {record.get('run_id')}, "
             f"{duration_text(record.get('duration_s'))})"]
    if record.get("started_at"):
        lines.append(f"  started {record['started_at']}" + (f", ended {record['ended_at']}" if record.get("ended_at") else ""))
    for name, data in ordered(record.get("sections", {})).items():
        view = view_of(name, data)
        mark = {"warn": "WARN ", "fail": "FAIL "}.get(view.status, "")
        lines.append("")
        lines.append(f"  {SECTION_TITLES.get(name, name)}: {mark}{view.summary}")
        for table in view.tables:
            if table.rows:
                lines += format_table(table)
    return "\n".join(lines)


def _now() -> datetime:
    return datetime.now(timezone.utc)


# the pipeline's own sections register themselves on import
from include.pipeline import report_sections  # noqa: E402,F401  (import for its registrations)
