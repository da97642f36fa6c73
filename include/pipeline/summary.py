"""The run report (written by fsdp_daily's publish task) and the run summary printed by
scripts/run.sh (``python -m include.pipeline.summary --date YYYY-MM-DD``).

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


def publish_run_report(logical_date: date, landed: dict[str, int], params: dict) -> Path:
    """fsdp_daily's publication step: verify the product tables (missing or empty fails the run),
    count landed/accepted/rejected per entity, write reports/runs/<date>.json; returns its path."""
    tables = product.verify_product()
    with product.connect() as con:
        entities = entity_counts(con, logical_date, landed)
        refused = ledger_report.refused_files(con, logical_date)
    return product.write_report("runs", logical_date, {
        "params": params, "entities": entities, "product_tables": tables, "refused_files": refused,
        "duckdb": str(settings.duckdb_path()), "dbt_docs": str(settings.dbt_docs_dir()),
    })


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
        return {"run_id": run.run_id, "state": str(run.state),
                "tasks": {ti.task_id: str(ti.state) for ti in tis}}


def check_counts(tasks: dict[str, str]) -> dict[str, dict[str, int]]:
    """Checks by kind and state: dbt test tasks (Cosmos' ``dbt.<model>.test``, and ``dbt.<test>_test``
    for a test detached because it covers several models) and the publish check."""
    out: dict[str, dict[str, int]] = {}
    for task_id, state in tasks.items():
        if task_id.startswith("dbt.") and task_id.endswith((".test", "_test")):
            kind = "dbt tests"
        elif task_id == "publish_data_product":
            kind = "product publication"
        else:
            continue
        out.setdefault(kind, {}).setdefault(state, 0)
        out[kind][state] += 1
    return out


def quality_outcomes(con, run_id: str) -> dict[str, list[str]]:
    """Soda check names by outcome (pass/warn/fail/error) for the run, from the quality history."""
    if not con.execute("select count(*) from information_schema.tables where table_schema = 'quality' "
                       "and table_name = 'check_results'").fetchone()[0]:
        return {}
    out: dict[str, list[str]] = {}
    for outcome, dataset, check in con.execute(
            "select outcome, dataset, check_name from quality.check_results where run_id = ? order by 2, 3",
            [run_id]).fetchall():
        out.setdefault(outcome, []).append(f"{dataset}.{check}")
    return out


def build_summary(logical_date: date) -> dict:
    """Everything the summary prints, from the Airflow DB, the run report and the warehouse."""
    summary: dict = {"logical_date": logical_date.isoformat(), "duckdb": str(settings.duckdb_path()),
                     "dbt_docs": str(settings.dbt_docs_dir() / "index.html")}
    run = dag_run_states(logical_date)
    summary["run"] = run
    report_path = settings.reports_dir() / "runs" / f"{logical_date.isoformat()}.json"
    report = json.loads(report_path.read_text()) if report_path.exists() else None
    summary["report"] = str(report_path) if report else None
    landed = {}
    if report:
        landed = {e: v["landed"] for e, v in report["entities"].items()}
    else:
        try:
            from include.pipeline.landing import landed_rows
            landed = landed_rows(logical_date)
        except Exception as exc:  # storage down: the summary still reports the rest
            summary["landing_error"] = str(exc).splitlines()[0]
    try:
        with product.connect() as con:
            summary["entities"] = entity_counts(con, logical_date, landed)
            summary["refused_files"] = ledger_report.refused_files(con, logical_date)
            summary["product_tables"] = product.table_rows(con)
            if run:
                summary["quality"] = quality_outcomes(con, run["run_id"])
    except Exception as exc:
        summary["warehouse_error"] = str(exc).splitlines()[0]
        summary["entities"] = {e: {"landed": landed.get(e)} for e in ENTITY_MODELS}
    summary["checks"] = check_counts(run["tasks"]) if run else {}
    return summary


def _n(value) -> str:
    return "-" if value is None else f"{value:,}"


def format_summary(s: dict) -> str:
    """The summary as text: run state, per-entity table, checks, product tables, where things are."""
    run = s.get("run") or {}
    state = run.get("state", "not run")
    lines = [f"fsdp_daily {s['logical_date']}: {state.upper()}" + (f"  (run {run['run_id']})" if run else "")]
    tasks = run.get("tasks", {})
    failed = sorted(t for t, st in tasks.items() if st == "failed")
    if failed:
        lines.append("  failed tasks: " + ", ".join(failed))
    not_run = [t for t, st in tasks.items() if st == "upstream_failed"]
    if not_run:
        lines.append(f"  {len(not_run)} downstream tasks did not run (upstream_failed)")
    lines.append("")
    lines.append(f"  {'entity':<18}{'files':>6}{'landed':>11}{'refused':>9}{'copies':>8}{'new in raw':>12}"
                 f"{'accepted':>10}{'rejected':>10}")
    for entity, row in s.get("entities", {}).items():
        lines.append(f"  {entity:<18}{_n(row.get('files')):>6}{_n(row.get('landed')):>11}"
                     f"{_n(row.get('refused_rows')):>9}{_n(row.get('exact_duplicates')):>8}{_n(row.get('raw')):>12}"
                     f"{_n(row.get('accepted')):>10}{_n(row.get('rejected')):>10}")
    lines.append("  (landed = refused + copies + new in raw: rows of refused files, exact copies of rows already "
                 "landed, rows added to the raw history; new in raw = accepted + rejected)")
    unaccounted = sum(row.get("unaccounted_rows") or 0 for row in s.get("entities", {}).values())
    if unaccounted:
        lines.append(f"  UNACCOUNTED: {unaccounted:,} landed rows are neither in the raw history nor exact copies")
    refused = s.get("refused_files") or []
    if refused:
        lines.append(f"  refused files ({len(refused)}; the other files were built and served):")
        lines.extend(f"    {ledger_report.refusal_line(f)}" for f in refused)
    lines.append("")
    for kind, states in s.get("checks", {}).items():
        lines.append(f"  checks, {kind}: " + ", ".join(f"{n} {st}" for st, n in sorted(states.items())))
    quality = s.get("quality") or {}
    if quality:
        lines.append("  checks, soda quality gate: " + ", ".join(
            f"{len(quality[o])} {o}" for o in ("pass", "warn", "fail", "error") if quality.get(o)))
        for outcome in ("fail", "error", "warn"):
            if quality.get(outcome):
                lines.append(f"    {outcome}: " + ", ".join(quality[outcome]))
    if s.get("product_tables"):
        lines.append("  product tables: " + ", ".join(f"{t} {_n(n)}" for t, n in s["product_tables"].items()))
    for key in ("landing_error", "warehouse_error"):
        if s.get(key):
            lines.append(f"  {key.replace('_', ' ')}: {s[key]}")
    lines.append("")
    lines.append(f"  DuckDB file : {s['duckdb']}")
    lines.append(f"  dbt docs    : {s['dbt_docs']}  (in the Airflow UI: Browse > dbt Docs, scripts/airflow.sh)")
    if s.get("report"):
        lines.append(f"  run report  : {s['report']}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.pipeline.summary",
                                     description="Summary of the fsdp_daily run of a logical date.")
    parser.add_argument("--date", type=date.fromisoformat, required=True)
    parser.add_argument("--json", action="store_true", help="print JSON instead of text")
    args = parser.parse_args(argv)
    import logging

    logging.getLogger("azure").setLevel(logging.WARNING)
    summary = build_summary(args.date)
    print(json.dumps(summary, indent=2, default=str) if args.json else format_summary(summary))
    return 0 if (summary.get("run") or {}).get("state") == "success" else 1


if __name__ == "__main__":
    sys.exit(main())
