"""dbt-duckdb plugin: SQL functions for blob storage that DuckDB 1.0 cannot do through fsspec.

Registered on every dbt connection (profiles.yml ``plugins``):

* ``fsdp_list_files(glob)`` -> text, one ``path<TAB>version`` line per file matching ``glob``.
  ``version`` is the blob's ETag (it changes whenever a file is rewritten in place, which the
  landing does when a date is re-landed) or ``size-mtime`` on a local directory. The raw models use
  it to read only files (or file versions) they have not ingested yet, and an empty listing lets
  them build an empty table instead of failing on "no files found".
* ``fsdp_prepare_output(url, clear)`` -> number of files removed under ``url`` (none unless
  ``clear``). DuckDB's
  ``COPY ... (OVERWRITE)`` fails on fsspec filesystems (DuckDB 1.0), so the output port clears its
  folder with this before a full rewrite. It also creates the container when it is missing:
  adlfs reports a write into a missing container only from a file object's ``__del__``, where
  the error is printed and swallowed, so DuckDB's COPY would "succeed" without writing anything.

Paths are ``abfs://container/path`` (blob storage through adlfs) or local paths.
"""
from __future__ import annotations

from typing import Any, Dict

import threading

import fsspec
from dbt.adapters.duckdb.plugins import BasePlugin


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

    def _filesystem(self, protocol: str):
        if protocol not in self._fs:
            if protocol == "abfs":
                self._fs[protocol] = fsspec.filesystem("abfs", connection_string=self._connection_string)
            else:
                self._fs[protocol] = fsspec.filesystem("file")
        return self._fs[protocol]

    def list_files(self, pattern: str) -> str:
        protocol, path = _split(pattern)
        fs = self._filesystem(protocol)
        fs.invalidate_cache()
        lines = []
        for name, info in sorted(fs.glob(path, detail=True).items()):
            if info.get("type") == "directory":
                continue
            version = info.get("etag") or f"{info.get('size')}-{info.get('mtime') or info.get('last_modified')}"
            url = f"abfs://{name}" if protocol == "abfs" else name
            lines.append(f"{url}\t{str(version).strip(chr(34))}")
        return "\n".join(lines)

    def prepare_output(self, url: str, clear: bool) -> int:
        protocol, path = _split(url)
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
            if not clear or not fs.exists(path):
                return 0
            files = list(fs.find(path))
            if files:
                fs.rm(files)
            fs.invalidate_cache()
            return len(files)

    def configure_connection(self, conn):
        conn.create_function("fsdp_list_files", self.list_files, ["VARCHAR"], "VARCHAR",
                             side_effects=True)
        conn.create_function("fsdp_prepare_output", self.prepare_output, ["VARCHAR", "BOOLEAN"], "BIGINT",
                             side_effects=True)
