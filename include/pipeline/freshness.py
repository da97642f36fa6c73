"""dbt source freshness of the landing, once per fsdp_daily run (task ``source_freshness``).

The sources declare ``warn_after`` 1 day and ``error_after`` 3 days
(dbt_project/models/raw/_landing__sources.yml); their ``loaded_at_query`` is the newest landed
file's last-modified time (a blob listing, no file read). Staleness never fails the run: dbt's
exit code 1 for an error-level source is expected, and the result goes to the run report
(section ``freshness``, which marks the run with warnings) and to the catalog. A source dbt could
not check at all (``runtime error``: storage unreachable, a broken query) fails the task.

Result file: ``<FSDP_REPORTS_DIR>/freshness/<logical date>/<run id>.json``.
"""
from __future__ import annotations

import json
import logging
import tempfile
from datetime import date
from pathlib import Path

log = logging.getLogger(__name__)


NEVER_LANDED = "never landed"


def parse_sources_json(doc: dict, expected: list[str] | None = None) -> dict:
    """dbt's sources.json -> ``{"as_of", "sources": [{source, table, status, max_loaded_at, age_hours,
    criteria}], "counts"}``. A source with no file at all (dbt: error, loaded at year 1) is
    ``never landed`` (customer_updates before the first update day); an ``expected`` source
    (``source.<project>.<source>.<table>``) missing from the results is a ``runtime error`` (dbt
    leaves out sources whose query failed)."""
    sources = []
    seen = set()
    for r in doc.get("results", []):
        seen.add(r.get("unique_id"))
        _, _, source, table = (r.get("unique_id") or "source.?.?.?").split(".", 3)
        criteria = r.get("criteria") or {}

        def _after(key):
            c = criteria.get(key) or {}
            return f"{c['count']} {c['period']}" if c.get("count") else "-"

        age = r.get("max_loaded_at_time_ago_in_s")
        status = r.get("status")
        if str(r.get("max_loaded_at") or "").startswith("0001-01-01"):
            status, age = NEVER_LANDED, None
            r = {**r, "max_loaded_at": None}
        sources.append({
            "source": source, "table": table, "status": status,
            "max_loaded_at": r.get("max_loaded_at"), "age_hours": round(age / 3600, 2) if age is not None else None,
            "criteria": f"{_after('warn_after')} / {_after('error_after')}",
            "error": (r.get("error") or r.get("message")) if r.get("status") == "runtime error" else None,
        })
    for unique_id in sorted(set(expected or []) - seen):
        _, _, source, table = unique_id.split(".", 3)
        sources.append({"source": source, "table": table, "status": "runtime error", "max_loaded_at": None,
                        "age_hours": None, "criteria": "-", "error": "dbt returned no result (see the task log)"})
    counts: dict[str, int] = {}
    for s in sources:
        counts[s["status"]] = counts.get(s["status"], 0) + 1
    as_of = (doc.get("metadata") or {}).get("generated_at")
    return {"as_of": as_of, "sources": sources, "counts": counts}


def result_path(logical_date: date, run_id: str) -> Path:
    """Where a run's freshness result is written."""
    from include.pipeline import settings
    from include.pipeline.run_report import file_name

    return settings.reports_dir() / "freshness" / logical_date.isoformat() / f"{file_name(run_id)}.json"


def expected_sources() -> list[str]:
    """unique ids of the sources that declare freshness, from the manifest Cosmos renders from."""
    from include.pipeline import settings

    path = settings.dbt_manifest_path()
    if not path.exists():
        return []
    manifest = json.loads(path.read_text())
    return sorted(uid for uid, node in manifest.get("sources", {}).items()
                  if (node.get("freshness") or {}).get("error_after", {}).get("count")
                  or (node.get("freshness") or {}).get("warn_after", {}).get("count"))


def run_source_freshness(logical_date: date, run_id: str) -> dict:
    """Run ``dbt source freshness``; write and return the parsed result (see the module doc)."""
    from include.pipeline.dbt import _run_dbt, release_dbt_duckdb

    release_dbt_duckdb()
    with tempfile.TemporaryDirectory(prefix="fsdp-freshness-") as tmp:
        code = _run_dbt("source", "freshness", target_path=Path(tmp), ok_codes=(0, 1))
        sources_json = Path(tmp) / "sources.json"
        if not sources_json.exists():
            raise RuntimeError(f"dbt source freshness (exit {code}) wrote no sources.json")
        result = parse_sources_json(json.loads(sources_json.read_text()), expected_sources())
    result["logical_date"] = logical_date.isoformat()
    result["run_id"] = run_id
    path = result_path(logical_date, run_id)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp_path = path.with_suffix(".json.tmp")
    tmp_path.write_text(json.dumps(result, indent=2, default=str) + "\n")
    tmp_path.replace(path)
    line = ", ".join(f"{s['table']} {s['status']}" + (f" ({s['age_hours']:.1f} h)" if s["age_hours"] is not None else "")
                     for s in result["sources"])
    log.info("source freshness: %s (%s)", line, path)
    broken = [s for s in result["sources"] if s["status"] == "runtime error"]
    if broken:
        raise RuntimeError("dbt source freshness could not check " + "; ".join(
            f"{s['source']}.{s['table']}: {s['error']}" for s in broken))
    return {"path": str(path), "counts": result["counts"],
            "stale": [s["table"] for s in result["sources"] if s["status"] in ("warn", "error")]}


def counts_for_run(logical_date: date, as_of: date | None = None) -> bool:
    """Whether staleness marks a run of ``logical_date``: dbt judges freshness against the wall
    clock, which says how fresh the landing is now; for a backfill of an older date (more than
    ``FSDP_FRESHNESS_RUN_WINDOW_DAYS``, default 2, before ``as_of``) that is not that run's news."""
    import os
    from datetime import datetime, timedelta, timezone

    as_of = as_of or datetime.now(timezone.utc).date()
    return logical_date >= as_of - timedelta(days=int(os.environ.get("FSDP_FRESHNESS_RUN_WINDOW_DAYS", "2")))
