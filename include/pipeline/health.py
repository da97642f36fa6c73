"""The health of the data product after a publication (fsdp_product_health's task).

Verdict, from the product tables and the publication's asset events:

| verdict | when | the health run |
| --- | --- | --- |
| ``healthy`` | every product table has rows, its quality passed, the day's rejected share is at most ``FSDP_REJECTED_SHARE_WARN`` (0.05) | succeeds |
| ``degraded`` | a table published with quality warnings, or the rejected share is above the threshold | succeeds; its note and the run report say ``degraded`` and why |
| ``unhealthy`` | a product table is missing or empty, or published with failed checks | fails (alerts) |

Writes ``reports/product_health/<date>/<health run id>.json`` and the ``product_health`` section of
the report of every fsdp_daily run whose publication triggered it.
"""
from __future__ import annotations

import json
import logging
import os
from datetime import date

from include.pipeline import product, run_report, settings, summary

log = logging.getLogger(__name__)
DEFAULT_REJECTED_SHARE_WARN = 0.05


def table_profile(con, relation: str) -> dict:
    """Rows, columns and each column's null share of one table."""
    schema, name = relation.split(".", 1)
    columns = [c for (c,) in con.execute(
        "select column_name from information_schema.columns where table_schema = ? and table_name = ? "
        "order by ordinal_position", [schema, name]).fetchall()]
    rows = con.execute(f'select count(*) from "{schema}"."{name}"').fetchone()[0]
    nulls = {}
    if rows and columns:
        exprs = ", ".join(f'count(*) filter (where "{c}" is null)' for c in columns)
        counts = con.execute(f'select {exprs} from "{schema}"."{name}"').fetchone()
        nulls = {c: round(n / rows, 4) for c, n in zip(columns, counts)}
    return {"rows": rows, "columns": len(columns), "null_share": nulls,
            "columns_with_nulls": sum(1 for share in nulls.values() if share)}


def sources_of(triggering_asset_events, conf: dict | None = None) -> dict[str, str | None]:
    """run_id -> logical date of the fsdp_daily runs whose publication triggered this run (the asset
    events' extra, include.pipeline.product.publish); for a run triggered by hand, the conf's
    ``source_run_id`` / ``logical_date``."""
    out: dict[str, str | None] = {}
    for events in (triggering_asset_events or {}).values():
        for event in events:
            extra = dict(getattr(event, "extra", None) or {})
            run_id = extra.get("run_id") or getattr(event, "source_run_id", None)
            if run_id:
                out[run_id] = extra.get("logical_date") or out.get(run_id)
    if not out and (conf or {}).get("source_run_id"):
        out[conf["source_run_id"]] = conf.get("logical_date")
    return out


def verdict_of(problems: list[str], concerns: list[str]) -> str:
    return "unhealthy" if problems else "degraded" if concerns else "healthy"


def report_health(day: date, health_run_id: str, sources: dict[str, str | None] | None = None) -> dict:
    """Profile the product tables, decide the verdict, write the health record and the source
    runs' report sections; raise when the product is unhealthy."""
    sources = sources or {}
    with product.connect() as con:
        counts = product.table_rows(con)
        tables = {t: table_profile(con, t) for t, n in counts.items() if n is not None}
        entities = summary.entity_counts(con, day, {})
        quality = {t: product.quality_status(o) for run_id in sources
                   for t, o in product.quality_by_table(con, run_id).items()}
    problems = product.problems(counts)    # missing, or empty unless it may be (ProductTable.may_be_empty)
    problems += [f"{t} published with failed checks" for t, s in quality.items() if s == "fail"]
    concerns = [f"{t} published with quality warnings" for t, s in quality.items() if s == "warn"]
    rejected = sum(e["rejected"] or 0 for e in entities.values())
    new_rows = sum(e["raw"] or 0 for e in entities.values())
    share = round(rejected / new_rows, 4) if new_rows else None
    limit = float(os.environ.get("FSDP_REJECTED_SHARE_WARN", DEFAULT_REJECTED_SHARE_WARN))
    if share is not None and share > limit:
        concerns.append(f"rejected share {share:.1%} above {limit:.0%}")
    verdict = verdict_of(problems, concerns)
    payload = {"verdict": verdict, "status": verdict, "problems": problems + concerns,
               "health_run_id": health_run_id, "triggered_by": sorted(sources), "tables": tables,
               "entities": entities, "rejected_share": share, "rejected_share_warn": limit}
    path = write_health(day, health_run_id, payload)
    section = {k: payload[k] for k in ("verdict", "problems", "health_run_id", "rejected_share")}
    section["tables"] = {t: {k: v[k] for k in ("rows", "columns", "columns_with_nulls")} for t, v in tables.items()}
    view = run_report.SECTIONS["product_health"].view(section)
    for run_id, logical_date in sources.items():
        run_report.update(logical_date or day.isoformat(), run_id, sections={
            "product_health": {**section, "status": view.status, "summary": view.summary}})
    log.info("product health %s: %s%s; report %s", day, verdict.upper(),
             (" (" + "; ".join(problems + concerns) + ")") if problems or concerns else "", path)
    if problems:
        raise RuntimeError("data product unhealthy: " + "; ".join(problems))
    return {"verdict": verdict, "report": str(path), "rows": {t: v["rows"] for t, v in tables.items()},
            "concerns": concerns}


def health_path(day: date, health_run_id: str):
    return settings.reports_dir() / "product_health" / day.isoformat() / f"{run_report.file_name(health_run_id)}.json"


def write_health(day: date, health_run_id: str, payload: dict):
    path = health_path(day, health_run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({"kind": "product_health", "logical_date": day.isoformat(), **payload},
                              indent=2, sort_keys=True, default=str) + "\n")
    tmp.replace(path)
    return path


def health_note(health_run_id: str) -> str | None:
    """The note of a finished fsdp_product_health run: its verdict and why."""
    for path in (settings.reports_dir() / "product_health").glob(f"*/{run_report.file_name(health_run_id)}.json"):
        record = json.loads(path.read_text())
        text = f"Product health: {record['verdict'].upper()}"
        if record.get("problems"):
            text += " | " + "; ".join(record["problems"])
        if record.get("triggered_by"):
            text += " | published by " + ", ".join(record["triggered_by"])
        return text
    return None
