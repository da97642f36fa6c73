"""Publish the product tables to the output port: gated, masked, atomic per table, reconciled.

Layout of one table in its port's container (``<table>/...``)::

    _current.json                       the pointer: the table's current version (written last)
    _versions/<version>.json            every recent version's manifest (the pointer is a copy of one)
    runs/<version>/<partition>/part-N.parquet   the files a version wrote (hive layout, e.g.
                                        country=India/state=Goa/); a later version lists the
                                        files it kept from earlier ones, so an unchanged
                                        partition is never rewritten

A manifest lists every file of the version with its size, ETag, MD5 and rows, and per partition
the rows and a checksum (sum of DuckDB ``hash()`` over every published column of every row).
Readers read ``_current.json`` and then exactly the files it lists: they see the previous
complete version or the new one, never a mix (the files of the version before the current one
are kept until the next publication, for readers still on it).

Each run reconciles every table with the warehouse before it writes anything: a partition is
rewritten when the warehouse's rows or checksum differ from the manifest's, or when one of its
files is missing or is not the object the manifest recorded (size or ETag differ). So a file lost
in an outage heals on the next run; a run whose port does not match the warehouse after
publishing fails (``OutputPortMismatch``), it never reports success.
"""
from __future__ import annotations

import hashlib
import json
import logging
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from include.governance.publication import PublishedSelect, published_select
from include.governance.treatments import quote
from include.output_port.ports import Port

log = logging.getLogger("fsdp.output_port")

FORMAT = 1
POINTER = "_current.json"
VERSIONS = "_versions"
RUNS = "runs"
KEEP_VERSIONS = 10                     # manifests kept in _versions/
EXCLUDED_COLUMNS = ("_published_run_id",)   # warehouse bookkeeping: which dbt invocation wrote a row
UPLOAD_THREADS = 4


class OutputPortMismatch(RuntimeError):
    """The port does not hold what the warehouse holds after publishing (never a success)."""


def key_id(values) -> str:
    return json.dumps(list(values), ensure_ascii=False)


def _literal(value) -> str:
    return "NULL" if value is None else "'" + str(value).replace("'", "''") + "'"


def new_version(run_id: str, now: datetime | None = None) -> str:
    """Sortable, unique per run and moment: ``20260105T101502123Z-1a2b3c4d``."""
    now = now or datetime.now(timezone.utc)
    return f"{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}Z-{hashlib.sha1(run_id.encode()).hexdigest()[:8]}"


# ---- what the warehouse holds ----------------------------------------------------------------

def _stats_sql(source: str, columns: list[str], partition_by: tuple[str, ...]) -> str:
    keys = [f"cast({quote(p)} as varchar)" for p in partition_by]
    cols = ", ".join(quote(c) for c in columns)
    select = ", ".join(keys + ["count(*)", f"cast(sum(hash({cols})) as varchar)"])
    group = f" group by {', '.join(keys)}" if keys else ""
    return f"select {select} from {source}{group}"


def _stats(con, source: str, columns: list[str], partition_by: tuple[str, ...]) -> dict[str, dict]:
    out = {}
    for row in con.execute(_stats_sql(source, columns, partition_by)).fetchall():
        key, rows, checksum = list(row[:len(partition_by)]), int(row[-2]), row[-1] or "0"
        if rows:
            out[key_id(key)] = {"key": key, "rows": rows, "checksum": checksum}
    return out


def warehouse_partitions(con, ps: PublishedSelect, partition_by: tuple[str, ...]) -> dict[str, dict]:
    """Rows and checksum per partition of the table as the port's audience receives it."""
    return _stats(con, f"({ps.sql}) as t", [c for c, _ in ps.columns], partition_by)


def published_schema(con, ps: PublishedSelect) -> list[list[str]]:
    """Column names and types of the published rows (a hashed column is text, whatever it was)."""
    return [[r[0], r[1]] for r in con.execute(f"describe {ps.sql}").fetchall()]


# ---- what the port holds ---------------------------------------------------------------------

def read_manifest(store, container: str, table: str, name: str = POINTER) -> dict | None:
    """The table's current manifest (or a named version's), None when absent or unreadable."""
    from include.blob_storage import StorageUnavailable, StorageError

    path = f"{table}/{name}"
    if path not in store.list(container, path):
        return None
    try:
        doc = json.loads(store.get(container, path))
    except StorageUnavailable:
        raise
    except (StorageError, ValueError) as exc:
        log.warning("output port: %s/%s is unreadable (%s): the table is republished", container, path, exc)
        return None
    return doc if isinstance(doc, dict) and doc.get("format") == FORMAT else None


def file_problems(files: list[dict], table: str, listing: dict) -> list[str]:
    """Why the listed files are not the ones a manifest recorded (empty: they are)."""
    problems = []
    for f in files:
        info = listing.get(f"{table}/{f['path']}")
        if info is None:
            problems.append(f"{f['path']} is missing")
        elif info.size != f["size"] or (f.get("etag") and info.etag != f["etag"]):
            problems.append(f"{f['path']} was replaced (size {info.size} of {f['size']}, etag {info.etag})")
    return problems


# ---- one table -------------------------------------------------------------------------------

@dataclass
class TablePlan:
    table: str
    keep: dict[str, dict] = field(default_factory=dict)       # key -> manifest partition kept as is
    rewrite: dict[str, str] = field(default_factory=dict)     # key -> reason
    removed: list[str] = field(default_factory=list)          # keys in the manifest, gone from the warehouse

    @property
    def changed(self) -> bool:
        return bool(self.rewrite or self.removed)


def plan_table(table: str, wanted: dict[str, dict], schema: list, manifest: dict | None, listing: dict) -> TablePlan:
    """Compare the warehouse's partitions with the manifest and the container listing."""
    plan = TablePlan(table)
    current = {key_id(p["key"]): p for p in (manifest or {}).get("partitions", [])}
    schema_changed = manifest is not None and manifest.get("columns") != schema
    for key, want in wanted.items():
        have = current.get(key)
        if manifest is None:
            plan.rewrite[key] = "no published version" if not listing else "pointer missing or unreadable"
        elif schema_changed:
            plan.rewrite[key] = "columns changed"
        elif have is None:
            plan.rewrite[key] = "new partition"
        elif (have["rows"], have["checksum"]) != (want["rows"], want["checksum"]):
            plan.rewrite[key] = "rows changed"
        elif problems := file_problems(have["files"], table, listing):
            plan.rewrite[key] = "file " + problems[0]
        else:
            plan.keep[key] = have
    plan.removed = sorted(k for k in current if k not in wanted)
    return plan


def _write_files(con, ps: PublishedSelect, partition_by: tuple[str, ...], keys: list[list], everything: bool,
                 out_dir: Path) -> list[Path]:
    """The rows of ``keys`` (all rows when ``everything``) as Parquet under ``out_dir``."""
    source = f"({ps.sql}) as t"
    where = ""
    if partition_by and not everything:
        names = [f"k{i}" for i in range(len(partition_by))]
        values = ", ".join("(" + ", ".join(_literal(v) for v in key) + ")" for key in keys)
        match = " and ".join(f"k.{n} is not distinct from cast(t.{quote(p)} as varchar)"
                             for n, p in zip(names, partition_by))
        where = f" where exists (select 1 from (values {values}) as k({', '.join(names)}) where {match})"
    query = f"select * from {source}{where}"
    if partition_by:
        con.execute(f"copy ({query}) to '{out_dir}' (format parquet, compression zstd, "
                    f"partition_by ({', '.join(quote(p) for p in partition_by)}), write_partition_columns true, "
                    f"filename_pattern 'part-{{i}}', overwrite_or_ignore true)")
    else:
        out_dir.mkdir(parents=True, exist_ok=True)
        con.execute(f"copy ({query}) to '{out_dir / 'part-0.parquet'}' (format parquet, compression zstd)")
    return sorted(p for p in out_dir.rglob("*.parquet") if p.is_file())


def _file_stats(con, path: Path, columns: list[str], partition_by: tuple[str, ...]) -> dict[str, dict]:
    return _stats(con, f"read_parquet('{path}', hive_partitioning = false)", columns, partition_by)


def _upload(store, container: str, uploads: list[tuple[Path, str]]) -> dict[str, object]:
    def one(item):
        local, name = item
        return name, store.put_file(container, name, local)
    with ThreadPoolExecutor(max_workers=UPLOAD_THREADS) as pool:
        return dict(pool.map(one, uploads))


def publish_table(con, port: Port, store, table, run_id: str, logical_date: str, rules) -> dict:
    """Reconcile one table with its port and publish a new version when anything differs."""
    manifest_doc, policy_set = rules
    ps = published_select(con, table.schema, table.name, port.audience, manifest=manifest_doc,
                          policy_set=policy_set, exclude=EXCLUDED_COLUMNS)
    columns = [c for c, _ in ps.columns]
    wanted = warehouse_partitions(con, ps, table.partition_by)
    schema = published_schema(con, ps)
    manifest = read_manifest(store, port.container, table.name)
    listing = store.list_details(port.container, f"{table.name}/")
    plan = plan_table(table.name, wanted, schema, manifest, listing)
    result = {"rows": sum(p["rows"] for p in wanted.values()), "partitions": len(wanted),
              "version": (manifest or {}).get("version"), "rewritten": len(plan.rewrite),
              "removed": len(plan.removed), "reasons": {}, "files_uploaded": 0, "bytes_uploaded": 0}
    for reason in plan.rewrite.values():
        kind = reason.split(" (")[0] if not reason.startswith("file ") else "file missing or replaced"
        result["reasons"][kind] = result["reasons"].get(kind, 0) + 1
    healed = [k for k, r in plan.rewrite.items() if r.startswith("file ") or r == "pointer missing or unreadable"]
    if healed:
        log.warning("output port %s: %s: %d partition(s) lost or altered in the container, rewritten: %s",
                    port.name, table.name, len(healed), "; ".join(f"{k}: {plan.rewrite[k]}" for k in healed[:5]))
    if not plan.changed and manifest is not None:
        result["status"] = "unchanged"
        new = manifest
    else:
        version = new_version(run_id)
        tmp = Path(tempfile.mkdtemp(prefix="fsdp-output-port-"))
        try:
            everything = manifest is None or len(plan.rewrite) == len(wanted)
            keys = [wanted[k]["key"] for k in plan.rewrite]
            files = _write_files(con, ps, table.partition_by, keys, everything, tmp) if plan.rewrite else []
            per_key: dict[str, dict] = {}
            uploads = []
            for f in files:
                stats = _file_stats(con, f, columns, table.partition_by)
                if len(stats) != 1:
                    raise OutputPortMismatch(f"{table.name}: exported file {f.name} holds {len(stats)} partitions")
                (key, st), = stats.items()
                name = f"{table.name}/{RUNS}/{version}/{f.relative_to(tmp).as_posix()}"
                uploads.append((f, name))
                entry = per_key.setdefault(key, {"key": st["key"], "rows": 0, "checksum": 0, "files": []})
                entry["rows"] += st["rows"]
                entry["checksum"] += int(st["checksum"])
                entry["files"].append({"path": name[len(table.name) + 1:], "rows": st["rows"], "local": f})
            for key in plan.rewrite:
                got = per_key.get(key)
                want = wanted[key]
                if got is None or (got["rows"], str(got["checksum"])) != (want["rows"], want["checksum"]):
                    raise OutputPortMismatch(
                        f"{table.name}: the Parquet written for partition {key} does not read back as the warehouse "
                        f"rows ({got and got['rows']} rows, checksum {got and got['checksum']}; warehouse "
                        f"{want['rows']}, {want['checksum']})")
            infos = _upload(store, port.container, uploads)
            result["files_uploaded"] = len(uploads)
            result["bytes_uploaded"] = sum(i.size for i in infos.values())
            partitions = []
            for key, want in wanted.items():
                if key in plan.keep:
                    partitions.append(plan.keep[key])
                    continue
                entry = per_key[key]
                partitions.append({"key": want["key"], "rows": want["rows"], "checksum": want["checksum"],
                                   "files": [{"path": f["path"], "rows": f["rows"],
                                              **_info(infos[f"{table.name}/{f['path']}"])} for f in entry["files"]]})
            partitions.sort(key=lambda p: key_id(p["key"]))
            new = {
                "format": FORMAT, "table": table.name, "relation": ps.relation, "version": version,
                "previous": (manifest or {}).get("version"), "run_id": run_id, "logical_date": logical_date,
                "published_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                "audience": {"name": port.audience.name, "user_tags": sorted(port.audience.user_tags),
                             "clear": port.audience.clear},
                "treatments": ps.treatments(), "columns": schema, "partition_by": list(table.partition_by),
                "rows": result["rows"], "checksum": str(sum(int(p["checksum"]) for p in partitions)),
                "partitions": partitions,
            }
            body = (json.dumps(new, indent=1, sort_keys=True) + "\n").encode()
            store.put(port.container, f"{table.name}/{VERSIONS}/{version}.json", body)
            store.put(port.container, f"{table.name}/{POINTER}", body)     # the switch: written last
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        if manifest is None and not listing:
            result["status"] = "created"
        elif healed and len(healed) == len(plan.rewrite) and not plan.removed:
            result["status"] = "healed"      # the warehouse had not changed: the container had lost files
        else:
            result["status"] = "published"
        result["version"] = version
        log.info("output port %s: %s version %s: %d of %d partitions written (%s), %d removed",
                 port.name, table.name, version, len(plan.rewrite), len(wanted),
                 ", ".join(f"{n} {k}" for k, n in result["reasons"].items()) or "-", len(plan.removed))
    problems = verify_table(store, port, table.name, new, wanted, schema)
    if problems:
        raise OutputPortMismatch(f"output port {port.name}: {table.name} does not match the warehouse after "
                                 f"publishing: " + "; ".join(problems[:5]))
    result["pruned"] = prune_table(store, port.container, table.name, new)
    result["treatments"] = ps.treatments()
    return result


def _info(info) -> dict:
    return {"size": info.size, "etag": info.etag, "md5": info.md5}


def verify_table(store, port: Port, table: str, manifest: dict, wanted: dict[str, dict], schema: list,
                 content: bool = False, con=None) -> list[str]:
    """What differs between the warehouse (``wanted``), the manifest and the container (empty: nothing)."""
    problems = []
    have = {key_id(p["key"]): p for p in manifest.get("partitions", [])}
    if manifest.get("columns") != schema:
        problems.append("published columns differ from the warehouse's")
    for key in sorted(set(wanted) | set(have)):
        w, h = wanted.get(key), have.get(key)
        if h is None:
            problems.append(f"partition {key} is not published")
        elif w is None:
            problems.append(f"partition {key} is published but not in the warehouse")
        elif (w["rows"], w["checksum"]) != (h["rows"], h["checksum"]):
            problems.append(f"partition {key}: {h['rows']} rows published, {w['rows']} in the warehouse")
    listing = store.list_details(port.container, f"{table}/")
    for p in have.values():
        problems += file_problems(p["files"], table, listing)
    pointer = store.list(port.container, f"{table}/{POINTER}")
    if not pointer:
        problems.append(f"{table}/{POINTER} is missing")
    if content and not problems:
        problems += verify_content(store, port, table, manifest, con)
    return problems


def verify_content(store, port: Port, table: str, manifest: dict, con=None) -> list[str]:
    """Download every file of the manifest and check its rows and checksum (slow: reads everything)."""
    import duckdb

    own = con is None
    con = con or duckdb.connect()
    problems = []
    columns = [c for c, _ in manifest["columns"]]
    partition_by = tuple(manifest.get("partition_by") or ())
    with tempfile.TemporaryDirectory(prefix="fsdp-output-port-verify-") as tmp:
        for p in manifest["partitions"]:
            rows, checksum = 0, 0
            for i, f in enumerate(p["files"]):
                local = Path(tmp) / f"{i}.parquet"
                local.write_bytes(store.get(port.container, f"{table}/{f['path']}"))
                for st in _file_stats(con, local, columns, partition_by).values():
                    rows, checksum = rows + st["rows"], checksum + int(st["checksum"])
                local.unlink()
            if (rows, str(checksum)) != (p["rows"], p["checksum"]):
                problems.append(f"partition {key_id(p['key'])}: files hold {rows} rows (checksum {checksum}), "
                                f"the manifest says {p['rows']} ({p['checksum']})")
    if own:
        con.close()
    return problems


def prune_table(store, container: str, table: str, manifest: dict) -> int:
    """Delete the table's objects no reader can need: files referenced neither by the current
    version nor by the one before it (readers may still be on it), manifests beyond the newest
    KEEP_VERSIONS, and leftovers of interrupted publications or of the old layout."""
    keep = {f"{table}/{f['path']}" for p in manifest.get("partitions", []) for f in p["files"]}
    previous = read_manifest(store, container, table, f"{VERSIONS}/{manifest['previous']}.json") \
        if manifest.get("previous") else None
    if previous:
        keep |= {f"{table}/{f['path']}" for p in previous.get("partitions", []) for f in p["files"]}
    names = store.list(container, f"{table}/")
    versions = sorted(n for n in names if n.startswith(f"{table}/{VERSIONS}/"))
    keep |= set(versions[-KEEP_VERSIONS:]) | {f"{table}/{VERSIONS}/{manifest['version']}.json", f"{table}/{POINTER}"}
    doomed = [n for n in names if n not in keep]
    for name in doomed:
        store.delete(container, name)
    if doomed:
        log.info("output port: %s: removed %d objects no version references", table, len(doomed))
    return len(doomed)


# ---- every table, every port -----------------------------------------------------------------

def publish(db_path=None, run_id: str = "manual", logical_date: str | None = None, *, ports_=None,
            tables=None, manifest_path=None) -> dict:
    """Publish every exported product table to every configured port; returns a JSON-able summary.

    Opens the warehouse read-only (hold the DuckDB pool). Raises ``OutputPortMismatch`` when a
    port does not match the warehouse afterwards, ``StorageError`` when storage fails (retryable),
    ``ClearPIIRefused`` / ``PortConfigError`` when the configuration would publish clear PII."""
    from include.governance.publication import load_rules
    from include.output_port.ports import ports as configured_ports
    from include.pipeline import product, settings

    ports_ = configured_ports() if ports_ is None else ports_
    tables = product.exported_tables() if tables is None else tables
    rules = load_rules(manifest_path=manifest_path or settings.dbt_manifest_path())
    summary: dict = {"run_id": run_id, "logical_date": logical_date, "ports": {}}
    with product.connect(db_path) as con:
        for port in ports_:
            store = port.store()
            out = {"destination": port.describe(), "audience": sorted(port.audience.user_tags),
                   "clear": port.audience.clear, "tables": {}}
            for table in tables:
                out["tables"][table.name] = publish_table(con, port, store, table, run_id, logical_date or "", rules)
            write_index(store, port, out, run_id, logical_date)
            summary["ports"][port.name] = out
    return summary


def write_index(store, port: Port, out: dict, run_id: str, logical_date: str | None) -> None:
    """``_port.json`` at the container root: every table's current version and where its pointer is."""
    index = {"format": FORMAT, "run_id": run_id, "logical_date": logical_date,
             "published_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
             "audience": sorted(port.audience.user_tags), "clear": port.audience.clear,
             "tables": {name: {"version": r["version"], "rows": r["rows"], "pointer": f"{name}/{POINTER}"}
                        for name, r in out["tables"].items()}}
    store.put(port.container, "_port.json", (json.dumps(index, indent=1, sort_keys=True) + "\n").encode())


def status(db_path=None, *, content: bool = False, ports_=None, tables=None, manifest_path=None) -> dict:
    """Does every port match the warehouse? ``{port: {table: [problems]}}`` (read-only everywhere)."""
    from include.governance.publication import load_rules
    from include.output_port.ports import ports as configured_ports
    from include.pipeline import product, settings

    ports_ = configured_ports() if ports_ is None else ports_
    tables = product.exported_tables() if tables is None else tables
    manifest_doc, policy_set = load_rules(manifest_path=manifest_path or settings.dbt_manifest_path())
    out: dict = {}
    with product.connect(db_path) as con:
        for port in ports_:
            store = port.store()
            res = out.setdefault(port.name, {})
            for table in tables:
                ps = published_select(con, table.schema, table.name, port.audience, manifest=manifest_doc,
                                      policy_set=policy_set, exclude=EXCLUDED_COLUMNS)
                manifest = read_manifest(store, port.container, table.name)
                if manifest is None:
                    res[table.name] = {"version": None, "problems": ["never published (no pointer)"]}
                    continue
                problems = verify_table(store, port, table.name, manifest,
                                        warehouse_partitions(con, ps, table.partition_by),
                                        published_schema(con, ps), content=content)
                res[table.name] = {"version": manifest["version"], "rows": manifest["rows"], "problems": problems}
    return out
