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


@dataclass(frozen=True)
class ProfilePlan:
    table: str                   # dbt unique_id
    row_count: int | None
    timestamp_ms: int
    columns: tuple[dict, ...]    # Soda columnProfiles entries {columnName, profile{...}}


@dataclass
class CatalogPlan:
    dp: dict
    tables: dict[str, TablePlan] = field(default_factory=dict)
    edges: list[EdgePlan] = field(default_factory=list)
    checks: list[CheckPlan] = field(default_factory=list)
    profiles: list[ProfilePlan] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

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
    """Soda scan results (Scan.get_scan_results() dicts) from a JSON file or a directory of them.

    A file may hold one scan, a list of scans, or an object with a `scans` list."""
    if not path:
        return []
    p = Path(path)
    files = sorted(p.rglob("*.json")) if p.is_dir() else [p]
    scans: list[dict] = []
    for f in files:
        data = json.loads(f.read_text())
        items = data if isinstance(data, list) else data.get("scans", [data]) if isinstance(data, dict) else []
        scans += [s for s in items if isinstance(s, dict) and ("checks" in s or "profiling" in s)]
    return scans


_NAME_CLEAN = re.compile(r"[^A-Za-z0-9_]+")


def check_case_name(table: str, column: str | None, check: str) -> str:
    """A stable OpenMetadata test case name for a Soda check (same check, same name every run)."""
    slug = _NAME_CLEAN.sub("_", check).strip("_").lower()[:120] or "check"
    return "_".join(p for p in ("soda", table, column or "", slug) if p)


def _table_for(tables: dict[str, TablePlan], soda_table: str, prefer_schema: str) -> str | None:
    name = soda_table.split(".")[-1].strip('"').lower()
    hits = [t for t in tables.values() if t.name.lower() == name and t.kind != "source"]
    hits.sort(key=lambda t: t.schema != prefer_schema)
    return hits[0].unique_id if hits else None


def plan_quality(scans: list[dict], tables: dict[str, TablePlan], prefer_schema: str,
                 warnings: list[str]) -> tuple[list[CheckPlan], list[ProfilePlan]]:
    """Soda check results and column profiles, attached to cataloged tables."""
    checks: dict[str, CheckPlan] = {}
    profiles: dict[str, ProfilePlan] = {}
    for scan in scans:
        ts = (_iso_to_ms(scan.get("dataTimestamp")) or _iso_to_ms(scan.get("scanEndTimestamp"))
              or _iso_to_ms(scan.get("scanStartTimestamp")) or 0)
        for chk in scan.get("checks") or []:
            uid = _table_for(tables, chk.get("table") or "", prefer_schema)
            if uid is None:
                warnings.append(f"Soda check `{chk.get('name')}` on unknown table `{chk.get('table')}`: skipped")
                continue
            column = chk.get("column") or None
            text = chk.get("definition") or chk.get("name") or "check"
            # a SodaCL definition is "checks for <table>:\n  - <check>"; keep the check itself
            text = text.strip().splitlines()[-1].strip().lstrip("- ").strip() if "\n" in text else text
            name = check_case_name(tables[uid].name, column, chk.get("name") or text)
            checks[name] = CheckPlan(table=uid, column=column, name=name, check=chk.get("name") or text,
                                     outcome=(chk.get("outcome") or "").lower(),
                                     value=(chk.get("diagnostics") or {}).get("value"), timestamp_ms=ts)
        for prof in scan.get("profiling") or []:
            uid = _table_for(tables, prof.get("table") or "", prefer_schema)
            if uid is None:
                warnings.append(f"Soda profile of unknown table `{prof.get('table')}`: skipped")
                continue
            if not prof.get("columnProfiles") and prof.get("rowCount") is None:
                continue   # a sample-tables result, not a profile
            profiles[uid] = ProfilePlan(table=uid, row_count=prof.get("rowCount"), timestamp_ms=ts,
                                        columns=tuple(prof.get("columnProfiles") or ()))
    return list(checks.values()), list(profiles.values())


def build_plan(manifest_path: str | Path, catalog_path: str | Path | None = None,
               quality_path: str | Path | None = None,
               dp_manifest_path: str | Path = DEFAULT_DP_MANIFEST) -> CatalogPlan:
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
    for port in dp["inputs"] + dp["outputs"]:
        resolve_ref(plan.tables, port["ref"])   # fail early on a manifest naming a missing table
    plan.checks, plan.profiles = plan_quality(load_soda_scans(quality_path), plan.tables,
                                              dp["warehouse"].get("product_schema", ""), plan.warnings)
    return plan
