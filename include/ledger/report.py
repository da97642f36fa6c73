"""The landing ledger as the run report shows it (include/pipeline/report_sections.py, section
``landing``; warehouse queries only).

``entity_rows(con, day)``: per entity, the day's files and what became of their rows;
``refused_files(con, day)``: every file refused for the day, with its reason and detail.
Both return plain dicts (JSON-able), {} / [] when the ledger does not exist yet.
"""
from __future__ import annotations

from datetime import date

LEDGER = "fs_accelerator.landing_ledger"


def exists(con) -> bool:
    return bool(con.execute("select count(*) from information_schema.tables "
                            "where table_schema = 'fs_accelerator' and table_name = 'landing_ledger'").fetchone()[0])


def entity_rows(con, day: date) -> dict[str, dict]:
    """entity -> files, refused_files, landed (rows of the day's part files), refused_rows,
    exact_duplicates, conflicting_rows, new_rows, unaccounted_rows (parts with dt=day)."""
    if not exists(con):
        return {}
    rows = con.execute(f"""
        select entity,
               count(*) as files,
               count(*) filter (where outcome = 'refused') as refused_files,
               coalesce(sum(rows), 0) as landed,
               coalesce(sum(refused_rows), 0) as refused_rows,
               coalesce(sum(exact_duplicates), 0) as exact_duplicates,
               coalesce(sum(conflicting_rows), 0) as conflicting_rows,
               coalesce(sum(new_rows), 0) as new_rows,
               coalesce(sum(unaccounted_rows), 0) as unaccounted_rows
        from {LEDGER}
        where kind <> 'manifest' and entity is not null and landed_date = ?
        group by entity order by entity""", [day]).fetchall()
    names = ("files", "refused_files", "landed", "refused_rows", "exact_duplicates", "conflicting_rows",
             "new_rows", "unaccounted_rows")
    return {r[0]: {n: int(v) for n, v in zip(names, r[1:])} for r in rows}


def refused_files(con, day: date) -> list[dict]:
    """Files refused for ``day``: those of its dt= folder, and files outside any date folder that
    its run registered; path, entity, reason, detail, rows, landed_date (None outside a date folder)."""
    if not exists(con):
        return []
    rows = con.execute(f"""
        select path, entity, refusal_reason, refusal_detail, rows, landed_date
        from {LEDGER}
        where outcome = 'refused'
          and (landed_date = ? or (landed_date is null and registered_for_date = ?))
        order by path""", [day, day]).fetchall()
    return [{"path": p, "entity": e, "reason": r, "detail": d, "rows": n,
             "landed_date": landed.isoformat() if landed else None}
            for p, e, r, d, n, landed in rows]

