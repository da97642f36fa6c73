"""dbt-duckdb plugin: blob storage for the dbt project.

Registered on every dbt connection (profiles.yml ``plugins``):

* the ``abfs`` fsspec filesystem (adlfs) DuckDB reads the landing container through
  (``read_csv('abfs://landing/...')``): connected to the one storage endpoint every client of the
  project uses (``include.blob_storage.connection_string()``: AZURE_STORAGE_CONNECTION_STRING, or
  Azurite's development account on AZURITE_BLOB_HOST:AZURITE_BLOB_PORT), with the storage SDK's
  retry policy replaced by one that logs every retry and records it as a run event (so an outage
  absorbed by retries inside a dbt model shows in the task log and in the run report);
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

Spool files live in ``FSDP_LANDING_SPOOL_DIR`` (default: ``landing_spool/`` next to the DuckDB file).

It also creates the folder of the DuckDB file before dbt opens it (the default,
``.local/warehouse/fsdp.duckdb``, lives in a git-ignored folder a fresh clone does not have).

The output port is not written from dbt: it is a task of its own after the quality gate
(include/output_port).
"""
from __future__ import annotations

import json
import os
from datetime import datetime, timezone
import tempfile
import threading
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


def logging_abfs(connection_string: str):
    """An adlfs filesystem whose aio blob client retries like include/blob_storage.py, logging each retry."""
    from adlfs import AzureBlobFileSystem
    from azure.storage.blob.aio import BlobServiceClient

    from include.blob_storage import logging_retry_policy

    retries = int(os.environ.get("FSDP_BLOB_RETRIES", "6"))
    backoff = float(os.environ.get("FSDP_BLOB_BACKOFF", "1"))

    class LoggingAzureBlobFileSystem(AzureBlobFileSystem):
        def do_connect(self):
            self.service_client = BlobServiceClient.from_connection_string(
                conn_str=self.connection_string,
                retry_policy=logging_retry_policy(retries, backoff, asynchronous=True))

    # skip_instance_cache: a fresh client per dbt connection (fsspec caches by arguments, and a
    # cached instance would keep an event loop of an earlier dbt invocation in the same process)
    return LoggingAzureBlobFileSystem(connection_string=connection_string, skip_instance_cache=True)


class Plugin(BasePlugin):
    def initialize(self, plugin_config: Dict[str, Any]):
        from include.blob_storage import connection_string

        # an explicit profile setting wins; otherwise the project's one storage setting
        self._connection_string = (plugin_config.get("connection_string") or "").strip() or connection_string()
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
                self._fs[protocol] = logging_abfs(self._connection_string)
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

    def configure_connection(self, conn):
        conn.register_filesystem(self._filesystem("abfs"))
        conn.create_function("fsdp_landing_listing", self.landing_listing, ["VARCHAR"] * 2, "VARCHAR",
                             side_effects=True)
        conn.create_function("fsdp_inspect_landing", self.inspect_landing, ["VARCHAR"] * 4, "VARCHAR",
                             side_effects=True)
        conn.create_function("fsdp_spool_path", self.spool_path, ["VARCHAR"] * 5, "VARCHAR", side_effects=True)
        conn.create_function("fsdp_spool_release", self.spool_release, ["VARCHAR"], "BIGINT", side_effects=True)
        conn.create_function("fsdp_latest_modified", self.latest_modified, ["VARCHAR"], "TIMESTAMP",
                             side_effects=True, null_handling="special")
