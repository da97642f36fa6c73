"""What the catalog holds, read from dbt artifacts, Soda results and the data product manifest.

Pure Python (stdlib + PyYAML), no OpenMetadata import: the plan is the single source of every
table, column, tag and lineage edge the push sends, and is unit-tested on its own. Tables and
columns come from the dbt manifest (models, snapshots, seeds and sources: names, descriptions,
column tags) and catalog.json (what the warehouse really holds: column order and types); there is
no hand-kept list.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_DP_MANIFEST = Path(__file__).with_name("data_product.yaml")
_NODE_TYPES = ("model", "snapshot", "seed")


@dataclass(frozen=True)
class ColumnPlan:
    name: str
    data_type: str               # the warehouse's type as catalog.json (or the manifest) gives it
    description: str | None
    dbt_tags: tuple[str, ...]    # column tags declared in dbt (e.g. TW.mask)
    om_tags: tuple[str, ...]     # OpenMetadata tag FQNs they map to (e.g. PII.Sensitive)


@dataclass(frozen=True)
class TablePlan:
    unique_id: str               # dbt unique_id (model.fsdp.x / source.fsdp.landing.y)
    database: str
    schema: str
    name: str
    kind: str                    # dbt materialization, or "source"
    description: str | None
    columns: tuple[ColumnPlan, ...]
    depends_on: tuple[str, ...]  # dbt unique_ids of the upstream tables
    dbt_tags: tuple[str, ...]


@dataclass(frozen=True)
class EdgePlan:
    upstream: str                # dbt unique_id
    downstream: str
    columns: tuple[tuple[str, str], ...]   # (upstream column, downstream column)


@dataclass(frozen=True)
class CheckPlan:
    table: str                   # dbt unique_id of the checked table
    column: str | None
    name: str                    # OpenMetadata test case name (stable across runs)
    check: str                   # the SodaCL check as written
    outcome: str                 # pass / warn / fail / (other: aborted)
    value: Any
    timestamp_ms: int
    kind: str = "soda"           # soda (a Soda check) | freshness (dbt source freshness of a source table)


@dataclass(frozen=True)
class ProfilePlan:
    table: str                   # dbt unique_id
    row_count: int | None
    timestamp_ms: int
    columns: tuple[dict, ...]    # OpenMetadata ColumnProfile fields (name, nullCount, ...), known columns only


@dataclass(frozen=True)
class ChartPlan:
    name: str                    # the chart's UUID in the dashboards-as-code tree (stable)
    title: str
    chart_type: str              # OpenMetadata ChartType value
    description: str | None


@dataclass(frozen=True)
class DashboardPlan:
    name: str                    # the dashboard's slug
    title: str
    description: str | None
    url_path: str                # /superset/dashboard/<slug>/
    charts: tuple[ChartPlan, ...]
    reads: tuple[str, ...]       # dbt unique_ids of the tables its datasets read


@dataclass(frozen=True)
class MetricPlan:
    unique_id: str               # metric.fsdp.<name>
    name: str
    label: str | None
    description: str | None
    type: str                    # simple / ratio / cumulative / derived / conversion
    tables: tuple[str, ...]      # dbt unique_ids of the tables it is computed on (via its semantic models)


@dataclass
class CatalogPlan:
    dp: dict
    tables: dict[str, TablePlan] = field(default_factory=dict)
    edges: list[EdgePlan] = field(default_factory=list)
    metrics: list[MetricPlan] = field(default_factory=list)
    checks: list[CheckPlan] = field(default_factory=list)
    profiles: list[ProfilePlan] = field(default_factory=list)
    dashboards: list[DashboardPlan] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    api: dict | None = None      # the data API (python -m include.api describe), endpoints' reads as dbt unique_ids

    def table_by_ref(self, ref: str) -> TablePlan:
        """The table a manifest reference (`model: x`, `source: landing.y`) names."""
        return self.tables[resolve_ref(self.tables, ref)]


def load_dp_manifest(path: str | Path = DEFAULT_DP_MANIFEST) -> dict:
    """The versioned data product manifest (include/catalog/data_product.yaml) as a dict."""
    dp = yaml.safe_load(Path(path).read_text())
    for key in ("name", "description", "domain", "inputs", "outputs", "resources", "warehouse"):
        if key not in dp:
            raise ValueError(f"{path}: data product manifest lacks `{key}`")
    return dp


def resolve_ref(tables: dict[str, TablePlan], ref: str) -> str:
    """dbt unique_id for `model: name` / `source: source_name.table` / a unique_id itself."""
    if ref in tables:
        return ref
    kind, _, name = (part.strip() for part in ref.partition(":"))
    for uid, t in tables.items():
        if kind == "source" and t.kind == "source" and uid.split(".", 2)[2] == name:
            return uid
        if kind != "source" and t.kind != "source" and uid.split(".")[0] == kind and t.name == name:
            return uid
    raise KeyError(f"`{ref}` names no table in the dbt manifest")


def _column_tags(dbt_tags: list[str], mapping: dict[str, str]) -> tuple[str, ...]:
    lowered = {k.lower(): v for k, v in mapping.items()}
    return tuple(dict.fromkeys(lowered[t.lower()] for t in dbt_tags if t.lower() in lowered))


def _columns(node: dict, catalog_entry: dict | None, mapping: dict[str, str]) -> tuple[ColumnPlan, ...]:
    """Warehouse columns (catalog.json order and types) enriched with manifest docs and tags.

    Columns documented in the manifest but absent from the warehouse are kept after them (their
    declared data_type, else UNKNOWN): the catalog then shows the documentation drift."""
    documented = {name.lower(): col for name, col in (node.get("columns") or {}).items()}
    ordered: list[tuple[str, str]] = []
    if catalog_entry:
        cols = sorted(catalog_entry.get("columns", {}).values(), key=lambda c: c.get("index", 0))
        ordered = [(c["name"], c.get("type") or "UNKNOWN") for c in cols]
    seen = {name.lower() for name, _ in ordered}
    ordered += [(col.get("name") or name, col.get("data_type") or "UNKNOWN")
                for name, col in (node.get("columns") or {}).items() if name.lower() not in seen]
    out = []
    for name, data_type in ordered:
        doc = documented.get(name.lower(), {})
        tags = tuple(doc.get("tags") or ())
        out.append(ColumnPlan(name=name, data_type=data_type, description=doc.get("description") or None,
                              dbt_tags=tags, om_tags=_column_tags(list(tags), mapping)))
    return tuple(out)


def plan_tables(manifest: dict, catalog: dict | None, tag_mapping: dict[str, str]) -> dict[str, TablePlan]:
    """Every relation dbt knows (models, snapshots, seeds, sources), keyed by unique_id."""
    cat_nodes = {**(catalog or {}).get("nodes", {}), **(catalog or {}).get("sources", {})}
    tables: dict[str, TablePlan] = {}
    for uid, node in {**manifest.get("nodes", {}), **manifest.get("sources", {})}.items():
        rtype = node.get("resource_type")
        if rtype not in _NODE_TYPES and rtype != "source":
            continue
        if rtype != "source" and (node.get("config") or {}).get("materialized") == "ephemeral":
            continue
        name = node.get("identifier") if rtype == "source" else (node.get("alias") or node["name"])
        kind = "source" if rtype == "source" else (node.get("config") or {}).get("materialized", rtype)
        if rtype == "seed":
            kind = "seed"
        tables[uid] = TablePlan(
            unique_id=uid, database=node["database"], schema=node["schema"], name=name, kind=kind,
            description=(node.get("description") or None),
            columns=_columns(node, cat_nodes.get(uid), tag_mapping),
            depends_on=tuple((node.get("depends_on") or {}).get("nodes", [])),
            dbt_tags=tuple(node.get("tags") or ()),
        )
    return tables


def plan_edges(tables: dict[str, TablePlan]) -> list[EdgePlan]:
    """One lineage edge per dbt dependency between two cataloged tables.

    Column pairs link same-named columns (case-insensitive): the landing contract's names are kept
    through raw, staging and the data product, so this covers every column passed through; a
    column derived under a new name has no column edge here (the dbt ingestion's SQL parsing may
    add one)."""
    edges = []
    for down in tables.values():
        for up_id in down.depends_on:
            up = tables.get(up_id)
            if up is None:
                continue
            up_cols = {c.name.lower(): c.name for c in up.columns}
            pairs = tuple((up_cols[c.name.lower()], c.name) for c in down.columns if c.name.lower() in up_cols)
            edges.append(EdgePlan(upstream=up_id, downstream=down.unique_id, columns=pairs))
    return edges


def plan_metrics(manifest: dict, tables: dict[str, TablePlan]) -> list[MetricPlan]:
    """Every MetricFlow metric of the manifest with the cataloged tables it is computed on: the
    models of its semantic models, followed through the metrics a ratio or derived metric reads."""
    metrics, semantic = manifest.get("metrics") or {}, manifest.get("semantic_models") or {}

    def tables_of(uid: str, seen: frozenset = frozenset()) -> set[str]:
        node = metrics.get(uid) or semantic.get(uid)
        if node is None or uid in seen:
            return {uid} if uid in tables else set()
        out: set[str] = set()
        for dep in (node.get("depends_on") or {}).get("nodes", []):
            out |= tables_of(dep, seen | {uid})
        return out

    return [MetricPlan(unique_id=uid, name=m["name"], label=m.get("label") or None,
                       description=m.get("description") or None, type=m.get("type") or "simple",
                       tables=tuple(sorted(tables_of(uid))))
            for uid, m in sorted(metrics.items())]


# ---- Soda results -----------------------------------------------------------------------------

def _iso_to_ms(value: str | None) -> int | None:
    from datetime import datetime, timezone
    if not value:
        return None
    ts = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if ts.tzinfo is None:
        ts = ts.replace(tzinfo=timezone.utc)
    return int(ts.timestamp() * 1000)


def load_soda_scans(path: str | Path | None) -> list[dict]:
    """Quality results from a JSON file or a directory of them (recursively).

    Two shapes are read: the pipeline's quality gate file (include/quality/gate.py: `summary`,
    `checks`, `profiles`) and Soda Core's own scan result (Scan.get_scan_results(): `checks`,
    `profiling`); a file may also hold a list of either, or an object with a `scans` list."""
    if not path:
        return []
    p = Path(path)
    files = sorted(p.rglob("*.json")) if p.is_dir() else [p]
    scans: list[dict] = []
    for f in files:
        data = json.loads(f.read_text())
        items = data if isinstance(data, list) else data.get("scans", [data]) if isinstance(data, dict) else []
        scans += [s for s in items if isinstance(s, dict) and ("checks" in s or "profiling" in s or "profiles" in s)]
    return scans


_NAME_CLEAN = re.compile(r"[^A-Za-z0-9_]+")


def check_case_name(table: str, column: str | None, check: str) -> str:
    """A stable OpenMetadata test case name for a Soda check (same check, same name every run)."""
    slug = _NAME_CLEAN.sub("_", check).strip("_").lower()[:120] or "check"
    # the column only when the check's name does not already say it (cust_id_unique does)
    col = column if column and column.lower() not in slug else ""
    return "_".join(p for p in ("soda", table, col, slug) if p)


def _table_for(tables: dict[str, TablePlan], soda_table: str, prefer_schema: str) -> str | None:
    name = soda_table.split(".")[-1].strip('"').lower()
    hits = [t for t in tables.values() if t.name.lower() == name and t.kind != "source"]
    hits.sort(key=lambda t: t.schema != prefer_schema)
    return hits[0].unique_id if hits else None


def _scan_timestamp(scan: dict) -> int:
    """The results' timestamp: when the checks ran (the gate file's ``checked_at``, UTC) or Soda's
    own scan timestamps; the run's logical date only for a file that records neither.

    Read from the results, never the clock of the push: a retry or re-run of the push sends the same
    points, which OpenMetadata keeps once per test case and timestamp. Two runs of one logical date
    (a rerun) ran at different times, so each keeps its own point instead of colliding on the
    date's midnight."""
    summary = scan.get("summary") or {}
    if summary.get("checked_at"):
        return _iso_to_ms(str(summary["checked_at"]).replace(" ", "T"))
    ts = (_iso_to_ms(scan.get("scanEndTimestamp")) or _iso_to_ms(scan.get("dataTimestamp"))
          or _iso_to_ms(scan.get("scanStartTimestamp")))
    if ts:
        return ts
    if summary.get("logical_date"):
        return _iso_to_ms(str(summary["logical_date"])[:10] + "T00:00:00+00:00")
    return 0


def _num(value: Any) -> float | None:
    try:
        return None if value is None or isinstance(value, bool) else float(value)
    except (TypeError, ValueError):
        return None


def _scan_checks(scan: dict) -> list[dict]:
    """(table, column, name, definition, outcome, value) of each check, whatever the file shape."""
    out = []
    for c in scan.get("checks") or []:
        value = c["value"] if "value" in c else (c.get("diagnostics") or {}).get("value")
        out.append({"table": c.get("dataset") or c.get("table") or "", "column": c.get("column") or None,
                    "name": c.get("name") or "check", "definition": c.get("definition") or c.get("name") or "",
                    "outcome": (c.get("outcome") or "").lower(), "value": value})
    return out


def _scan_profiles(scan: dict) -> dict[str, tuple[int | None, list[dict]]]:
    """table -> (row count, column profiles named as OpenMetadata's ColumnProfile fields)."""
    out: dict[str, tuple[int | None, list[dict]]] = {}
    for prof in scan.get("profiling") or []:              # Soda Core's own profiling result
        if not prof.get("columnProfiles") and prof.get("rowCount") is None:
            continue   # a sample-tables result, not a profile
        rows = prof.get("rowCount")
        cols = []
        for cp in prof.get("columnProfiles") or []:
            p = cp.get("profile") or {}
            nulls = _num(p.get("missing_count"))
            cols.append({"name": cp.get("columnName"), "nullCount": nulls, "distinctCount": _num(p.get("distinct")),
                         "min": p.get("min"), "max": p.get("max"), "mean": _num(p.get("avg")),
                         "stddev": _num(p.get("stddev")), "sum": _num(p.get("sum")),
                         "variance": _num(p.get("variance")), "minLength": _num(p.get("min_length")),
                         "maxLength": _num(p.get("max_length")),
                         "valuesCount": rows - nulls if rows is not None and nulls is not None else None})
        out[prof.get("table") or ""] = (rows, cols)
    for p in scan.get("profiles") or []:                   # the quality gate's column profiles
        if p.get("profile", "full") != "full":
            continue   # the seed's filtered profile describes a slice, not the table
        rows = p.get("row_count")
        nulls = _num(p.get("null_count"))
        entry = out.setdefault(p.get("dataset") or "", (rows, []))
        entry[1].append({"name": p.get("column_name"), "nullCount": nulls,
                         "nullProportion": _num(p.get("null_pct")) / 100 if p.get("null_pct") is not None else None,
                         "distinctCount": _num(p.get("distinct_count")), "min": p.get("min"), "max": p.get("max"),
                         "mean": _num(p.get("mean")), "stddev": _num(p.get("stddev")),
                         "minLength": _num(p.get("min_length")), "maxLength": _num(p.get("max_length")),
                         "median": _num((p.get("quantiles") or {}).get("p50")),
                         "firstQuartile": _num((p.get("quantiles") or {}).get("p25")),
                         "thirdQuartile": _num((p.get("quantiles") or {}).get("p75")),
                         "valuesCount": rows - nulls if rows is not None and nulls is not None else None})
    return out


def plan_quality(scans: list[dict], tables: dict[str, TablePlan], prefer_schema: str,
                 warnings: list[str]) -> tuple[list[CheckPlan], list[ProfilePlan]]:
    """Soda check results and column profiles, attached to cataloged tables.

    One result per check and timestamp, one profile per table and timestamp: the same run read
    twice (or two files of one run) yields each point once."""
    checks: dict[tuple[str, int], CheckPlan] = {}
    profiles: dict[tuple[str, int], ProfilePlan] = {}
    for scan in scans:
        ts = _scan_timestamp(scan)
        for chk in _scan_checks(scan):
            uid = _table_for(tables, chk["table"], prefer_schema)
            if uid is None:
                warnings.append(f"Soda check `{chk['name']}` on unknown table `{chk['table']}`: skipped")
                continue
            name = check_case_name(tables[uid].name, chk["column"], chk["name"])
            checks[(name, ts)] = CheckPlan(table=uid, column=chk["column"], name=name, check=chk["name"],
                                           outcome=chk["outcome"], value=chk["value"], timestamp_ms=ts)
        for table, (rows, cols) in _scan_profiles(scan).items():
            uid = _table_for(tables, table, prefer_schema)
            if uid is None:
                warnings.append(f"Soda profile of unknown table `{table}`: skipped")
                continue
            known = {c.name.lower() for c in tables[uid].columns}
            kept = tuple(c for c in cols if c.get("name") and c["name"].lower() in known)
            profiles[(uid, ts)] = ProfilePlan(table=uid, row_count=rows, timestamp_ms=ts, columns=kept)
    return sorted(checks.values(), key=lambda c: (c.timestamp_ms, c.name)), \
        sorted(profiles.values(), key=lambda p: (p.timestamp_ms, p.table))


def plan_api(api: dict, tables: dict[str, TablePlan], warnings: list[str]) -> dict:
    """The data API's description with each endpoint's ``reads.relations`` ("schema.table") resolved
    to the dbt unique_ids the lineage edges start from."""
    by_relation = {f"{t.schema}.{t.name}".lower(): uid for uid, t in tables.items()}
    for coll in api.get("collections", []):
        for ep in coll.get("endpoints", []):
            reads = ep.setdefault("reads", {})
            uids = []
            for rel in reads.get("relations", []):
                uid = by_relation.get(rel.lower())
                if uid is None:
                    warnings.append(f"API endpoint {ep['path']} reads {rel}, which the dbt manifest does not have")
                else:
                    uids.append(uid)
            reads["tables"] = sorted(set(uids))
    return api


FRESHNESS_OUTCOME = {"pass": "pass", "warn": "warn", "error": "fail", "runtime error": "error"}


def plan_freshness(path: str | Path | None, tables: dict[str, TablePlan], warnings: list[str]) -> list[CheckPlan]:
    """dbt source freshness results (include/pipeline/freshness.py's file) as one check per
    source table, timestamped with the run's logical date like the Soda results. A source that
    never landed has no result to record."""
    if not path or not Path(path).exists():
        return []
    doc = json.loads(Path(path).read_text())
    ts = _iso_to_ms(str(doc.get("logical_date") or doc.get("as_of") or "")[:10] + "T00:00:00+00:00") or 0
    out = []
    for s in doc.get("sources", []):
        uid = next((u for u, t in tables.items() if t.kind == "source" and t.name == s["table"]
                    and u.split(".")[-2] == s["source"]), None)
        if uid is None:
            warnings.append(f"freshness of unknown source `{s['source']}.{s['table']}`: skipped")
            continue
        if s["status"] not in FRESHNESS_OUTCOME:
            continue
        out.append(CheckPlan(table=uid, column=None, name=f"dbt_freshness_{s['source']}_{s['table']}",
                             check=f"dbt source freshness (warn / error after {s.get('criteria', '-')})",
                             outcome=FRESHNESS_OUTCOME[s["status"]], value=s.get("age_hours"),
                             timestamp_ms=ts, kind="freshness"))
    return out


def build_plan(manifest_path: str | Path, catalog_path: str | Path | None = None,
               quality_path: str | Path | None = None,
               dp_manifest_path: str | Path = DEFAULT_DP_MANIFEST, api_path: str | Path | None = None,
               freshness_path: str | Path | None = None) -> CatalogPlan:
    """Read every input once and return the complete plan of what the catalog should hold."""
    dp = load_dp_manifest(dp_manifest_path)
    manifest = json.loads(Path(manifest_path).read_text())
    catalog = None
    if catalog_path and Path(catalog_path).exists():
        catalog = json.loads(Path(catalog_path).read_text())
    plan = CatalogPlan(dp=dp)
    if catalog is None:
        plan.warnings.append("no dbt catalog.json: column types come from the manifest (UNKNOWN if undeclared)")
    plan.tables = plan_tables(manifest, catalog, dp.get("column_tags", {}))
    plan.edges = plan_edges(plan.tables)
    plan.metrics = plan_metrics(manifest, plan.tables)
    for port in dp["inputs"] + dp["outputs"]:
        resolve_ref(plan.tables, port["ref"])   # fail early on a manifest naming a missing table
    plan.checks, plan.profiles = plan_quality(load_soda_scans(quality_path), plan.tables,
                                              dp["warehouse"].get("product_schema", ""), plan.warnings)
    plan.checks += plan_freshness(freshness_path, plan.tables, plan.warnings)
    plan.dashboards = plan_dashboards(plan.tables, plan.warnings)
    if api_path and Path(api_path).exists():
        plan.api = plan_api(json.loads(Path(api_path).read_text()), plan.tables, plan.warnings)
    return plan


# Superset viz types -> OpenMetadata ChartType (it has no treemap, big number or funnel: Other)
CHART_TYPES = {"echarts_timeseries_bar": "Bar", "echarts_timeseries_line": "Line", "echarts_area": "Area",
               "pie": "Pie", "table": "Table", "pivot_table_v2": "Table", "sankey_v2": "SanKey",
               "histogram_v2": "Histogram", "box_plot": "BoxPlot", "heatmap_v2": "Heatmap", "gauge_chart": "Gauge",
               "graph_chart": "Graph", "echarts_timeseries_scatter": "Scatter", "country_map": "Map"}
_RELATION = re.compile(r"\b(?:from|join)\s+\"?([A-Za-z_][A-Za-z0-9_]*)\"?\.\"?([A-Za-z_][A-Za-z0-9_]*)\"?", re.I)


def plan_dashboards(tables: dict[str, TablePlan], warnings: list[str], assets_root: str | Path | None = None
                    ) -> list[DashboardPlan]:
    """The Superset dashboards of include/dashboards/assets, their charts and the tables they read
    (the relations named in their datasets' SQL, matched to dbt's by schema and name)."""
    from include.dashboards.assets import load_assets
    from include.dashboards.serving import SERVING_COPY_URI

    tree = load_assets(assets_root)
    by_relation = {(t.schema.lower(), t.name.lower()): uid for uid, t in tables.items() if t.kind != "source"}
    out = []
    for dash in sorted(tree.dashboards.values(), key=lambda d: d["slug"]):
        charts, reads = [], {}
        for chart in tree.dashboard_charts(dash["uuid"]):
            charts.append(ChartPlan(name=chart["uuid"], title=chart["slice_name"],
                                    chart_type=CHART_TYPES.get(chart["viz_type"], "Other"),
                                    description=chart.get("description")))
            dataset = tree.dataset_of(chart)
            if tree.database_of(dataset).get("sqlalchemy_uri") != SERVING_COPY_URI:
                continue   # the governance dashboard's audit database: the API's trail, not a dbt model
            relations = _RELATION.findall(dataset.get("sql") or "") or [(dataset["schema"], dataset["table_name"])]
            for schema, name in relations:
                uid = by_relation.get((schema.lower(), name.lower()))
                if uid is None:
                    warnings.append(f"dashboard {dash['slug']}: dataset {dataset['table_name']} reads "
                                    f"{schema}.{name}, which is not a dbt model")
                else:
                    reads[uid] = None
        out.append(DashboardPlan(name=dash["slug"], title=dash["dashboard_title"], description=dash.get("description"),
                                 url_path=f"/superset/dashboard/{dash['slug']}/", charts=tuple(charts),
                                 reads=tuple(reads)))
    return out
