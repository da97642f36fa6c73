"""The pipeline's sections of the run report (include/pipeline/run_report.py explains the record).

Order: tasks, run state (the warehouse's run log: repairs, deaths), entities (rows per entity and
stage), landing (the landing ledger: files registered, refused files with their reason, every landed
row accounted for), failed rules, quality, source freshness, output port (written by
publish_output_port), retries (retried storage and catalog calls, task retries), product health,
locations. Each is a ``build`` over the run (task states, the warehouse read-only, the freshness
result) and a ``view`` (summary, status, tables) shared by the text and HTML pages.
"""
from __future__ import annotations

import json
from datetime import date

from include.pipeline import settings
from include.pipeline.run_report import (REPORTING_TASKS, RunContext, Section, Table, View, duration_text,
                                         register)

TOP_RULES = 5


def _plural(n: int, word: str) -> str:
    return f"{n:,} {word}" + ("" if n == 1 else "s")


# ---- tasks -------------------------------------------------------------------------------------

def build_tasks(ctx: RunContext) -> dict | None:
    if not ctx.tasks:
        return None
    tasks = {t: v for t, v in ctx.tasks.items() if t not in REPORTING_TASKS}
    counts: dict[str, int] = {}
    for info in tasks.values():
        counts[str(info.get("state"))] = counts.get(str(info.get("state")), 0) + 1
    dbt_tests: dict[str, int] = {}
    for task_id, info in tasks.items():
        if task_id.startswith("dbt.") and task_id.endswith((".test", "_test")):
            dbt_tests[str(info.get("state"))] = dbt_tests.get(str(info.get("state")), 0) + 1
    return {
        "counts": counts,
        "failed": sorted(t for t, v in tasks.items() if v.get("state") == "failed"),
        "upstream_failed": sorted(t for t, v in tasks.items() if v.get("state") == "upstream_failed"),
        "dbt_tests": dbt_tests,
        "tasks": {t: {k: v for k, v in info.items() if k in ("state", "duration", "try_number")}
                  for t, info in sorted(tasks.items())},
    }


def view_tasks(data: dict) -> View:
    counts = data.get("counts", {})
    total = sum(counts.values())
    summary = f"{total} tasks: " + ", ".join(f"{n} {s}" for s, n in sorted(counts.items(), key=lambda kv: -kv[1]))
    if data.get("dbt_tests"):
        summary += "; dbt tests: " + ", ".join(f"{n} {s}" for s, n in sorted(data["dbt_tests"].items()))
    tasks = data.get("tasks", {})
    not_ok = [[t, v.get("state"), duration_text(v.get("duration"))] for t, v in tasks.items()
              if v.get("state") not in ("success", "skipped")]
    slowest = sorted(((t, v.get("duration") or 0) for t, v in tasks.items()), key=lambda tv: -tv[1])[:5]
    tables = [Table(["task", "state", "duration"], not_ok, "tasks not successful")] if not_ok else []
    tables.append(Table(["task", "duration"], [[t, duration_text(d)] for t, d in slowest], "slowest tasks"))
    return View(summary, "fail" if data.get("failed") else "ok", tables)


# ---- run state: the warehouse's run log, repairs, deaths (include/pipeline/runstate.py) ---------

def build_run_state(ctx: RunContext) -> dict | None:
    from include.pipeline import runstate

    if ctx.con is None:
        return None
    return runstate.report_section(ctx.con, ctx.run_id, ctx.logical_date)


def view_run_state(data: dict) -> View:
    parts, status = [], "ok"
    if data.get("died"):
        status = "fail"
        parts.append(f"DIED ({data['died'].get('detail') or 'its process is gone'}); repair: "
                     f"{data['died'].get('repair', '')}")
    else:
        parts.append(f"run log: {data.get('run_log')}")
    for r in data.get("repairing") or []:
        parts.append(f"repaired: run {r['run_id']} for {r['logical_date']} had died mid-build; this run "
                     f"rebuilt what it left")
    prev = data.get("previous_run") or {}
    if prev.get("status") == "died":
        parts.append(f"previous run of this date {prev['run_id']}: DIED ({prev.get('detail') or ''})")
    last = data.get("warehouse_last_complete")
    if last:
        parts.append(f"warehouse last built completely by run {last['run_id']} ({last['logical_date']}), "
                     f"finished {last['finished_at']}")
    else:
        parts.append("no run has built the warehouse completely yet")
    return View("; ".join(parts), status)


# ---- the output port (include/output_port; written by publish_output_port) ------------------------

def record_output_port(logical_date: date, run_id: str, result: dict) -> dict:
    """publish_output_port's section of the run report: what each port published."""
    from include.pipeline import run_report

    return run_report.record_section(logical_date, run_id, "output_port", {"ports": (result or {}).get("ports") or {}})


def view_output_port(data: dict) -> View:
    rows, parts = [], []
    for name, port in (data.get("ports") or {}).items():
        for table, r in port.get("tables", {}).items():
            rows.append([name, table, r.get("status"), r.get("rows"), r.get("rewritten"), r.get("partitions")])
        parts.append(f"{name} (audience {', '.join(port.get('audience') or []) or 'public'}): " + ", ".join(
            f"{t} {r['status']}" + (f" ({r['rewritten']} of {r['partitions']} partitions written)"
                                    if r.get("status") != "unchanged" else "")
            for t, r in port.get("tables", {}).items()))
    if not parts:
        return View("nothing published", "info")
    return View("; ".join(parts), "ok", [Table(["port", "table", "status", "rows", "partitions written", "partitions"],
                                              rows, "output port")])


# ---- retries: every retried storage or catalog call, and Airflow's task retries ---------------------

def build_retries(ctx: RunContext) -> dict | None:
    from include.pipeline import events

    task_retries = {t: int(v["try_number"]) - 1 for t, v in (ctx.tasks or {}).items()
                    if int(v.get("try_number") or 0) > 1}
    return {"systems": events.retry_summary(ctx.run_id), "task_retries": task_retries}


def view_retries(data: dict) -> View:
    systems, task_retries = data.get("systems") or {}, data.get("task_retries") or {}
    if not systems and not task_retries:
        return View("none (no storage or catalog call was retried)")
    parts = [f"{system} {r['retries']} (waited {r['waited_s']:.0f} s; {', '.join(list(r['calls'])[:2])})"
             for system, r in systems.items()]
    parts += [f"task {t} retried {n}x" for t, n in task_retries.items()]
    rows = [[system, r["retries"], r["waited_s"], ", ".join(r.get("tasks") or []), ", ".join(r["calls"])]
            for system, r in systems.items()]
    return View("; ".join(parts), "info",
                [Table(["system", "retried calls", "waited s", "tasks", "calls retried most"], rows, "retries")]
                if rows else [])


# ---- rows per entity and stage -------------------------------------------------------------------

def build_entities(ctx: RunContext) -> dict | None:
    from include.pipeline import product, summary

    if ctx.con is None:
        return {"entities": {e: {"landed": (ctx.landed or {}).get(e)} for e in summary.ENTITY_MODELS},
                "product_tables": {}}
    return {"entities": summary.entity_counts(ctx.con, ctx.logical_date, ctx.landed or {}),
            "product_tables": product.table_rows(ctx.con)}


def view_entities(data: dict) -> View:
    entities = data.get("entities", {})
    total = {k: sum(v.get(k) or 0 for v in entities.values()) for k in ("landed", "raw", "accepted", "rejected")}
    summary = (f"{total['landed']:,} rows landed, {total['raw']:,} new in raw, {total['accepted']:,} accepted, "
               f"{total['rejected']:,} rejected")
    # landed = refused + copies + new in raw (the landing ledger's counts; the landing section has the files)
    tables = [Table(["entity", "landed", "refused", "copies", "new in raw", "accepted", "rejected"],
                    [[e, v.get("landed"), v.get("refused_rows"), v.get("exact_duplicates"), v.get("raw"),
                      v.get("accepted"), v.get("rejected")]
                     for e, v in entities.items()], "rows per entity and stage")]
    if data.get("product_tables"):
        tables.append(Table(["product table", "rows"], [[t, n] for t, n in data["product_tables"].items()],
                            "data product tables"))
    missing = [t for t, n in data.get("product_tables", {}).items() if not n]
    return View(summary + (f"; missing or empty: {', '.join(missing)}" if missing else ""),
                "fail" if missing else "ok", tables)


# ---- the landing ledger ---------------------------------------------------------------------------

def build_landing(ctx: RunContext) -> dict | None:
    """The date's files in fs_accelerator.landing_ledger: per entity, files and what became of their
    rows; every refused file with its reason. None before the ledger exists."""
    from include.ledger import report as ledger_report

    if ctx.con is None or not ledger_report.exists(ctx.con):
        return None
    return {"entities": ledger_report.entity_rows(ctx.con, ctx.logical_date),
            "refused_files": ledger_report.refused_files(ctx.con, ctx.logical_date)}


def view_landing(data: dict) -> View:
    from include.ledger import report as ledger_report

    entities, refused = data.get("entities", {}), data.get("refused_files", [])
    total = {k: sum(v.get(k) or 0 for v in entities.values())
             for k in ("files", "refused_rows", "exact_duplicates", "conflicting_rows", "unaccounted_rows")}
    # files outside an entity's date folder are not in the per-entity counts
    files = total["files"] + sum(1 for f in refused if not f.get("entity") or not f.get("landed_date"))
    summary = (f"{_plural(files, 'file')} registered, {len(refused):,} refused ({total['refused_rows']:,} rows); "
               f"{total['exact_duplicates']:,} exact copies, {total['conflicting_rows']:,} conflicting rows")
    if total["unaccounted_rows"]:
        summary += f"; UNACCOUNTED: {total['unaccounted_rows']:,} landed rows"
    elif refused:
        summary += "; the other files were built and served"
    tables = [Table(["entity", "files", "refused files", "landed", "refused rows", "exact copies", "conflicting",
                     "new in raw", "unaccounted"],
                    [[e, v.get("files"), v.get("refused_files"), v.get("landed"), v.get("refused_rows"),
                      v.get("exact_duplicates"), v.get("conflicting_rows"), v.get("new_rows"), v.get("unaccounted_rows")]
                     for e, v in entities.items()], "files and rows per entity (landed = refused + copies + new in raw)")]
    if refused:
        tables.append(Table(["refused file", "reason", "detail", "rows"],
                            [[f["path"], f["reason"], f["detail"], f.get("rows")] for f in refused],
                            f"refused files ({len(refused)}): {ledger_report.LEDGER}"))
    status = "fail" if total["unaccounted_rows"] else "warn" if refused else "ok"
    return View(summary, status, tables)


# ---- top failed rules per entity -----------------------------------------------------------------

def build_failed_rules(ctx: RunContext) -> dict | None:
    from include.pipeline import summary

    if ctx.con is None:
        return None
    relations = {name: f'"{schema}"."{name}"' for schema, name in ctx.con.execute(
        "select table_schema, table_name from information_schema.tables").fetchall()}
    rules: dict[str, list] = {}
    for rejected in dict.fromkeys(m.rejected for m in summary.ENTITY_MODELS.values()):
        if rejected not in relations:
            continue
        for entity, rule, n in ctx.con.execute(
                f"select _landing_entity, rule, count(*) as n from (select _landing_entity, unnest(failed_rules) as rule "
                f"from {relations[rejected]} where cast(_landed_date as date) = ?) group by all "
                f"order by _landing_entity, n desc, rule", [ctx.logical_date]).fetchall():
            rules.setdefault(entity, []).append([rule, int(n)])
    return {"rules": {e: r[:TOP_RULES] for e, r in rules.items()},
            "distinct_rules": {e: len(r) for e, r in rules.items()}}


def view_failed_rules(data: dict) -> View:
    rules = data.get("rules", {})
    if not rules:
        return View("no row rejected for this date")
    rows = [[entity, rule, n] for entity, items in rules.items() for rule, n in items]
    top = max(rows, key=lambda r: r[2])
    return View(f"most failed: {top[1]} ({top[2]:,} rows of {top[0]}); "
                f"{sum(data.get('distinct_rules', {}).values())} rules failed in all",
                "ok", [Table(["entity", "rule", "rows"], rows, f"top {TOP_RULES} failed rules per entity")])


# ---- quality gate (Soda) -------------------------------------------------------------------------

def build_quality(ctx: RunContext) -> dict | None:
    if ctx.con is None or not ctx.con.execute(
            "select count(*) from information_schema.tables where table_schema = 'quality' "
            "and table_name = 'check_results'").fetchone()[0]:
        return {"counts": {}, "checks": [], "ran": False}
    rows = ctx.con.execute(
        "select dataset, check_name, outcome, value from quality.check_results where run_id = ? "
        "order by dataset, check_name", [ctx.run_id]).fetchall()
    counts: dict[str, int] = {}
    for _, _, outcome, _ in rows:
        counts[outcome] = counts.get(outcome, 0) + 1
    return {"ran": bool(rows), "counts": counts,
            "checks": [{"dataset": d, "check": c, "outcome": o, "value": v} for d, c, o, v in rows
                       if o != "pass"]}


def view_quality(data: dict) -> View:
    if not data.get("ran"):
        return View("the quality gate did not run", "info")
    counts = data.get("counts", {})
    summary = ", ".join(f"{counts[o]} {o}" for o in ("pass", "warn", "fail", "error") if counts.get(o))
    flagged = data.get("checks", [])
    warned = [f"{c['dataset']}.{c['check']}" for c in flagged if c["outcome"] == "warn"]
    if warned:
        summary = f"{_plural(len(warned), 'warning')} ({', '.join(warned)}); " + summary
    status = "fail" if counts.get("fail") or counts.get("error") else "warn" if counts.get("warn") else "ok"
    table = Table(["table", "check", "outcome", "value"],
                  [[c["dataset"], c["check"], c["outcome"], c["value"]] for c in flagged], "checks not passed")
    return View(summary, status, [table] if flagged else [])


# ---- dbt source freshness ------------------------------------------------------------------------

def build_freshness(ctx: RunContext) -> dict | None:
    from include.pipeline.freshness import result_path

    path = result_path(ctx.logical_date, ctx.run_id)
    if not path.exists():
        return {"ran": False, "sources": []}
    from include.pipeline.freshness import counts_for_run

    result = json.loads(path.read_text())
    as_of = date.fromisoformat(str(result.get("as_of") or ctx.logical_date.isoformat())[:10])
    return {**result, "ran": True, "counted": counts_for_run(ctx.logical_date, as_of)}


def view_freshness(data: dict) -> View:
    if not data.get("ran"):
        return View("dbt source freshness did not run", "info")
    sources = data.get("sources", [])
    stale = [s for s in sources if s["status"] in ("warn", "error", "runtime error")]
    never = [s["table"] for s in sources if s["status"] == "never landed"]
    rows = [[s["table"], s["status"], s.get("max_loaded_at") or "-",
             f"{s['age_hours']:.0f} h" if s.get("age_hours") is not None else "-", s.get("criteria", "")]
            for s in sources]
    table = Table(["source", "status", "latest landing", "age", "warn / error after"], rows, "landing freshness")
    if not stale:
        fresh = len(sources) - len(never)
        return View(f"{fresh} of {len(sources)} sources fresh" + (f"; never landed: {', '.join(never)}" if never else ""),
                    "ok", [table])
    summary = f"{len(stale)} of {len(sources)} sources stale: " + ", ".join(f"{s['table']} {s['status']}" for s in stale)
    if not data.get("counted"):
        return View(summary + f" (as of {data.get('as_of', '')[:10]}; the run's date is older: not counted)",
                    "info", [table])
    return View(summary, "warn", [table])


# ---- product health (written by fsdp_product_health) ---------------------------------------------

def view_product_health(data: dict) -> View:
    verdict = data.get("verdict", "unknown")
    parts = [verdict]
    if data.get("problems"):
        parts.append("; ".join(data["problems"]))
    if data.get("rejected_share") is not None:
        parts.append(f"rejected share {data['rejected_share']:.1%}")
    tables = [Table(["product table", "rows", "columns", "columns with nulls"],
                    [[t, v.get("rows"), v.get("columns"), v.get("columns_with_nulls")]
                     for t, v in data.get("tables", {}).items()], "product tables")]
    status = {"healthy": "ok", "degraded": "warn", "unhealthy": "fail"}.get(verdict, "info")
    return View(", ".join(parts) + (f" (health run {data['health_run_id']})" if data.get("health_run_id") else ""),
                status, tables)


# ---- where things are ------------------------------------------------------------------------------

def build_locations(ctx: RunContext) -> dict | None:
    from include.pipeline.run_report import file_name

    quality = settings.reports_dir() / "quality" / ctx.logical_date.isoformat() / f"quality_{file_name(ctx.run_id)}.json"
    return {"duckdb": str(settings.duckdb_path()), "dbt_docs": str(settings.dbt_docs_dir() / "index.html"),
            "quality_json": str(quality) if quality.exists() else None}


def view_locations(data: dict) -> View:
    return View("DuckDB file, dbt docs, quality results", "info",
                [Table(["what", "where"], [[k.replace("_", " "), v] for k, v in data.items() if v])])


register(Section("tasks", "tasks", build_tasks, view_tasks))
register(Section("run_state", "run state", build_run_state, view_run_state))
register(Section("entities", "rows", build_entities, view_entities))
register(Section("landing", "landing ledger", build_landing, view_landing))
register(Section("failed_rules", "failed rules", build_failed_rules, view_failed_rules))
register(Section("quality", "quality gate", build_quality, view_quality))
register(Section("freshness", "source freshness", build_freshness, view_freshness))
register(Section("output_port", "output port", lambda ctx: None, view_output_port))
register(Section("retries", "retries", build_retries, view_retries))
register(Section("product_health", "product health", lambda ctx: None, view_product_health))
register(Section("locations", "locations", build_locations, view_locations))
