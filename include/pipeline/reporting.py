"""fsdp_daily's reporting tasks: ``run_report`` (writes the run report) and ``quality_warnings``
(marks a run with warnings). Both are teardowns: they run whatever happened upstream and their own
state never decides the run's."""
from __future__ import annotations

import logging
from datetime import date

from include.pipeline import run_report

log = logging.getLogger(__name__)


def task_states(ti, dag_id: str, run_id: str) -> dict[str, dict]:
    """task_id -> {state, duration, operator} of the run's finished tasks (Task SDK, no DB access)."""
    out = {}
    for crumb in ti.get_task_breadcrumbs(dag_id=dag_id, run_id=run_id):
        task_id = crumb["task_id"] + (f"[{crumb['map_index']}]" if (crumb.get("map_index") or -1) >= 0 else "")
        state = crumb.get("state")
        out[task_id] = {"state": str(getattr(state, "value", state)), "duration": crumb.get("duration"),
                        "operator": crumb.get("operator")}
    return out


def write_run_report(ti, dag_run, day: date, params: dict) -> str:
    """Build every section of the run's report and store it; returns the report's path."""
    record = run_report.collect(
        dag_run.dag_id, dag_run.run_id, day, params, task_states(ti, dag_run.dag_id, dag_run.run_id),
        landed=ti.xcom_pull(task_ids="landing_inventory"), started_at=run_report.true_start(dag_run),
        run_type=str(getattr(dag_run.run_type, "value", dag_run.run_type)))
    path = run_report.report_path(day, dag_run.run_id)
    log.info("run report %s: %s", path, run_report.verdict_line(record))
    for line in run_report.format_text(record).splitlines():
        log.info("%s", line)
    return str(path)


def warnings_of(gate: dict | None, freshness: dict | None, day: date) -> list[str]:
    """The run's warnings: warn-level quality checks, and stale sources when staleness counts for
    the run (include.pipeline.freshness.counts_for_run)."""
    from include.pipeline.freshness import counts_for_run

    out = [f"quality check {name}" for name in (gate or {}).get("warnings", [])]
    if freshness and freshness.get("stale") and counts_for_run(day):
        out += [f"stale source landing.{t}" for t in freshness["stale"]]
    return out


def flag_warnings(ti, dag_run, day: date) -> str:
    """End green when the run has nothing to warn about; otherwise send the warning alert and fail
    this (teardown) task, which marks the run in the grid without failing it."""
    from airflow.sdk import get_current_context
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    from include.pipeline.alerts import FsdpAlertNotifier

    gate = ti.xcom_pull(task_ids="quality_gate")
    if gate is None:
        raise AirflowSkipException("the quality gate did not finish: the run failed before it (see the run report)")
    warnings = warnings_of(gate, ti.xcom_pull(task_ids="source_freshness"), day)
    if not warnings:
        log.info("no quality warnings and no stale source for %s", day)
        return "no warnings"
    message = f"{len(warnings)} warning{'s' if len(warnings) != 1 else ''}: " + ", ".join(warnings)
    FsdpAlertNotifier("quality_warnings", message=message)(get_current_context())
    raise AirflowFailException(f"{message}. This marks the run; it does not fail it (the product was published).")
