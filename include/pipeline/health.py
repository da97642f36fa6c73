"""The day's health report of the data product (fsdp_product_health's task)."""
from __future__ import annotations

import logging
from datetime import date

from include.pipeline import product, summary

log = logging.getLogger(__name__)


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
    return {"rows": rows, "columns": len(columns), "null_share": nulls}


def report_health(day: date, triggered_by: list[str] | None = None) -> dict:
    """Profile every product table and the day's accepted/rejected rows; write
    reports/product_health/<day>.json; raise when a product table is missing or empty (unless it
    may be empty, product.ProductTable.may_be_empty)."""
    with product.connect() as con:
        counts = product.table_rows(con)
        tables = {t: table_profile(con, t) for t, n in counts.items() if n is not None}
        entities = summary.entity_counts(con, day, {})
    problems = product.problems(counts)
    rejected = sum(e["rejected"] or 0 for e in entities.values())
    new_rows = sum(e["raw"] or 0 for e in entities.values())
    payload = {
        "status": "unhealthy" if problems else "healthy",
        "problems": problems,
        "triggered_by": triggered_by or [],
        "tables": tables,
        "entities": entities,
        "rejected_share": round(rejected / new_rows, 4) if new_rows else None,
    }
    path = product.write_report("product_health", day, payload)
    log.info("product health %s: %s; tables %s; rejected share %s; report %s", day, payload["status"],
             ", ".join(f"{t}={v['rows']}" for t, v in tables.items()), payload["rejected_share"], path)
    if problems:
        raise RuntimeError("data product unhealthy: " + "; ".join(problems))
    return {"status": payload["status"], "report": str(path),
            "rows": {t: v["rows"] for t, v in tables.items()}}
