"""The landing container as the ledger sees it: list every blob, fetch a blob with the version
(ETag) of the bytes actually read, inspect a batch of files, keep and re-create their spool files.

The dbt-duckdb plugin (dbt_project/plugins/fsdp_blob.py) exposes these as SQL functions to the
landing models; everything that talks to storage for the ledger is here. URLs are
``abfs://<container>/<path>`` (Azure Blob / Azurite) or a local directory path (benchmarks).
"""
from __future__ import annotations

import hashlib
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from include.ledger.inspect import Inspection, Manifest, inspect_file, parse_manifest, spool_name
from include.ledger.paths import LandingPath, classify, is_temporary

log = logging.getLogger(__name__)


def split_root(root: str) -> tuple[str, str]:
    """("abfs", container) or ("file", directory) for a landing root URL."""
    if root.startswith("abfs://"):
        return "abfs", root[len("abfs://"):].strip("/")
    if root.startswith("file://"):
        return "file", root[len("file://"):].rstrip("/")
    return "file", root.rstrip("/")


class LandingChanged(RuntimeError):
    """A registered file's bytes changed after it was registered (re-run: it is a new version)."""


class LandingReader:
    def __init__(self, connection_string: str | None, spool_dir: str | os.PathLike, workers: int | None = None):
        self.connection_string = connection_string
        self.spool_dir = Path(spool_dir)
        self.workers = workers or int(os.environ.get("FSDP_LEDGER_WORKERS", "2"))
        self._service = None

    # ---------------------------------------------------------------------------- storage
    def _client(self):
        if self._service is None:
            from azure.storage.blob import BlobServiceClient, ExponentialRetry

            retries = int(os.environ.get("FSDP_BLOB_RETRIES", "6"))
            self._service = BlobServiceClient.from_connection_string(
                self.connection_string, connection_timeout=10, read_timeout=120,
                retry_policy=ExponentialRetry(initial_backoff=1, increment_base=3, retry_total=retries))
        return self._service

    def url(self, root: str, path: str) -> str:
        kind, base = split_root(root)
        return f"abfs://{base}/{path}" if kind == "abfs" else f"{base}/{path}"

    def list(self, root: str, contracts: dict | None = None) -> list[dict]:
        """Every blob under ``root``: file (URL), path (relative), version, size, and the path's
        classification against ``contracts`` (entity, folder, landed_date, kind, manifest_path);
        sorted by path. Names with a dot-folder or dot-file part are uploads in progress and left out."""
        kind, base = split_root(root)
        out = []
        if kind == "abfs":
            from azure.core.exceptions import ResourceNotFoundError

            container = self._client().get_container_client(base)
            try:
                for blob in container.list_blobs():
                    out.append({"path": blob.name, "version": str(blob.etag).strip('"'), "size": blob.size})
            except ResourceNotFoundError:
                return []
        else:
            top = Path(base)
            if not top.is_dir():
                return []
            for path in top.rglob("*"):
                if path.is_file():
                    stat = path.stat()
                    out.append({"path": path.relative_to(top).as_posix(),
                                "version": f"{stat.st_size}-{stat.st_mtime_ns}", "size": stat.st_size})
        rows = []
        for r in out:
            if is_temporary(r["path"]):
                continue
            lp = classify(r["path"], contracts or {})
            rows.append(dict(r, file=self.url(root, r["path"]), entity=lp.entity, folder=lp.folder,
                             landed_date=lp.landed_date.isoformat() if lp.landed_date else None, kind=lp.kind,
                             manifest_path=lp.manifest_path))
        return sorted(rows, key=lambda r: r["path"])

    def fetch(self, root: str, path: str) -> tuple[bytes, str]:
        """The blob's bytes and the version (ETag) of exactly those bytes."""
        kind, base = split_root(root)
        if kind == "abfs":
            stream = self._client().get_blob_client(base, path).download_blob(max_concurrency=2)
            data = stream.readall()
            return data, str(stream.properties.etag).strip('"')
        file = Path(base) / path
        data = file.read_bytes()
        stat = file.stat()
        return data, f"{stat.st_size}-{stat.st_mtime_ns}"

    # ------------------------------------------------------------------------- inspection
    def inspect(self, root: str, requests: list[dict], contracts: dict[str, list[str]],
                paths: list[str]) -> list[dict]:
        """Inspect each requested blob ({path, version}); ``paths`` is every path of the container
        (to check that a manifest's parts exist). Returns one ledger registration per request."""
        folders: dict[str, list[str]] = {}
        for path in paths:
            folders.setdefault(path.rsplit("/", 1)[0], []).append(path)
        manifests: dict[str, Manifest | None] = {}
        wanted = sorted({classify(r["path"], contracts).manifest_path for r in requests} - {None})
        for path in wanted:
            folder = path.rsplit("/", 1)[0]
            if path not in folders.get(folder, ()):
                manifests[path] = None
                continue
            data, version = self.fetch(root, path)
            manifests[path] = parse_manifest(path, version, data)

        def one(request: dict) -> dict:
            lp: LandingPath = classify(request["path"], contracts)
            data, version = self.fetch(root, request["path"])
            folder = lp.path.rsplit("/", 1)[0]
            ins: Inspection = inspect_file(lp, self.url(root, lp.path), version, data, contracts,
                                           manifests.get(lp.manifest_path) if lp.manifest_path else None,
                                           self.spool_dir, set(folders.get(folder, ())))
            log.info("landing ledger: %s %s %s", lp.path, ins.outcome, ins.reason or "")
            return ins.as_dict()

        if not requests:
            return []
        with ThreadPoolExecutor(max_workers=max(1, min(self.workers, len(requests)))) as pool:
            return list(pool.map(one, requests))

    def spool(self, root: str, file: str, version: str, sha256: str, contracts: dict[str, list[str]]) -> str:
        """The local spool Parquet of an accepted file version, re-created from storage when it is
        missing (another machine, a cleaned temp folder); raises LandingChanged when the blob's bytes
        are no longer the registered ones."""
        target = self.spool_dir / spool_name(file, version)
        if target.exists():
            return str(target)
        kind, base = split_root(root)
        prefix = f"abfs://{base}/" if kind == "abfs" else f"{base}/"
        if not file.startswith(prefix):
            raise LandingChanged(f"{file} is not under the landing root {root}")
        path = file[len(prefix):]
        lp = classify(path, contracts)
        data, current = self.fetch(root, path)
        if hashlib.sha256(data).hexdigest() != sha256:
            raise LandingChanged(f"{file} changed after it was registered (version {version}, now {current}): "
                                 f"run again to register the new version")
        # the registered version keeps naming the rows, whatever ETag the same bytes carry now; the
        # manifest was checked when the file was registered
        ins = inspect_file(lp, file, version, data, contracts, None, self.spool_dir, check_manifest=False)
        if ins.spool is None:
            raise LandingChanged(f"{file} no longer passes its inspection: {ins.reason}: {ins.detail}")
        return ins.spool

    def release(self, files: list[dict]) -> int:
        """Delete the spool files of ``files`` ({file, version}); returns how many were removed."""
        removed = 0
        for f in files:
            target = self.spool_dir / spool_name(f["file"], f["version"])
            if target.exists():
                target.unlink()
                removed += 1
        return removed
