"""How Superset reads the serving copy (include/serving): which file, with which DuckDB settings,
and a result cache that never answers from an older copy.

The database's URI in the dashboards-as-code tree names no file but ``SERVING_COPY_URI``. Superset
creates a SQLAlchemy engine per query (NullPool) and passes every one through
``DB_CONNECTION_MUTATOR`` (superset_config.py) = ``connection_mutator``: it replaces the
placeholder with the path of the copy ``current.json`` names at that moment. A published copy is
never modified and the pointer is switched atomically, so a query reads one whole copy, and the
first query after a publication reads the new one, without a restart. Queries already running
keep their file open (a pruned copy stays readable while open, POSIX).

Every DuckDB connection, to the serving copy or any other DuckDB file an admin might add, is
read-only with ``enable_external_access = false`` and the configuration locked: SQL cannot
``attach`` another file (the serving copy's clear-PII file ``pii.duckdb`` included), read CSV,
Parquet or text files, install extensions or change a setting.
"""
from __future__ import annotations

import json
import os
import threading
from pathlib import Path

SERVING_COPY_DB = "fsdp-serving-copy"          # the placeholder "file" of the database URI
SERVING_COPY_URI = f"duckdb:///{SERVING_COPY_DB}"
# the governance dashboard's database: the data API's audit trail folded into DuckDB
# (include.api.audit_table), <FSDP_API_AUDIT_DIR>/audit.duckdb, replaced atomically at every fold
API_AUDIT_DB = "fsdp-api-audit"
API_AUDIT_URI = f"duckdb:///{API_AUDIT_DB}"
ROOT = Path(__file__).resolve().parents[2]

DUCKDB_CONFIG = {"enable_external_access": False, "lock_configuration": True}


class NoServingCopy(RuntimeError):
    """Nothing was published yet (or the pointer names a missing copy)."""


def serving_dir() -> Path:
    value = os.environ.get("FSDP_SERVING_DIR")
    return Path(value).expanduser().resolve() if value else ROOT / ".local" / "serving"


_lock = threading.Lock()
_cached: dict[str, object] = {"stamp": None, "copy": None}


def current_copy() -> dict:
    """{"path", "copy_id", "run_id", "logical_date", ...} of the current serving copy.

    Reads ``current.json`` (include.serving's pointer) again whenever it changed: one ``stat`` per
    call otherwise. The pointer format is include.serving's; this module reads only its JSON, so
    Superset's venv does not import the pipeline's packages.
    """
    pointer = serving_dir() / "current.json"
    try:
        st = pointer.stat()
    except FileNotFoundError:
        raise NoServingCopy(f"no serving copy has been published in {pointer.parent} yet: run the "
                            "pipeline (scripts/run.sh) first") from None
    stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
    with _lock:
        if _cached["stamp"] != stamp:
            body = json.loads(pointer.read_text())
            directory = pointer.parent / body["directory"]
            copy = {**body, "path": str(directory / "serving.duckdb"), "copy_id": directory.name}
            if not Path(copy["path"]).exists():
                raise NoServingCopy(f"the serving pointer {pointer} names a missing copy {copy['path']}")
            _cached.update(stamp=stamp, copy=copy)
        return dict(_cached["copy"])  # type: ignore[arg-type]


def audit_table() -> Path:
    """The data API's audit database (include.api.audit_table writes it; same FSDP_API_AUDIT_DIR)."""
    value = os.environ.get("FSDP_API_AUDIT_DIR")
    folder = Path(value).expanduser().resolve() if value else ROOT / ".local" / "api" / "audit"
    path = folder / "audit.duckdb"
    if not path.exists():
        raise NoServingCopy(f"the API's audit trail has not been folded into {path} yet: "
                            "python -m include.api audit-table (the data API does it every 5 minutes)")
    return path


def connection_mutator(url, params: dict, username, security_manager, source):
    """Superset's DB_CONNECTION_MUTATOR: the current copy (or the audit database) for the
    placeholder, read-only DuckDB settings."""
    if url.get_backend_name() != "duckdb":
        return url, params
    if url.database == SERVING_COPY_DB:
        url = url.set(database=current_copy()["path"])
    elif url.database == API_AUDIT_DB:
        url = url.set(database=str(audit_table()))
    query = {k: v for k, v in url.query.items() if k != "access_mode"}
    url = url.set(query=query)
    connect_args = params.setdefault("connect_args", {})
    connect_args["read_only"] = True
    config = connect_args.setdefault("config", {})
    # one configuration for every connection of the process: DuckDB refuses a second connection to
    # a file open with other settings, and Superset's user agent differs per query source
    config.pop("custom_user_agent", None)
    config.update(DUCKDB_CONFIG)
    return url, params


def copy_keyed_cache(app, config, args, kwargs):
    """flask-caching factory (DATA_CACHE_CONFIG CACHE_TYPE): a file cache whose keys carry the
    current serving copy's id, so results cached from one copy are never served for another."""
    from flask_caching.backends.filesystemcache import FileSystemCache

    class CopyKeyedFileSystemCache(FileSystemCache):
        def _get_filename(self, key: str) -> str:
            if key == self._fs_count_file:     # the cache's own bookkeeping file
                return super()._get_filename(key)
            try:
                copy_id = current_copy()["copy_id"]
            except NoServingCopy:
                copy_id = "-"
            return super()._get_filename(f"{copy_id}|{key}")

    return CopyKeyedFileSystemCache(config["CACHE_DIR"], threshold=config.get("CACHE_THRESHOLD", 500),
                                    default_timeout=config.get("CACHE_DEFAULT_TIMEOUT", 300),
                                    ignore_errors=config.get("CACHE_IGNORE_ERRORS", False))
