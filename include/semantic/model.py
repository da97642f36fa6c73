"""The market place's catalog: logical tables and their members, read from dbt's semantic manifest.

Declared once, in dbt (``dbt_project/models/marketplace/_marketplace__semantic.yml``); this module
only derives the Cube/Lens-style names from it:

* a **logical table** is a semantic model (``customers``, ``transactions`` ...);
* a **dimension** ``<table>.<dimension>`` is MetricFlow's ``<primary entity>__<dimension>``
  (``customers.zone`` -> ``customer__zone``); the primary entity's key is a dimension too
  (``customers.cust_id`` -> ``customer``);
* a **time dimension** ``<table>.<dimension>`` with a granularity is ``<entity>__<dim>__<grain>``,
  or ``metric_time__<grain>`` when it is the aggregation time of every queried metric (what
  cumulative metrics need);
* a **measure** ``<table>.<metric>`` is a MetricFlow metric; its table is the semantic model of
  its input measures, or ``config.meta.logical_table`` for a metric that spans several.

Types (string / number / time / boolean) come from the warehouse (the column types of each
semantic model's relation); governance tags (``TW.mask``, ``TW.dob``) from the dbt manifest's
column tags, the one place they are declared.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from include.semantic.errors import SemanticError

GRANULARITIES = ("day", "week", "month", "quarter", "year")
_SIMPLE_COLUMN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


@dataclass(frozen=True)
class Member:
    """One queryable member of a logical table."""

    name: str                       # "customers.zone"
    kind: str                       # "measure" | "dimension" | "time_dimension"
    type: str                       # "string" | "number" | "time" | "boolean"
    title: str
    description: str
    table: str                      # logical table
    mf_name: str                    # metric name, or group-by name without granularity ("customer__zone")
    source_model: str               # dbt model of the semantic model
    source_column: str | None       # the column, when the member is a plain column
    expr: str | None = None         # the SQL expression over the model, when not a plain column
    tags: tuple[str, ...] = ()      # governance tags of the source column
    granularities: tuple[str, ...] = ()
    metric_type: str | None = None  # simple / ratio / cumulative / derived / conversion (measures)
    agg_time: tuple[str, ...] = ()  # measures: the logical time dimensions they aggregate over
    # an all-time cumulative metric declared `config.meta.running_total_of: <simple metric>`: the
    # layer computes it as a running total over that metric's daily values (see layer.py)
    running_total_of: str | None = None

    def as_dict(self) -> dict[str, Any]:
        out = {"name": self.name, "type": self.type, "title": self.title, "description": self.description,
               "source": {"model": self.source_model, "column": self.source_column, "expr": self.expr},
               "tags": list(self.tags)}
        if self.kind == "time_dimension":
            out["granularities"] = list(self.granularities)
        if self.kind == "measure":
            out["metric_type"] = self.metric_type
        return out


@dataclass(frozen=True)
class LogicalTable:
    name: str
    title: str
    description: str
    source_model: str
    schema: str
    alias: str
    primary_entity: str
    measures: tuple[Member, ...] = ()
    dimensions: tuple[Member, ...] = ()
    time_dimensions: tuple[Member, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "description": self.description,
                "source": {"model": self.source_model, "relation": f"{self.schema}.{self.alias}"},
                "measures": [m.as_dict() for m in self.measures],
                "dimensions": [d.as_dict() for d in self.dimensions],
                "time_dimensions": [d.as_dict() for d in self.time_dimensions]}


@dataclass(frozen=True)
class SavedQuery:
    """A saved query of the semantic manifest, in logical names."""

    name: str
    description: str
    label: str
    measures: tuple[str, ...]
    dimensions: tuple[str, ...]
    time_dimensions: tuple[dict, ...]
    exports: tuple[dict, ...]


@dataclass
class Catalog:
    tables: dict[str, LogicalTable]
    members: dict[str, Member] = field(default_factory=dict)
    saved_queries: dict[str, SavedQuery] = field(default_factory=dict)

    def __post_init__(self):
        if not self.members:
            self.members = {m.name: m for t in self.tables.values()
                            for m in (*t.measures, *t.dimensions, *t.time_dimensions)}

    def member(self, name: Any, kinds: tuple[str, ...] | None = None) -> Member:
        """The member called ``name``; SemanticError naming it when unknown or of another kind."""
        if not isinstance(name, str):
            raise SemanticError(f"member names are strings, got {name!r}", member=str(name))
        found = self.members.get(name)
        if found is None:
            table = name.split(".", 1)[0]
            hint = "" if table in self.tables else f" (logical tables: {', '.join(sorted(self.tables))})"
            raise SemanticError(f"unknown member '{name}'{hint}", member=name)
        if kinds and found.kind not in kinds:
            raise SemanticError(f"'{name}' is a {found.kind.replace('_', ' ')}, not a {' or '.join(k.replace('_', ' ') for k in kinds)}",
                                member=name)
        return found

    def as_dict(self) -> dict[str, Any]:
        return {"tables": [t.as_dict() for t in self.tables.values()],
                "saved_queries": [{"name": q.name, "label": q.label, "description": q.description,
                                   "measures": list(q.measures), "dimensions": list(q.dimensions),
                                   "time_dimensions": list(q.time_dimensions)} for q in self.saved_queries.values()]}


# ----------------------------------------------------------------------------------- loading

def load_json(path: Path, what: str) -> dict:
    try:
        return json.loads(Path(path).read_text())
    except FileNotFoundError:
        raise SemanticError(f"{what} not found: {path} (run dbt parse or dbt build first)") from None
    except (OSError, ValueError) as exc:
        raise SemanticError(f"cannot read {what} {path}: {exc}") from None


def _dbt_models(manifest: dict) -> dict[tuple[str, str], dict]:
    """(schema, alias) -> dbt model node."""
    return {(n["schema"], n.get("alias") or n["name"]): n for n in manifest.get("nodes", {}).values()
            if n.get("resource_type") == "model"}


def _duck_type(dtype: str) -> str:
    t = dtype.upper()
    if t == "BOOLEAN":
        return "boolean"
    if t.startswith(("DATE", "TIMESTAMP", "TIME")):
        return "time"
    if t.startswith(("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
                     "UBIGINT", "FLOAT", "DOUBLE", "DECIMAL", "REAL", "NUMERIC")):
        return "number"
    return "string"


def _title(name: str) -> str:
    return name.replace("_", " ").strip().capitalize()


def build_catalog(semantic_manifest: dict, dbt_manifest: dict, column_types) -> Catalog:
    """The catalog of ``semantic_manifest``; ``column_types(schema, alias, exprs)`` returns the
    warehouse type of each expression over a relation (a DuckDB DESCRIBE)."""
    models = _dbt_models(dbt_manifest)
    measure_model: dict[str, str] = {}
    agg_time: dict[str, str] = {}
    tables: dict[str, dict] = {}
    for sm in semantic_manifest.get("semantic_models", []):
        rel = sm["node_relation"]
        node = models.get((rel["schema_name"], rel["alias"]))
        if node is None:
            raise SemanticError(f"semantic model {sm['name']}: no dbt model {rel['schema_name']}.{rel['alias']} in the manifest")
        primary = [e for e in sm.get("entities", []) if e["type"] == "primary"]
        if len(primary) != 1:
            raise SemanticError(f"semantic model {sm['name']} needs exactly one primary entity")
        entity = primary[0]
        tags = {name.lower(): tuple(col.get("tags") or ()) for name, col in (node.get("columns") or {}).items()}
        default_time = (sm.get("defaults") or {}).get("agg_time_dimension")
        for m in sm.get("measures", []):
            measure_model[m["name"]] = sm["name"]
            agg_time[m["name"]] = f"{sm['name']}.{m.get('agg_time_dimension') or default_time}"
        dims = [("dimension", entity.get("expr") or entity["name"], entity["name"], entity.get("expr"),
                 f"{_title(entity['name'])} id", entity.get("description") or f"Key of the {sm['name']} table.", None)]
        for d in sm.get("dimensions", []):
            kind = "time_dimension" if d["type"] == "time" else "dimension"
            grain = ((d.get("type_params") or {}).get("time_granularity") or "day") if kind == "time_dimension" else None
            dims.append((kind, d["name"], f"{entity['name']}__{d['name']}", d.get("expr"), d.get("label") or _title(d["name"]),
                         d.get("description") or "", grain))
        exprs = [(expr or name) for _, name, _, expr, _, _, _ in dims]
        types = column_types(rel["schema_name"], rel["alias"], exprs)
        members = []
        for (kind, name, mf, expr, title, desc, grain), dtype in zip(dims, types):
            column = (expr or name) if _SIMPLE_COLUMN.match(expr or name) else None
            grains = GRANULARITIES[GRANULARITIES.index(grain):] if grain in GRANULARITIES else ()
            members.append(Member(
                name=f"{sm['name']}.{name}", kind=kind, type="time" if kind == "time_dimension" else _duck_type(dtype),
                title=title, description=desc, table=sm["name"], mf_name=mf, source_model=node["name"],
                source_column=column, expr=None if column else (expr or name),
                tags=tags.get((column or "").lower(), ()), granularities=grains))
        tables[sm["name"]] = {"sm": sm, "node": node, "entity": entity["name"], "members": members, "measures": []}

    for metric in semantic_manifest.get("metrics", []):
        params = metric.get("type_params") or {}
        inputs = [m["name"] for m in params.get("input_measures") or []]
        if not inputs and params.get("measure"):
            inputs = [params["measure"]["name"]]
        owners = {measure_model[m] for m in inputs if m in measure_model}
        declared = ((metric.get("config") or {}).get("meta") or {}).get("logical_table")
        if declared:
            owners = {declared}
        if len(owners) != 1 or next(iter(owners)) not in tables:
            raise SemanticError(f"metric {metric['name']}: its measures come from {sorted(owners) or 'no semantic model'};"
                                " declare config.meta.logical_table")
        table = next(iter(owners))
        sm = tables[table]["sm"]
        running_total_of = _running_total_of(metric, semantic_manifest.get("metrics", []))
        tables[table]["measures"].append(Member(
            name=f"{table}.{metric['name']}", kind="measure", type="number",
            title=metric.get("label") or _title(metric["name"]), description=metric.get("description") or "",
            table=table, mf_name=metric["name"], source_model=tables[table]["node"]["name"], source_column=None,
            expr=_measure_expr(sm, inputs), metric_type=metric.get("type"),
            agg_time=tuple(sorted({agg_time[m] for m in inputs if m in agg_time})), running_total_of=running_total_of))

    logical = {}
    for name, t in tables.items():
        sm, node = t["sm"], t["node"]
        logical[name] = LogicalTable(
            name=name, title=_title(name), description=sm.get("description") or "", source_model=node["name"],
            schema=sm["node_relation"]["schema_name"], alias=sm["node_relation"]["alias"], primary_entity=t["entity"],
            measures=tuple(t["measures"]),
            dimensions=tuple(m for m in t["members"] if m.kind == "dimension"),
            time_dimensions=tuple(m for m in t["members"] if m.kind == "time_dimension"))
    catalog = Catalog(logical)
    catalog.saved_queries = _saved_queries(semantic_manifest, catalog)
    return catalog


def _running_total_of(metric: dict, metrics: list[dict]) -> str | None:
    """The simple metric a cumulative metric is the running total of (``config.meta.running_total_of``),
    checked: an all-time cumulative (no window, no grain_to_date, period_agg first) of the same
    measure, unfiltered, as the named metric."""
    declared = ((metric.get("config") or {}).get("meta") or {}).get("running_total_of")
    if not declared:
        return None
    params = metric.get("type_params") or {}
    cumulative = params.get("cumulative_type_params") or {}
    base = next((m for m in metrics if m["name"] == declared), None)
    base_measure = ((base or {}).get("type_params") or {}).get("measure") or {}
    measure = params.get("measure") or {}
    problems = [why for ok, why in (
        (metric.get("type") == "cumulative", "it is not a cumulative metric"),
        (not (cumulative.get("window") or params.get("window")), "it has a window"),
        (not (cumulative.get("grain_to_date") or params.get("grain_to_date")), "it has a grain_to_date"),
        ((cumulative.get("period_agg") or "first") == "first", "its period_agg is not first"),
        (base is not None and base.get("type") == "simple", f"{declared} is not a simple metric"),
        (base_measure.get("name") == measure.get("name") and not base_measure.get("filter") and not measure.get("filter")
         and not (base or {}).get("filter") and not metric.get("filter"), f"{declared} does not sum the same unfiltered measure"),
    ) if not ok]
    if problems:
        raise SemanticError(f"metric {metric['name']}: running_total_of {declared}: {problems[0]}")
    return declared


def _measure_expr(sm: dict, inputs: list[str]) -> str | None:
    exprs = [f"{m['agg']}({m.get('expr') or m['name']})" for m in sm.get("measures", []) if m["name"] in inputs]
    return "; ".join(exprs) or None


def mf_to_member(catalog: Catalog) -> dict[str, str]:
    """MetricFlow group-by / metric name -> logical member name."""
    out = {}
    for m in catalog.members.values():
        out[m.mf_name] = m.name
    return out


_GROUP_BY = re.compile(r"^(?P<base>[a-z0-9_]+?)(?:__(?P<grain>day|week|month|quarter|year))?$")


def _saved_queries(semantic_manifest: dict, catalog: Catalog) -> dict[str, SavedQuery]:
    """Saved queries in logical names (their group-bys written ``Dimension('customer__zone')`` or
    ``TimeDimension('metric_time', 'month')`` in the YAML)."""
    by_mf = mf_to_member(catalog)
    metric_member = {m.mf_name: m.name for m in catalog.members.values() if m.kind == "measure"}
    out = {}
    for sq in semantic_manifest.get("saved_queries", []):
        params = sq.get("query_params") or {}
        measures = tuple(metric_member[m] for m in params.get("metrics", []) if m in metric_member)
        missing = [m for m in params.get("metrics", []) if m not in metric_member]
        if missing:
            raise SemanticError(f"saved query {sq['name']}: unknown metric {missing[0]}")
        dims, times = [], []
        for item in params.get("group_by", []):
            dim = re.match(r"""^\s*(Dimension|TimeDimension|Entity)\(\s*['"]([a-z0-9_]+)['"]\s*(?:,\s*['"]([a-z]+)['"]\s*)?\)""", item)
            if not dim:
                raise SemanticError(f"saved query {sq['name']}: cannot read group_by {item!r}")
            base, grain = dim.group(2), dim.group(3)
            if dim.group(1) == "TimeDimension" or grain:
                if base == "metric_time":
                    owners = {catalog.members[m].agg_time[0] for m in measures if catalog.members[m].agg_time}
                    if len(owners) != 1:
                        raise SemanticError(f"saved query {sq['name']}: metric_time of metrics with different times")
                    member = next(iter(owners))
                else:
                    member = by_mf.get(base)
                times.append({"dimension": member, "granularity": grain or "day"})
            else:
                if base not in by_mf:
                    raise SemanticError(f"saved query {sq['name']}: unknown group_by {base}")
                dims.append(by_mf[base])
        exports = tuple({"name": e["name"], **(e.get("config") or {})} for e in sq.get("exports") or [])
        out[sq["name"]] = SavedQuery(name=sq["name"], description=sq.get("description") or "",
                                     label=sq.get("label") or _title(sq["name"]), measures=measures,
                                     dimensions=tuple(dims), time_dimensions=tuple(times), exports=exports)
    return out
