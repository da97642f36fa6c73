"""The serving copy: a read-only copy of the data product for readers (the data API, dashboards),
published atomically by the pipeline after the quality gate and the role views.

    copy = publish(warehouse_path, run_id, logical_date, quality)   # the DAG, in the DuckDB pool
    copy = current()                                                # any reader, any time
    con = copy.connect(clear_pii=False)                             # read-only DuckDB connection

Why a copy: DuckDB allows one writing process per file and a reader cannot open a file another
process holds read-write, so readers of the warehouse itself would block the pipeline (and the
pipeline them). The copy is written once, then only read; the next run publishes a new one next
to it and switches a pointer (``current.json``, replaced atomically), so a reader moves to the new
data by re-reading the pointer, without a restart, and never sees a half-written copy.

What a copy holds (``<FSDP_SERVING_DIR>/<run>/``):

- ``serving.duckdb``: the served relations (the dbt models tagged ``data_product`` and every
  relation the semantic manifest reads) and, for every governance role and ``role_public``, a
  schema with the same relations as that role may read them (views over tables materialised at
  publication in a storage schema ``_<role>``; decided by ``include.governance``, the
  one policy engine). In the base tables every governed column (``TW.mask``, ``TW.dob``) holds the
  public treatment (sha256, NULL), so **no clear PII is in this file**: a reader that opens it
  without a policy (Superset SQL Lab, a notebook) cannot read one clear name or date of birth.
- ``pii.duckdb``: only the role tables whose policy passes governed columns through in clear
  (``role_pii_reader``), readable by the file's owner only (mode 0400). In ``serving.duckdb`` those
  role schemas are views over the attached ``pii`` catalog, so they resolve only on a connection a
  serving layer opened with ``connect(clear_pii=True)`` for a caller the policy allows, and fail
  (never fall back to anything) elsewhere.
- ``semantic_manifest.json`` and ``manifest.json``: the semantic model and dbt manifest (column
  tags) of that run, so a reader's model matches its data.
- a ``serving_copy`` table: run id, logical date, quality status, when published, what is served.

Raw history, staging, quarantine and the snapshot are not copied: they hold clear PII without
governance tags and no reader needs them.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import uuid
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path

from include.governance.engine import decide
from include.governance.manifest import all_column_tags, load_manifest
from include.governance.policy import load_policy_set
from include.governance.treatments import quote

MAIN_FILE = "serving.duckdb"
SEMANTIC_FILE = "semantic_manifest.json"
MANIFEST_FILE = "manifest.json"
PII_FILE = "pii.duckdb"
PII_CATALOG = "pii"
POINTER = "current.json"
DEFAULT_KEEP = 3
ROOT = Path(__file__).resolve().parents[2]


class ServingError(RuntimeError):
    """The copy cannot be published (quality failed, a relation is missing) or read."""


def serving_dir() -> Path:
    value = os.environ.get("FSDP_SERVING_DIR")
    return Path(value).expanduser().resolve() if value else ROOT / ".local" / "serving"


@dataclass(frozen=True)
class ServingCopy:
    """One published copy: where it is, which run and logical date it holds, its quality status."""

    path: Path                    # serving.duckdb
    pii_path: Path                # pii.duckdb (clear role tables only)
    run_id: str
    logical_date: str             # ISO date
    quality: dict                 # {"status": "passed" | "passed_with_warnings", "checks", "warnings", ...}
    published_at: str             # ISO timestamp, UTC
    relations: list[str] = field(default_factory=list)
    role_schemas: dict[str, str] = field(default_factory=dict)   # role schema -> "main" | "pii"
    column_tags: list[str] = field(default_factory=list)         # every dbt column tag (policy validation)

    @property
    def directory(self) -> Path:
        return self.path.parent

    @property
    def semantic_manifest(self) -> Path | None:
        """The semantic manifest the copy was published with (the model that matches its data)."""
        path = self.directory / SEMANTIC_FILE
        return path if path.exists() else None

    @property
    def manifest(self) -> Path:
        return self.directory / MANIFEST_FILE

    @property
    def copy_id(self) -> str:
        return self.directory.name

    def connect(self, clear_pii: bool = False):
        """A read-only DuckDB connection; ``clear_pii`` attaches the clear role tables too."""
        import duckdb

        con = duckdb.connect(str(self.path), read_only=True)
        if clear_pii:
            con.execute(f"attach '{_sql_text(self.pii_path)}' as {PII_CATALOG} (read_only)")
        return con

    def as_dict(self) -> dict:
        out = asdict(self)
        out.update(path=str(self.path), pii_path=str(self.pii_path), copy_id=self.copy_id)
        return out


def _sql_text(value: os.PathLike | str) -> str:
    return str(value).replace("'", "''")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_.")[:80] or "run"


def quality_status(quality: dict) -> dict:
    """The quality verdict a copy carries; raises when the gate did not pass (nothing to publish)."""
    if not quality or not quality.get("ok"):
        failed = ", ".join((quality or {}).get("failed") or []) or "no passing quality result"
        raise ServingError(f"not publishing a serving copy: the quality gate did not pass ({failed})")
    warnings = list(quality.get("warnings") or [])
    return {"status": "passed_with_warnings" if warnings else "passed", "checks": quality.get("checks"),
            "warnings": warnings, "run_id": quality.get("run_id")}


def served_models(manifest: dict, semantic_manifest: dict | None) -> list[tuple[str, str, dict[str, frozenset[str]]]]:
    """(schema, alias, column tags) of every relation to serve: dbt models tagged data_product and
    the relations the semantic manifest's semantic models and time spines read."""
    nodes = [n for n in manifest.get("nodes", {}).values() if n.get("resource_type") in ("model", "seed", "snapshot")]
    by_relation = {(n["schema"].lower(), (n.get("alias") or n["name"]).lower()): n for n in nodes}
    wanted: dict[tuple[str, str], None] = {}
    for node in nodes:
        if node.get("resource_type") == "model" and "data_product" in (node.get("tags") or []):
            wanted[(node["schema"].lower(), (node.get("alias") or node["name"]).lower())] = None
    for rel in _semantic_relations(semantic_manifest or {}):
        wanted[rel] = None
    out = []
    for schema, alias in wanted:
        node = by_relation.get((schema, alias))
        tags = {c.lower(): frozenset(col.get("tags") or []) for c, col in ((node or {}).get("columns") or {}).items()}
        out.append((schema, alias, tags))
    return out


def _semantic_relations(semantic_manifest: dict) -> list[tuple[str, str]]:
    rels = [sm.get("node_relation") or {} for sm in semantic_manifest.get("semantic_models", [])]
    config = semantic_manifest.get("project_configuration") or {}
    rels += [ts.get("node_relation") or {} for ts in config.get("time_spines", [])]
    rels += [ts.get("node_relation") or {} for ts in config.get("time_spine_table_configurations", [])]
    out = []
    for rel in rels:
        schema, alias = rel.get("schema_name"), rel.get("alias") or rel.get("relation_name")
        if schema and alias:
            out.append((schema.lower(), alias.split(".")[-1].strip('"').lower()))
    return out


def _default_semantic_manifest(manifest_path: Path) -> dict | None:
    path = manifest_path.with_name("semantic_manifest.json")
    return json.loads(path.read_text()) if path.exists() else None


def publish(warehouse_path: str | os.PathLike, run_id: str, logical_date: date | str, quality: dict, *,
            manifest_path: str | os.PathLike | None = None, semantic_manifest: dict | None = None,
            target_dir: str | os.PathLike | None = None, keep: int = DEFAULT_KEEP) -> ServingCopy:
    """Build a new serving copy of the warehouse, switch ``current.json`` to it, prune old copies.

    Runs after the quality gate (a failed ``quality`` raises) and needs the warehouse file closed
    by writers (it is attached read-only). Every step before the pointer switch writes into a
    private temporary folder, so a crash leaves the previous copy current and nothing half-done
    visible.
    """
    status = quality_status(quality)
    manifest_file = Path(manifest_path) if manifest_path else None
    manifest = load_manifest(manifest_file)
    if semantic_manifest is None and manifest_file is not None:
        semantic_manifest = _default_semantic_manifest(manifest_file)
    models = served_models(manifest, semantic_manifest)
    policy_set = load_policy_set(all_column_tags(manifest))
    base = Path(target_dir) if target_dir else serving_dir()
    base.mkdir(parents=True, exist_ok=True)
    day = logical_date.isoformat() if isinstance(logical_date, date) else str(logical_date)
    published_at = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    name = f"{day}__{_slug(run_id)}__{datetime.now(timezone.utc):%Y%m%dT%H%M%S%f}"
    tmp = base / f".tmp-{name}-{uuid.uuid4().hex[:6]}"
    tmp.mkdir()
    try:
        relations, role_schemas = _build(Path(warehouse_path), tmp, models, policy_set)
        copy = ServingCopy(path=base / name / MAIN_FILE, pii_path=base / name / PII_FILE, run_id=run_id,
                           logical_date=day, quality=status, published_at=published_at,
                           relations=relations, role_schemas=role_schemas,
                           column_tags=sorted(all_column_tags(manifest)))
        _write_meta(tmp / MAIN_FILE, copy)
        if semantic_manifest is not None:
            (tmp / SEMANTIC_FILE).write_text(json.dumps(semantic_manifest))
        # the dbt manifest the semantic layer and the policies read (column tags, no data)
        (tmp / MANIFEST_FILE).write_text(json.dumps(manifest))
        (tmp / MAIN_FILE).chmod(0o444)
        (tmp / PII_FILE).chmod(0o400)
        _fsync(tmp / MAIN_FILE, tmp / PII_FILE)
        os.replace(tmp, base / name)
        _switch_pointer(base, copy)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        cur = current(base)
        if (base / name).exists() and (cur is None or cur.copy_id != name):
            shutil.rmtree(base / name, ignore_errors=True)   # renamed but never made current
        raise
    prune(base, keep=keep)
    return copy


def _build(warehouse: Path, out: Path, models, policy_set) -> tuple[list[str], dict[str, str]]:
    import duckdb

    if not warehouse.exists():
        raise ServingError(f"warehouse not found: {warehouse}")
    con = duckdb.connect(str(out / MAIN_FILE))
    try:
        con.execute(f"attach '{_sql_text(warehouse)}' as wh (read_only)")
        con.execute(f"attach '{_sql_text(out / PII_FILE)}' as {PII_CATALOG}")
        main = con.execute("select current_database()").fetchone()[0]
        audiences = [(r.schema, frozenset({r.tag})) for r in policy_set.roles] + [(policy_set.public_schema, frozenset())]
        relations, role_schemas = [], {}
        for schema, alias, tags in models:
            cols = con.execute(
                "select column_name, data_type from information_schema.columns where table_catalog = 'wh' "
                "and lower(table_schema) = ? and lower(table_name) = ? order by ordinal_position",
                [schema, alias]).fetchall()
            if not cols:
                raise ServingError(f"{schema}.{alias} is not in the warehouse {warehouse} (has dbt built it?)")
            types = dict(cols)
            columns = {c: tags.get(c.lower(), frozenset()) for c, _ in cols}
            source = f"wh.{quote(schema)}.{quote(alias)}"
            # base table: what a reader without any role may read (the public treatment)
            public = decide(policy_set, frozenset(), columns)
            _create(con, main, schema, alias, _select(public, types, source))
            for role_schema, user_tags in audiences:
                decisions = decide(policy_set, user_tags, columns)
                governed = any(d.reason != "untagged" for d in decisions.values())
                con.execute(f"create schema if not exists {quote(main)}.{quote(role_schema)}")
                if not governed:
                    # nothing to mask (transactions, accounts ...): the role reads the base table, no
                    # second copy of its rows
                    con.execute(f"create view {quote(main)}.{quote(role_schema)}.{quote(alias)} as select "
                                f"{', '.join(quote(c) for c in decisions)} from {quote(schema)}.{quote(alias)}")
                    role_schemas.setdefault(role_schema, "main")
                    continue
                clear = any(d.reason != "untagged" and d.treatment.operator == "pass_through" for d in decisions.values())
                # the role's rows are materialised (computed from the clear warehouse values) in a
                # storage schema, clear ones in the pii file; the role schema itself holds views,
                # as in the warehouse, so readers and the semantic layer see the same shape
                store_catalog, store_schema = (PII_CATALOG, role_schema) if clear else (main, f"_{role_schema}")
                _create(con, store_catalog, store_schema, alias, _select(decisions, types, source))
                # within the file unqualified (a copy opened under another file name still resolves)
                target = f"{quote(store_schema)}.{quote(alias)}" if store_catalog == main else \
                    f"{quote(store_catalog)}.{quote(store_schema)}.{quote(alias)}"
                con.execute(f"create view {quote(main)}.{quote(role_schema)}.{quote(alias)} as select * from {target}")
                role_schemas[role_schema] = "pii" if clear or role_schemas.get(role_schema) == "pii" else "main"
            relations.append(f"{schema}.{alias}")
        con.execute("detach wh")
        con.execute(f"detach {PII_CATALOG}")
        con.execute("checkpoint")
    finally:
        con.close()
    return relations, role_schemas


def _select(decisions, types: dict[str, str], source: str) -> str:
    exprs = []
    for col, decision in decisions.items():
        expr = decision.treatment.sql(col, types[col])
        exprs.append(expr if expr == quote(col) else f"{expr} as {quote(col)}")
    return f"select {', '.join(exprs)} from {source}"


def _create(con, catalog: str, schema: str, name: str, select_sql: str) -> None:
    con.execute(f"create schema if not exists {quote(catalog)}.{quote(schema)}")
    con.execute(f"create table {quote(catalog)}.{quote(schema)}.{quote(name)} as {select_sql}")


def _write_meta(path: Path, copy: ServingCopy) -> None:
    import duckdb

    with duckdb.connect(str(path)) as con:
        con.execute("create table serving_copy (run_id varchar, logical_date date, quality_status varchar, "
                    "quality json, published_at timestamptz, relations varchar[])")
        con.execute("insert into serving_copy values (?, ?, ?, ?, ?, ?)",
                    [copy.run_id, copy.logical_date, copy.quality["status"], json.dumps(copy.quality),
                     copy.published_at, copy.relations])


def _fsync(*paths: Path) -> None:
    for p in paths:
        fd = os.open(p, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _switch_pointer(base: Path, copy: ServingCopy) -> None:
    body = {**copy.as_dict(), "directory": copy.directory.name}
    tmp = base / f".{POINTER}.{uuid.uuid4().hex[:6]}"
    tmp.write_text(json.dumps(body, indent=2, default=str) + "\n")
    _fsync(tmp)
    os.replace(tmp, base / POINTER)
    dir_fd = os.open(base, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def current(target_dir: str | os.PathLike | None = None) -> ServingCopy | None:
    """The copy the pointer names, or None when nothing was published yet."""
    base = Path(target_dir) if target_dir else serving_dir()
    try:
        body = json.loads((base / POINTER).read_text())
    except FileNotFoundError:
        return None
    directory = base / body["directory"]
    return ServingCopy(path=directory / MAIN_FILE, pii_path=directory / PII_FILE, run_id=body["run_id"],
                       logical_date=body["logical_date"], quality=body["quality"],
                       published_at=body["published_at"], relations=body.get("relations", []),
                       role_schemas=body.get("role_schemas", {}), column_tags=body.get("column_tags", []))


def pointer_stamp(target_dir: str | os.PathLike | None = None) -> tuple[int, int] | None:
    """(inode, mtime_ns) of the pointer: a cheap way for a reader to see that a new copy was published."""
    base = Path(target_dir) if target_dir else serving_dir()
    try:
        st = (base / POINTER).stat()
    except FileNotFoundError:
        return None
    return st.st_ino, st.st_mtime_ns


def prune(target_dir: str | os.PathLike | None = None, keep: int = DEFAULT_KEEP) -> list[str]:
    """Delete all but the ``keep`` newest copies (never the current one) and stale temporary folders.

    A reader that still has an old copy open keeps reading it: on POSIX an open file stays
    readable after it is unlinked.
    """
    base = Path(target_dir) if target_dir else serving_dir()
    cur = current(base)
    copies = sorted((d for d in base.iterdir() if d.is_dir() and not d.name.startswith(".")),
                    key=lambda d: d.name.split("__")[-1], reverse=True)
    removed = []
    for old in copies[max(keep, 1):]:
        if cur is not None and old == cur.directory:
            continue
        shutil.rmtree(old, ignore_errors=True)
        removed.append(old.name)
    for stale in base.glob(".tmp-*"):
        if stale.is_dir() and (datetime.now().timestamp() - stale.stat().st_mtime) > 3600:
            shutil.rmtree(stale, ignore_errors=True)
    return removed
