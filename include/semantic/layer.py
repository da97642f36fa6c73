"""SemanticLayer: MetricFlow's Python engine over a read-only DuckDB connection.

``compile`` turns a Query (logical names) into the exact SQL that ``run`` executes: MetricFlow
plans and renders the metric SQL from the semantic manifest (``target/semantic_manifest.json``,
written by ``dbt parse``); the layer wraps it in one outer select that names the columns after the
members, applies filters on measures, the order (ties broken by every selected dimension, so pages
never overlap), limit and offset. Filter values are DuckDB named parameters (include/semantic/query.py).

``role``: a governance view schema (``role_public``, ``role_pii_reader`` ...). The layer then plans
against a copy of the semantic manifest whose every relation (semantic models and the time spine)
is that role's view of the same table, so MetricFlow's SQL reads only the role's views and masked
columns are masked in SQL: grouping, filtering and ordering see masked values. The views come from
include/governance (one policy engine); a role without views is an error, never a fallback to
the tables.

**Cumulative metrics as running totals.** MetricFlow plans an all-time cumulative metric by joining
every input row to every later day of the time spine (rows x days: with 10M transactions and a
month of history, hundreds of millions of joined rows, then joined to the customers). A cumulative
metric declared ``config.meta.running_total_of: <simple metric>`` is computed here instead as a
window over that metric's daily values: MetricFlow plans the simple metric by the query's
dimensions and day; the layer fills the days after each group's first day from the time spine,
sums with ``sum() over (partition by <dimensions> order by day)``, applies the query's time
constraints to the result (a running total counts from the first day, whatever the date range) and,
for a coarser granularity, keeps the value of the period's first day (MetricFlow's period_agg
first). Same rows and values as MetricFlow's plan (tests/semantic compare the two), at groups x days
cost. Queries with more than one measure or without one metric_time granularity use MetricFlow's
plan.

MetricFlow's planner is not thread-safe (it numbers its nodes with a process-wide counter):
planning holds a lock; execution uses one DuckDB cursor per call, so queries run concurrently.
"""
from __future__ import annotations

import copy
import json
import os
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from include.semantic.errors import QueryTimeout, SemanticError
from include.semantic.model import Catalog, build_catalog, load_json
from include.semantic.query import Column, Plan, Query, plan_query

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_TARGET = ROOT / "dbt_project" / "target"
CACHE_SIZE = 512


def default_semantic_manifest() -> Path:
    target = os.environ.get("FSDP_DBT_TARGET_DIR")
    return (Path(target) if target else DEFAULT_TARGET) / "semantic_manifest.json"


@dataclass
class Compiled:
    """The SQL ``run`` executes for a query, its parameters and its columns."""

    sql: str
    parameters: dict[str, Any]
    columns: list[tuple[str, str]]          # (row key, type)
    metricflow_sql: str
    role: str | None
    plan: Plan = field(repr=False, default=None)


@dataclass
class Result:
    rows: list[dict]
    columns: list[tuple[str, str]]
    sql: str
    truncated: bool
    parameters: dict[str, Any] = field(default_factory=dict)
    seconds: float = 0.0


class _Client:
    """The SqlClient MetricFlow needs to plan and render DuckDB SQL; the layer executes itself."""

    def __init__(self):
        from metricflow.protocols.sql_client import SqlEngine
        from metricflow.sql.render.duckdb_renderer import DuckDbSqlPlanRenderer

        self.sql_engine_type = SqlEngine.DUCKDB
        self.sql_plan_renderer = DuckDbSqlPlanRenderer()

    def render_bind_parameter_key(self, key: str) -> str:
        return f"${key}"

    def query(self, *args, **kwargs):  # pragma: no cover - planning never executes
        raise NotImplementedError("the semantic layer executes SQL itself")

    execute = dry_run = query

    def close(self) -> None:
        pass


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _with_role(semantic_manifest: dict, role: str | None) -> dict:
    """A copy of the semantic manifest whose relations are ``role``'s views (schema ``role``, same
    names), or the tables themselves for no role; without the database name, so the same manifest
    serves any copy of the warehouse file (a serving copy has another file name)."""
    out = copy.deepcopy(semantic_manifest)
    relations = [sm["node_relation"] for sm in out.get("semantic_models", [])]
    relations += [ts["node_relation"] for ts in (out.get("project_configuration") or {}).get("time_spines", [])]
    for rel in relations:
        schema = role or rel["schema_name"]
        rel.update(schema_name=schema, database=None, relation_name=f"{_quote(schema)}.{_quote(rel['alias'])}")
    for legacy in (out.get("project_configuration") or {}).get("time_spine_table_configurations", []):
        if role:
            legacy["location"] = f"{role}.{legacy['location'].split('.')[-1]}"
    return out


class SemanticLayer:
    """The market place's semantic layer over one DuckDB file (opened read-only, kept open)."""

    def __init__(self, duckdb_path: str | os.PathLike, semantic_manifest_path: str | os.PathLike | None = None,
                 *, manifest_path: str | os.PathLike | None = None, connection=None, running_totals: bool = True):
        import duckdb

        self.duckdb_path = Path(duckdb_path)
        self.semantic_manifest_path = Path(semantic_manifest_path or default_semantic_manifest())
        self.manifest_path = Path(manifest_path or self.semantic_manifest_path.with_name("manifest.json"))
        self._semantic = load_json(self.semantic_manifest_path, "semantic manifest")
        self._manifest = load_json(self.manifest_path, "dbt manifest")
        if connection is None:
            if not self.duckdb_path.exists():
                raise SemanticError(f"warehouse not found: {self.duckdb_path}")
            connection = duckdb.connect(str(self.duckdb_path), read_only=True)
        self._con = connection
        self._running_totals = running_totals      # False: MetricFlow's plan for every cumulative metric
        self._lock = threading.Lock()
        self._engines: dict[str | None, Any] = {}
        self._cache: OrderedDict[tuple, tuple[str, str]] = OrderedDict()
        self._catalog: Catalog | None = None
        self._roles: set[str] | None = None
        self._checked_roles: set[str] = set()

    # ---------------------------------------------------------------------------- catalog
    def catalog(self) -> Catalog:
        """Logical tables with their measures, dimensions and time dimensions (built once)."""
        if self._catalog is None:
            with self._lock:
                if self._catalog is None:
                    self._catalog = build_catalog(self._semantic, self._manifest, self._column_types)
        return self._catalog

    def _column_types(self, schema: str, alias: str, exprs: list[str]) -> list[str]:
        select = ", ".join(f"{e} as {_quote(f'c{i}')}" for i, e in enumerate(exprs))
        try:
            rows = self._con.cursor().execute(
                f"describe select {select} from {_quote(schema)}.{_quote(alias)} limit 0").fetchall()
        except Exception as exc:
            raise SemanticError(f"semantic model relation {schema}.{alias}: {str(exc).splitlines()[0]}") from None
        return [r[1] for r in rows]

    def roles(self) -> set[str]:
        """The governance view schemas a query may run as (include/governance's role catalog)."""
        if self._roles is None:
            from include.governance.manifest import all_column_tags
            from include.governance.policy import load_policy_set

            policies = load_policy_set(all_column_tags(self._manifest))
            self._roles = {r.schema for r in policies.roles} | {policies.public_schema}
        return self._roles

    # ---------------------------------------------------------------------------- planning
    def _engine(self, role: str | None):
        engine = self._engines.get(role)
        if engine is None:
            from metricflow.engine.metricflow_engine import MetricFlowEngine
            from metricflow_semantics.model.dbt_manifest_parser import parse_manifest_from_dbt_generated_manifest
            from metricflow_semantics.model.semantic_manifest_lookup import SemanticManifestLookup

            manifest = parse_manifest_from_dbt_generated_manifest(json.dumps(_with_role(self._semantic, role)))
            engine = MetricFlowEngine(SemanticManifestLookup(manifest), _Client())
            self._engines[role] = engine
        return engine

    def _check_role(self, role: str | None) -> None:
        if role is None or role in self._checked_roles:
            return
        if not isinstance(role, str) or role not in self.roles():
            raise SemanticError(f"unknown role {role!r} (roles: {', '.join(sorted(self.roles()))})")
        relations = {(role, sm["node_relation"]["alias"]) for sm in self._semantic.get("semantic_models", [])}
        relations |= {(role, ts["node_relation"]["alias"])
                      for ts in (self._semantic.get("project_configuration") or {}).get("time_spines", [])}
        views = {tuple(r) for r in self._con.cursor().execute(
            "select schema_name, view_name from duckdb_views() where schema_name = ?", [role]).fetchall()}
        missing = sorted(relations - views)
        if missing:
            raise SemanticError(f"role {role} has no view {missing[0][0]}.{missing[0][1]}: apply the role views "
                                "(python -m include.governance apply-views)")
        self._checked_roles.add(role)

    def compile(self, query: Query | dict, role: str | None = None) -> Compiled:
        """The exact SQL (with its bound parameters) ``run`` executes for ``query`` as ``role``."""
        if isinstance(query, dict):
            query = Query.from_dict(query)
        plan = plan_query(query, self.catalog())
        self._check_role(role)
        key = plan.cache_key(role)
        cached = self._cache.get(key)
        if cached is None:
            running = self._running_total_plan(plan)
            mf_sql = self._running_total_sql(plan, role, *running) if running else self._metricflow_sql(plan, role)
            cached = (self._wrap(plan, mf_sql), mf_sql)
            with self._lock:
                self._cache[key] = cached
                while len(self._cache) > CACHE_SIZE:
                    self._cache.popitem(last=False)
        else:
            with self._lock:
                self._cache.move_to_end(key)
        sql, mf_sql = cached
        columns = [(c.key, c.type) for c in plan.columns] + [(a, next(c.type for c in plan.columns if c.key == k))
                                                              for a, k in plan.aliases]
        return Compiled(sql=sql, parameters=dict(plan.params), columns=columns, metricflow_sql=mf_sql, role=role,
                        plan=plan)

    def _running_total_plan(self, plan: Plan) -> tuple[str, str] | None:
        """(base metric, granularity) when ``plan`` is one running-total cumulative metric by one
        metric_time granularity (and any dimensions); None for MetricFlow's own plan."""
        measures = [c.member for c in plan.columns if c.member.kind == "measure"]
        times = [c for c in plan.columns if c.granularity]
        if not self._running_totals or len(measures) != 1 or not measures[0].running_total_of or len(times) != 1:
            return None
        if times[0].mf_column != f"metric_time__{times[0].granularity}":
            return None
        return measures[0].running_total_of, times[0].granularity

    def _running_total_sql(self, plan: Plan, role: str | None, base_metric: str, grain: str) -> str:
        metric = plan.metric_names[0]
        dims = [g for g in plan.group_by_names if not g.startswith("metric_time__")]
        is_time = [w for w in plan.where if "TimeDimension('metric_time'" in w]
        base_sql = self._metricflow_sql(plan, role, metric_names=[base_metric],
                                        group_by_names=[*dims, "metric_time__day"],
                                        where=[w for w in plan.where if w not in is_time])
        spine = (self._semantic.get("project_configuration") or {}).get("time_spines") or []
        if len(spine) != 1:
            raise SemanticError("a running total needs exactly one time spine")
        relation = f"{_quote(role or spine[0]['node_relation']['schema_name'])}.{_quote(spine[0]['node_relation']['alias'])}"
        spine_column = _quote(spine[0]["primary_column"]["name"])
        d = [_quote(x) for x in dims]
        group = ", ".join(d)
        on = "".join(f" and grid.{x} is not distinct from base.{x}" for x in d)
        partition = f"partition by {', '.join(f'daily.{x}' for x in d)} " if d else ""
        time_where = " and ".join(w.replace("{{ TimeDimension('metric_time', 'day') }}", "running.metric_time__day")
                                  for w in is_time)
        out_time = "metric_time__day" if grain == "day" else f"metric_time__{grain}"
        select_dims = "".join(f"{x}, " for x in d)
        sql = f"""with base as (
{base_sql}
),
starts as (
    select {select_dims}min(metric_time__day) as first_day from base{f' group by {group}' if d else ''}
),
grid as (
    select {''.join(f'starts.{x}, ' for x in d)}cast(spine.{spine_column} as date) as metric_time__day
    from starts
    inner join {relation} as spine on cast(spine.{spine_column} as date) >= starts.first_day
),
daily as (
    select {''.join(f'grid.{x}, ' for x in d)}grid.metric_time__day, base.{_quote(base_metric)} as day_value
    from grid
    left join base on grid.metric_time__day = cast(base.metric_time__day as date){on}
),
running as (
    select {''.join(f'daily.{x}, ' for x in d)}daily.metric_time__day,
        date_trunc('{grain}', daily.metric_time__day) as period,
        sum(coalesce(daily.day_value, 0)) over ({partition}order by daily.metric_time__day
            rows between unbounded preceding and current row) as {_quote(metric)}
    from daily
)"""
        if grain == "day":
            return sql + f"""
select {select_dims}metric_time__day, {_quote(metric)}
from running{f' where {time_where}' if time_where else ''}"""
        return sql + f"""
select {select_dims}cast(period as date) as {out_time}, arg_min({_quote(metric)}, metric_time__day) as {_quote(metric)}
from running{f' where {time_where}' if time_where else ''}
group by {select_dims}period"""

    def _metricflow_sql(self, plan: Plan, role: str | None, *, metric_names: list[str] | None = None,
                        group_by_names: list[str] | None = None, where: list[str] | None = None) -> str:
        from metricflow.engine.metricflow_engine import MetricFlowQueryRequest

        where = plan.where if where is None else where
        request = MetricFlowQueryRequest.create(metric_names=metric_names or plan.metric_names,
                                                group_by_names=group_by_names or plan.group_by_names,
                                                where_constraints=where or None)
        with self._lock:
            engine = self._engine(role)
            try:
                return engine.explain(request).sql_statement.sql
            except SemanticError:
                raise
            except Exception as exc:  # MetricFlow's own errors: invalid combinations of members
                first = next((ln.strip() for ln in str(exc).splitlines() if ln.strip()), type(exc).__name__)
                raise SemanticError(f"the semantic layer cannot answer this query: {first}") from None

    @staticmethod
    def _wrap(plan: Plan, mf_sql: str) -> str:
        def column(c: Column) -> str:
            # time dimensions as timestamps at every grain (MetricFlow gives the spine's days as dates)
            return f"cast(mf.{_quote(c.mf_column)} as timestamp)" if c.granularity else f"mf.{_quote(c.mf_column)}"

        by_key = {c.key: c for c in plan.columns}
        select = [f"{column(c)} as {_quote(c.key)}" for c in plan.columns]
        select += [f"{column(by_key[k])} as {_quote(a)}" for a, k in plan.aliases]
        sql = "select\n    " + ",\n    ".join(select) + f"\nfrom (\n{mf_sql}\n) as mf"
        if plan.outer_where:
            sql += "\nwhere " + "\n  and ".join(plan.outer_where)
        if plan.order:
            sql += "\norder by " + ", ".join(f"mf.{_quote(by_key[k].mf_column)} {d} nulls last" for k, d in plan.order)
        if plan.limit is not None:
            sql += f"\nlimit {int(plan.limit)}"
        if plan.offset:
            sql += f"\noffset {int(plan.offset)}"
        return sql

    # ---------------------------------------------------------------------------- running
    def run(self, query: Query | dict, role: str | None = None, timeout_s: float | None = None,
            max_rows: int | None = None) -> Result:
        """Run ``query`` as ``role``: rows keyed by member name, at most ``max_rows`` (``truncated``
        says more were there), interrupted after ``timeout_s`` seconds (QueryTimeout)."""
        import duckdb

        compiled = self.compile(query, role)
        started = time.perf_counter()
        cursor = self._con.cursor()
        watchdog = _Watchdog(cursor, timeout_s) if timeout_s is not None else None
        try:
            cursor.execute(compiled.sql, compiled.parameters or None)
            names = [d[0] for d in cursor.description]
            fetched = cursor.fetchmany(max_rows + 1) if max_rows is not None else cursor.fetchall()
        except duckdb.InterruptException:
            raise QueryTimeout(f"query interrupted after {timeout_s} s") from None
        except duckdb.Error as exc:
            if watchdog is not None and watchdog.fired and "interrupt" in str(exc).lower():
                raise QueryTimeout(f"query interrupted after {timeout_s} s") from None
            raise SemanticError(f"query failed in the warehouse: {str(exc).splitlines()[0]}") from None
        finally:
            if watchdog is not None:
                watchdog.stop()
            cursor.close()
        truncated = max_rows is not None and len(fetched) > max_rows
        rows = [dict(zip(names, r)) for r in (fetched[:max_rows] if truncated else fetched)]
        return Result(rows=rows, columns=compiled.columns, sql=compiled.sql, truncated=truncated,
                      parameters=compiled.parameters, seconds=time.perf_counter() - started)

    def saved_query(self, name: str, **overrides) -> Query:
        """The Query of the saved query ``name`` (``overrides``: extra Query fields, e.g. filters)."""
        saved = self.catalog().saved_queries.get(name)
        if saved is None:
            raise SemanticError(f"unknown saved query '{name}' (saved queries: {', '.join(sorted(self.catalog().saved_queries))})")
        fields = {"measures": list(saved.measures), "dimensions": list(saved.dimensions),
                  "time_dimensions": [dict(t) for t in saved.time_dimensions]}
        fields.update(overrides)
        return Query(**fields)

    def close(self) -> None:
        self._con.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class _Watchdog:
    """Interrupts ``cursor`` once ``timeout_s`` has passed, and again every few milliseconds until the
    statement ends: DuckDB forgets an interrupt that arrives before the statement has started running
    (while it is parsed, bound or planned), so a single interrupt could let a query run unbounded."""

    REPEAT_S = 0.005

    def __init__(self, cursor, timeout_s: float):
        self._cursor, self._timeout_s = cursor, float(timeout_s)
        self._done = threading.Event()
        self.fired = False
        self._thread = threading.Thread(target=self._watch, name="query-timeout", daemon=True)
        self._thread.start()

    def _watch(self) -> None:
        if self._done.wait(self._timeout_s):
            return
        self.fired = True
        while not self._done.is_set():
            try:
                self._cursor.interrupt()
            except Exception:  # noqa: BLE001 - the cursor closed while we were about to interrupt it
                return
            self._done.wait(self.REPEAT_S)

    def stop(self) -> None:
        self._done.set()
        self._thread.join()


__all__ = ["SemanticLayer", "Compiled", "Result", "Column"]
