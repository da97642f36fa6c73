"""Blob storage: one small interface over Azure Blob Storage (Azurite or real Azure) and a local
directory, so landing code, tests and benchmarks share one code path.

Every ``put`` is atomic for a reader: Azure commits a blob only when the whole upload is done
(``upload_blob`` stages blocks and commits the block list, or does one Put Blob), and the local
store writes a temporary file and renames it. A reader sees the old object or the new one, never
a partial one.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Protocol
from urllib.parse import urlparse

# Azurite's public development account (documented by Microsoft; not a secret). The local default
# when AZURE_STORAGE_CONNECTION_STRING is unset.
AZURITE_DEV_CONNECTION_STRING = (
    "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
    "AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;"
    "BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;"
)


class StorageError(RuntimeError):
    """A storage failure worth one clear line to the user (no traceback needed)."""


class StorageUnavailable(StorageError):
    """The endpoint did not answer after every retry."""


class BlobStore(Protocol):
    def put(self, container: str, path: str, data: bytes, *, overwrite: bool = True) -> bool:
        """Write ``data`` atomically; with overwrite=False an existing object is kept and False returned."""

    def get(self, container: str, path: str) -> bytes: ...

    def list(self, container: str, prefix: str = "") -> list[str]:
        """Object paths under ``prefix``, sorted; [] when the container does not exist."""

    def delete(self, container: str, path: str) -> None: ...

    def describe(self) -> str: ...


class LocalStore:
    """A directory standing in for a storage account: ``root/<container>/<path>``."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _file(self, container: str, path: str) -> Path:
        return self.root / container / path

    def put(self, container: str, path: str, data: bytes, *, overwrite: bool = True) -> bool:
        dest = self._file(container, path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        if overwrite:
            os.replace(tmp, dest)
            return True
        try:
            os.link(tmp, dest)  # atomic create-if-absent
            return True
        except FileExistsError:
            return False
        finally:
            tmp.unlink(missing_ok=True)

    def get(self, container: str, path: str) -> bytes:
        try:
            return self._file(container, path).read_bytes()
        except FileNotFoundError:
            raise StorageError(f"{self.describe()}: {container}/{path} does not exist") from None

    def list(self, container: str, prefix: str = "") -> list[str]:
        base = self.root / container
        if not base.is_dir():
            return []
        found = (p.relative_to(base).as_posix() for p in base.rglob("*") if p.is_file())
        return sorted(p for p in found if p.startswith(prefix) and not Path(p).name.startswith("."))

    def delete(self, container: str, path: str) -> None:
        self._file(container, path).unlink(missing_ok=True)

    def describe(self) -> str:
        return f"local directory {self.root}"


class AzureBlobStore:
    """Azure Blob Storage through azure-storage-blob, with retries and backoff on transient errors.

    The SDK's ExponentialRetry covers connection errors, timeouts, 408/429/5xx: the waits are
    ``backoff`` * 3**n seconds (plus jitter) for ``retries`` attempts. When they are exhausted the
    caller gets one StorageUnavailable naming the endpoint, not the SDK's stack of exceptions.
    """

    def __init__(self, connection_string: str, *, retries: int | None = None, backoff: float | None = None):
        from azure.storage.blob import BlobServiceClient, ExponentialRetry

        self.retries = int(os.environ.get("FSDP_BLOB_RETRIES", "6")) if retries is None else retries
        backoff = float(os.environ.get("FSDP_BLOB_BACKOFF", "1")) if backoff is None else backoff
        policy = ExponentialRetry(initial_backoff=backoff, increment_base=3, retry_total=self.retries,
                                  random_jitter_range=min(backoff, 3))
        self.client = BlobServiceClient.from_connection_string(
            connection_string, retry_policy=policy, connection_timeout=10, read_timeout=120,
        )
        self._containers: set[str] = set()

    def describe(self) -> str:
        return f"blob storage at {self.client.url.rstrip('/')}"

    def _call(self, what: str, fn, *args, **kwargs):
        from azure.core.exceptions import AzureError, ServiceRequestError, ServiceResponseError

        started = time.monotonic()
        try:
            return fn(*args, **kwargs)
        except (ServiceRequestError, ServiceResponseError) as exc:
            reason = str(exc).splitlines()[0][:160]
            raise StorageUnavailable(
                f"{self.describe()} is unreachable: {what} failed after {self.retries + 1} attempts "
                f"over {time.monotonic() - started:.0f}s ({reason})"
            ) from None
        except AzureError as exc:
            if type(exc).__name__ in ("ResourceExistsError", "ResourceNotFoundError"):
                raise
            reason = getattr(exc, "message", None) or str(exc)
            raise StorageError(f"{self.describe()}: {what} failed: {reason.splitlines()[0][:200]}") from None

    def _container(self, name: str):
        from azure.core.exceptions import ResourceExistsError

        container = self.client.get_container_client(name)
        if name not in self._containers:
            try:
                self._call(f"create container {name}", container.create_container)
            except ResourceExistsError:
                pass
            self._containers.add(name)
        return container

    def put(self, container: str, path: str, data: bytes, *, overwrite: bool = True) -> bool:
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import ContentSettings

        blob = self._container(container).get_blob_client(path)
        content_type = "text/csv" if path.endswith(".csv") else "application/octet-stream"
        try:
            self._call(f"upload {container}/{path}", blob.upload_blob, data, overwrite=overwrite,
                       max_concurrency=2, content_settings=ContentSettings(content_type=content_type))
            return True
        except ResourceExistsError:
            return False

    def get(self, container: str, path: str) -> bytes:
        from azure.core.exceptions import ResourceNotFoundError

        blob = self.client.get_blob_client(container, path)
        try:
            return self._call(f"download {container}/{path}", lambda: blob.download_blob(max_concurrency=2).readall())
        except ResourceNotFoundError:
            raise StorageError(f"{self.describe()}: {container}/{path} does not exist") from None

    def list(self, container: str, prefix: str = "") -> list[str]:
        from azure.core.exceptions import ResourceNotFoundError

        client = self.client.get_container_client(container)
        try:
            return sorted(self._call(f"list {container}/{prefix}",
                                     lambda: [b.name for b in client.list_blobs(name_starts_with=prefix)]))
        except ResourceNotFoundError:
            return []

    def delete(self, container: str, path: str) -> None:
        from azure.core.exceptions import ResourceNotFoundError

        try:
            self._call(f"delete {container}/{path}", self.client.get_blob_client(container, path).delete_blob)
        except ResourceNotFoundError:
            pass


def open_store(target: str | None = None) -> BlobStore:
    """The store for ``target``: a directory (``/path`` or ``file:///path``) or, when None, the
    storage account of AZURE_STORAGE_CONNECTION_STRING (Azurite's dev account when unset)."""
    if target:
        if target.startswith("file://"):
            return LocalStore(urlparse(target).path)
        if "://" in target or "=" in target:
            return AzureBlobStore(target)  # an explicit connection string
        return LocalStore(target)
    return AzureBlobStore(os.environ.get("AZURE_STORAGE_CONNECTION_STRING") or AZURITE_DEV_CONNECTION_STRING)
