"""What scripts/run.sh prints after a run (``python -m include.pipeline.summary --date YYYY-MM-DD``):
the run report (include/pipeline/run_report.py) of the latest fsdp_daily run of that date, closed
with the state and times from Airflow's metadata DB, and its run state (the warehouse's run log: a
run whose process died shows DIED, with what to run) and retries as they stand now; and the
per-entity counts the report uses.

Per landed entity and logical date: rows landed (counted in the files themselves by the landing
ledger, fs_accelerator.landing_ledger; the manifest's count is kept as ``manifest``), rows in refused
files, exact copies of rows already landed, rows new in the raw history, and of those the rows
accepted by the cleansing and rejected to the quarantine (raw = accepted + rejected, a dbt test;
landed = refused + exact copies + raw, the ledger's test). Every refused file is listed with its reason.
"""
from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from include.ledger import report as ledger_report
from include.pipeline import product, settings

DAG_ID = "fsdp_daily"


@dataclass(frozen=True)
class EntityModels:
    raw: str          # the raw history model: one row per landed version
    rejected: str     # the quarantine model: raw rows that failed a cleansing rule


# landing entity -> its dbt models (customers and customer_updates share one history, as in the seed)
ENTITY_MODELS = {
    "customers": EntityModels("customer_overview_raw", "customer_overview_rejected"),
    "customer_updates": EntityModels("customer_overview_raw", "customer_overview_rejected"),
    "products": EntityModels("product_raw", "product_rejected"),
    "accounts": EntityModels("account_raw", "account_rejected"),
    "transactions": EntityModels("transaction_raw", "transaction_rejected"),
    "campaign_events": EntityModels("campaign_event_raw", "campaign_event_rejected"),
}


def _relations(con) -> dict[str, str]:
    """table name -> "schema"."table" for every table and view in the warehouse."""
    return {name: f'"{schema}"."{name}"' for schema, name in con.execute(
        "select table_schema, table_name from information_schema.tables").fetchall()}


def entity_counts(con, logical_date: date, landed: dict[str, int]) -> dict[str, dict]:
    """Per entity: landed, raw (new versions), accepted, rejected for ``logical_date``; None where a
    model does not exist (yet). ``landed`` (the manifests' counts) is used until the landing ledger
    exists; with it, landed is the rows the files hold, and the ledger's counts are added (files,
    refused_files, refused_rows, exact_duplicates, conflicting_rows, unaccounted_rows)."""
    rel = _relations(con)
    ledger = ledger_report.entity_rows(con, logical_date)
    out = {}
    for entity, models in ENTITY_MODELS.items():
        row = {"landed": landed.get(entity), "raw": None, "accepted": None, "rejected": None}
        if entity in ledger:
            counted = ledger[entity]
            row.update({"landed": counted["landed"], "manifest": landed.get(entity), "files": counted["files"],
                        "refused_files": counted["refused_files"], "refused_rows": counted["refused_rows"],
                        "exact_duplicates": counted["exact_duplicates"],
                        "conflicting_rows": counted["conflicting_rows"],
                        "unaccounted_rows": counted["unaccounted_rows"]})
        args = [entity, logical_date]
        where = "where _landing_entity = ? and cast(_landed_date as date) = ?"
        if models.raw in rel:
            row["raw"] = con.execute(f"select count(*) from {rel[models.raw]} {where}", args).fetchone()[0]
        if models.rejected in rel:
            row["rejected"] = con.execute(f"select count(*) from {rel[models.rejected]} {where}", args).fetchone()[0]
        if row["raw"] is not None and row["rejected"] is not None:
            row["accepted"] = row["raw"] - row["rejected"]
        out[entity] = row
    return out


def dag_run_states(logical_date: date) -> dict | None:
    """State of the latest fsdp_daily run for ``logical_date`` and of its tasks, from Airflow's
    metadata DB (the summary runs in the same environment as the run)."""
    from airflow.models.dagrun import DagRun
    from airflow.models.taskinstance import TaskInstance
    from airflow.utils.session import create_session
    from sqlalchemy import func, select

    with create_session() as session:
        runs = session.scalars(select(DagRun).where(DagRun.dag_id == DAG_ID)
                               .where(func.date(DagRun.logical_date) == logical_date.isoformat())
                               .order_by(DagRun.id.desc())).all()
        if not runs:
            return None
        run = runs[0]
        tis = session.scalars(select(TaskInstance).where(TaskInstance.dag_id == DAG_ID)
                              .where(TaskInstance.run_id == run.run_id)).all()
        from include.pipeline.run_report import true_start

        return {"run_id": run.run_id, "state": str(getattr(run.state, "value", run.state)),
                "started_at": true_start(run), "ended_at": run.end_date, "conf": run.conf,
                "run_type": str(getattr(run.run_type, "value", run.run_type)),
                "tasks": {ti.task_id: str(getattr(ti.state, "value", ti.state)) for ti in tis},
                # a try number above 1: Airflow retried the whole task (after the calls' own retries)
                "try_numbers": {ti.task_id: ti.try_number for ti in tis}}


def close_report(logical_date: date) -> dict | None:
    """The report of the latest fsdp_daily run of ``logical_date``, closed with the state and times
    Airflow recorded (the listener does it when the run ends; ``airflow dags test`` may end before
    it runs); built from the metadata DB and the warehouse when the run died before its report."""
    from include.pipeline import run_report

    run = dag_run_states(logical_date)
    if run is None:
        return None
    record = run_report.find(run["run_id"])
    if record is None or "tasks" not in record.get("sections", {}):
        record = run_report.collect(DAG_ID, run["run_id"], logical_date, run.get("conf") or {},
                                    {t: {"state": s} for t, s in run["tasks"].items()},
                                    started_at=run.get("started_at"), run_type=run.get("run_type"))
    # the run log and the retries as they stand now (end_run ran after the run_report task; a run
    # whose process died has no end_run), with Airflow's own task retries
    run_report.refresh(DAG_ID, run["run_id"], logical_date, ["run_state", "retries"],
                       tasks={t: {"state": s, "try_number": run["try_numbers"].get(t)} for t, s in run["tasks"].items()})
    record = run_report.finish(logical_date, run["run_id"], run["state"], run.get("started_at"), run.get("ended_at"))
    set_note(DAG_ID, run["run_id"], run_report.verdict_line(record))
    health_run = (record["sections"].get("product_health") or {}).get("health_run_id")
    if health_run:
        from include.pipeline.health import health_note
        from include.pipeline.run_listener import HEALTH_DAG_ID

        note = health_note(health_run)
        if note:
            set_note(HEALTH_DAG_ID, health_run, note)
    return record


def set_note(dag_id: str, run_id: str, note: str) -> None:
    """The run's note in the metadata DB (the listener sets it for scheduler runs; ``airflow dags
    test`` hands the listener a run it cannot write to)."""
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    from include.pipeline.run_listener import NOTE_LIMIT

    with create_session() as session:
        run = session.scalars(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)).first()
        if run is not None:
            run.note = note[:NOTE_LIMIT]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.pipeline.summary",
                                     description="The run report of the latest fsdp_daily run of a logical date.")
    parser.add_argument("--date", type=date.fromisoformat, required=True)
    parser.add_argument("--json", action="store_true", help="print the record as JSON instead of text")
    args = parser.parse_args(argv)
    import logging

    from include.pipeline import run_report

    logging.getLogger("azure").setLevel(logging.WARNING)
    record = close_report(args.date)
    if record is None:
        print(f"{DAG_ID} {args.date}: no run of this date in the Airflow metadata DB")
        return 1
    if args.json:
        print(json.dumps(record, indent=2, default=str))
    else:
        print(run_report.format_text(record))
        print(f"\n  run report  : {run_report.report_path(args.date, record['run_id'])}"
              "\n  in the UI   : scripts/airflow.sh, then Browse > Run reports (FSDP data product)")
    return 0 if record.get("state") == "success" and record.get("verdict") != "died" else 1


if __name__ == "__main__":
    sys.exit(main())
