"""dbt-duckdb plugin: SQL functions for blob storage that DuckDB could not do through fsspec (1.0).

Registered on every dbt connection (profiles.yml ``plugins``):

* ``fsdp_landing_listing(root, contracts)`` -> JSON: every blob of the landing container (file URL,
  path, version, size, and entity, dt folder, logical date and kind from its path). ``version`` is the blob's ETag (it changes whenever a file is rewritten in place,
  which the landing does when a date is re-landed) or ``size-mtime_ns`` on a local directory.
* ``fsdp_inspect_landing(root, requests, contracts, paths)`` -> JSON: the landing ledger's
  registration of each requested file (include/ledger: header, UTF-8, CSV structure, manifest), and
  a local spool Parquet of the rows of every accepted part.
* ``fsdp_spool_path(root, file, version, sha256, contracts)`` -> the spool Parquet of an accepted
  file version (re-created from storage when missing); ``fsdp_spool_release(files)`` deletes spools.
  The raw models read the landed rows from the spool files, never the CSV text again, so a row in the
  warehouse is exactly a row of the bytes the ledger checked.
* ``fsdp_latest_modified(glob)`` -> timestamp (UTC) of the newest file matching ``glob``, or NULL
  when none does: when the source last landed, the ``loaded_at_query`` of dbt source freshness
  (one listing, no file read).
* ``fsdp_temp_dir()`` -> a new local temporary folder, where DuckDB writes the output port's
  Parquet files with its native (fast, multi-file) COPY.
* ``fsdp_publish_tree(local_dir, url, clear)`` -> number of files uploaded: uploads every file of
  ``local_dir`` under ``url`` (keeping the relative paths, e.g. ``country=India/state=Goa/``),
  concurrently through adlfs, after removing the files under ``url`` when ``clear``; checks that
  every uploaded blob has the local file's size, then deletes ``local_dir``. Why not COPY straight
  to ``abfs://``: DuckDB 1.0 writes through fsspec one file at a time (a partitioned export of 100k
  customers took ~6 s against ~1 s here), ``COPY ... (OVERWRITE)`` fails on fsspec filesystems, and
  adlfs reports a failed upload (e.g. a missing container) only from a file object's ``__del__``,
  where the error is printed and swallowed, so the COPY would "succeed" without writing anything.

Spool files live in ``FSDP_LANDING_SPOOL_DIR`` (default: ``landing_spool/`` next to the DuckDB file).

It also creates the folder of the DuckDB file before dbt opens it (the default,
``.local/warehouse/fsdp.duckdb``, lives in a git-ignored folder a fresh clone does not have).

Paths are ``abfs://container/path`` (blob storage through adlfs) or local paths.
"""
from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Dict

import fsspec
from dbt.adapters.duckdb.plugins import BasePlugin

from include.ledger.reader import LandingReader


def _split(url: str):
    if url.startswith("abfs://"):
        return "abfs", url[len("abfs://"):]
    if url.startswith("file://"):
        return "file", url[len("file://"):]
    return "file", url


class Plugin(BasePlugin):
    def initialize(self, plugin_config: Dict[str, Any]):
        self._connection_string = plugin_config.get("connection_string")
        self._fs: dict[str, Any] = {}
        self._lock = threading.Lock()  # dbt runs models (and their hooks) on several threads
        self._reader: LandingReader | None = None
        self._db_dir = tempfile.gettempdir()

    def update_connection_config(self, creds, config):
        path = getattr(creds, "path", None)
        if path and path != ":memory:" and "://" not in path and not path.startswith("md:"):
            self._db_dir = os.path.dirname(os.path.abspath(path))
            os.makedirs(self._db_dir, exist_ok=True)

    def reader(self) -> LandingReader:
        if self._reader is None:
            spool = os.environ.get("FSDP_LANDING_SPOOL_DIR") or os.path.join(self._db_dir, "landing_spool")
            self._reader = LandingReader(self._connection_string, spool)
        return self._reader

    def landing_listing(self, root: str, contracts: str) -> str:
        return json.dumps(self.reader().list(root, json.loads(contracts)))

    def inspect_landing(self, root: str, requests: str, contracts: str, paths: str) -> str:
        return json.dumps(self.reader().inspect(root, json.loads(requests or "[]"), json.loads(contracts),
                                                json.loads(paths or "[]")))

    def spool_path(self, root: str, file: str, version: str, sha256: str, contracts: str) -> str:
        return self.reader().spool(root, file, version, sha256, json.loads(contracts))

    def spool_release(self, files: str) -> int:
        return self.reader().release(json.loads(files or "[]"))

    def _filesystem(self, protocol: str):
        if protocol not in self._fs:
            if protocol == "abfs":
                self._fs[protocol] = fsspec.filesystem("abfs", connection_string=self._connection_string)
            else:
                self._fs[protocol] = fsspec.filesystem("file")
        return self._fs[protocol]

    def latest_modified(self, pattern: str):
        protocol, path = _split(pattern)
        fs = self._filesystem(protocol)
        fs.invalidate_cache()
        stamps = []
        for info in fs.glob(path, detail=True).values():
            if info.get("type") == "directory":
                continue
            stamp = info.get("last_modified") or info.get("mtime")
            if isinstance(stamp, (int, float)):
                stamp = datetime.fromtimestamp(stamp, tz=timezone.utc)
            if stamp is not None:
                stamps.append(stamp if stamp.tzinfo else stamp.replace(tzinfo=timezone.utc))
        return max(stamps).astimezone(timezone.utc).replace(tzinfo=None) if stamps else None

    def temp_dir(self) -> str:
        return tempfile.mkdtemp(prefix="fsdp_export_")

    def publish_tree(self, local_dir: str, url: str, clear: bool) -> int:
        protocol, path = _split(url)
        local = Path(local_dir)
        files = sorted(p for p in local.rglob("*") if p.is_file())
        with self._lock:
            fs = self._filesystem(protocol)
            fs.invalidate_cache()
            if protocol == "abfs":
                container = path.split("/", 1)[0]
                if not fs.exists(container):
                    try:
                        fs.mkdir(container)
                    except FileExistsError:  # created meanwhile by another process
                        pass
            if clear and fs.exists(path):
                old = list(fs.find(path))
                if old:
                    fs.rm(old)
            if files:
                targets = [f"{path}/{p.relative_to(local).as_posix()}" for p in files]
                if protocol == "file":
                    for target in {str(Path(t).parent) for t in targets}:
                        os.makedirs(target, exist_ok=True)
                fs.put([str(p) for p in files], targets)
                fs.invalidate_cache()
                sizes = {name.rstrip("/"): info.get("size") for name, info in fs.find(path, detail=True).items()}
                for source, target in zip(files, targets):
                    if sizes.get(fs._strip_protocol(target)) != source.stat().st_size:
                        raise RuntimeError(f"upload of {source} to {target} did not complete "
                                           f"({sizes.get(fs._strip_protocol(target))} of {source.stat().st_size} bytes)")
        shutil.rmtree(local, ignore_errors=True)
        return len(files)

    def configure_connection(self, conn):
        conn.create_function("fsdp_landing_listing", self.landing_listing, ["VARCHAR"] * 2, "VARCHAR",
                             side_effects=True)
        conn.create_function("fsdp_inspect_landing", self.inspect_landing, ["VARCHAR"] * 4, "VARCHAR",
                             side_effects=True)
        conn.create_function("fsdp_spool_path", self.spool_path, ["VARCHAR"] * 5, "VARCHAR", side_effects=True)
        conn.create_function("fsdp_spool_release", self.spool_release, ["VARCHAR"], "BIGINT", side_effects=True)
        conn.create_function("fsdp_latest_modified", self.latest_modified, ["VARCHAR"], "TIMESTAMP",
                             side_effects=True, null_handling="special")
        conn.create_function("fsdp_temp_dir", self.temp_dir, [], "VARCHAR", side_effects=True)
        conn.create_function("fsdp_publish_tree", self.publish_tree, ["VARCHAR", "VARCHAR", "BOOLEAN"], "BIGINT",
                             side_effects=True)
