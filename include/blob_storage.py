"""Blob storage: one small interface over Azure Blob Storage (Azurite or real Azure) and a local
directory, so landing code, tests and benchmarks share one code path.

Every ``put`` is atomic for a reader: Azure commits a blob only when the whole upload is done
(``upload_blob`` stages blocks and commits the block list, or does one Put Blob), and the local
store writes a temporary file and renames it. A reader sees the old object or the new one, never
a partial one.
"""
from __future__ import annotations

import hashlib
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

# Azurite's public development account (documented by Microsoft; not a secret).
AZURITE_DEV_ACCOUNT_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def azurite_connection_string(host: str = "127.0.0.1", port: int | str = 10000) -> str:
    """The connection string of Azurite's development account on ``host:port``."""
    return (f"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey={AZURITE_DEV_ACCOUNT_KEY};"
            f"BlobEndpoint=http://{host}:{port}/devstoreaccount1;")


AZURITE_DEV_CONNECTION_STRING = azurite_connection_string()


def connection_string(environ=None) -> str:
    """The storage endpoint every client uses (Python here, dbt through profiles.yml, the scripts
    through scripts/lib.sh, which exports the same value): AZURE_STORAGE_CONNECTION_STRING when set,
    else Azurite's development account on AZURITE_BLOB_HOST:AZURITE_BLOB_PORT (127.0.0.1:10000 when
    those are unset too). One setting moves every client: set the port, or set the string."""
    env = os.environ if environ is None else environ
    explicit = (env.get("AZURE_STORAGE_CONNECTION_STRING") or "").strip()
    if explicit:
        return explicit
    return azurite_connection_string(env.get("AZURITE_BLOB_HOST") or "127.0.0.1", env.get("AZURITE_BLOB_PORT") or 10000)


def azurite_address(conn_str: str) -> tuple[str, int] | None:
    """(host, port) of an Azurite development-account connection string, None for anything else."""
    parts = dict(p.split("=", 1) for p in conn_str.split(";") if "=" in p)
    if parts.get("UseDevelopmentStorage", "").lower() == "true":
        return "127.0.0.1", 10000
    if parts.get("AccountName") != "devstoreaccount1" or not parts.get("BlobEndpoint"):
        return None
    netloc = urlparse(parts["BlobEndpoint"]).netloc
    host, _, port = netloc.rpartition(":")
    return (host, int(port)) if host and port.isdigit() else (netloc, 80)


def storage_exports(environ=None) -> dict[str, str]:
    """The storage settings scripts/lib.sh exports to every process it starts (one endpoint for
    all): the connection string, and Azurite's host and port when it is a development account.
    Raises StorageError when the connection string and AZURITE_BLOB_PORT disagree."""
    env = os.environ if environ is None else environ
    conn = connection_string(env)
    out = {"AZURE_STORAGE_CONNECTION_STRING": conn}
    address = azurite_address(conn)
    if address:
        port = (env.get("AZURITE_BLOB_PORT") or "").strip()
        if env.get("AZURE_STORAGE_CONNECTION_STRING") and port and int(port) != address[1]:
            raise StorageError(f"AZURE_STORAGE_CONNECTION_STRING points at Azurite port {address[1]} but "
                               f"AZURITE_BLOB_PORT is {port}: set only one of them (or make them agree)")
        out["AZURITE_BLOB_HOST"], out["AZURITE_BLOB_PORT"] = address[0], str(address[1])
    return out


def endpoint_of(conn_str: str) -> str:
    """The blob endpoint a connection string names (for messages; never the key)."""
    parts = dict(p.split("=", 1) for p in conn_str.split(";") if "=" in p)
    if parts.get("BlobEndpoint"):
        return parts["BlobEndpoint"].rstrip("/")
    if parts.get("UseDevelopmentStorage", "").lower() == "true":
        return "http://127.0.0.1:10000/devstoreaccount1"
    return f"{parts.get('DefaultEndpointsProtocol', 'https')}://{parts.get('AccountName', '?')}.blob." \
           f"{parts.get('EndpointSuffix', 'core.windows.net')}"


@dataclass(frozen=True)
class BlobInfo:
    """What a listing says about one object: enough to tell whether it is still the one written."""

    size: int
    etag: str
    md5: str | None = None      # hex; None when the store does not keep one


def _retry_reason(settings: dict) -> str:
    history = settings.get("history") or []
    if not history:
        return "?"
    last = history[-1]
    if getattr(last, "error", None) is not None:
        return f"{type(last.error).__name__}: {str(last.error).splitlines()[0][:120]}"
    response = getattr(last, "http_response", None)
    return f"HTTP {getattr(response, 'status_code', '?')}"


def _retry_what(settings: dict) -> str:
    history = settings.get("history") or []
    request = getattr(history[-1], "http_request", None) if history else None
    if request is None:
        return "blob request"
    path = unquote(urlparse(request.url).path)
    # /devstoreaccount1/<container>/<blob> on Azurite, /<container>/<blob> on Azure
    path = path.split("/devstoreaccount1", 1)[-1]
    return f"{request.method} {path.lstrip('/') or '/'}"


def logging_retry_policy(retries: int, backoff: float, *, asynchronous: bool = False):
    """The storage SDK's exponential retry (waits ``backoff`` + 3**n s plus jitter, at most
    FSDP_BLOB_MAX_BACKOFF (30) s; connection errors, timeouts, 408/429/5xx) that logs one line per
    retry and records it as a run event (include/pipeline/events.py). ``asynchronous`` gives the
    variant for the aio clients adlfs uses."""
    from include.pipeline import events

    if asynchronous:
        from azure.storage.blob.aio import ExponentialRetry as Base
    else:
        from azure.storage.blob import ExponentialRetry as Base

    # the SDK's waits grow as backoff + 3**n (4, 10, 28, 82, 244 s with backoff 1): capped, so
    # storage that is back is used within FSDP_BLOB_MAX_BACKOFF seconds, not minutes later
    cap = float(os.environ.get("FSDP_BLOB_MAX_BACKOFF", "30"))

    def announce(policy, settings) -> float:
        wait = min(policy.get_backoff_time(settings), cap)
        events.retry("storage", _retry_what(settings), settings["count"], retries + 1, wait, _retry_reason(settings))
        return wait

    if asynchronous:
        class Policy(Base):
            async def sleep(self, settings, transport):
                wait = announce(self, settings)
                if wait and wait > 0:
                    await transport.sleep(wait)
    else:
        class Policy(Base):
            def sleep(self, settings, transport):
                wait = announce(self, settings)
                if wait and wait > 0:
                    transport.sleep(wait)

    # every kind of failure gets the full budget: an outage is connection errors, not 5xx
    return Policy(initial_backoff=backoff, increment_base=3, retry_total=retries, retry_connect=retries,
                  retry_read=retries, retry_status=retries, random_jitter_range=min(backoff, 3))


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

    def list_details(self, container: str, prefix: str = "") -> dict[str, BlobInfo]:
        """Objects under ``prefix`` with size, ETag and MD5; {} when the container does not exist."""

    def put_file(self, container: str, path: str, local_path: str | os.PathLike) -> BlobInfo:
        """Upload a local file (atomically, like put) and return what the store now holds."""

    def put_and_copy(self, container: str, path: str, data: bytes, copy_container: str, copy_path: str) -> bool:
        """``put(container, path, data)`` (overwriting) plus a create-if-absent copy of the same
        bytes at ``copy_container/copy_path``, written once: a second name of the same file on a
        local directory, a server-side copy on Azure. Returns whether the copy was created (False:
        an object was there already, kept as it was)."""

    def describe(self) -> str: ...


class LocalStore:
    """A directory standing in for a storage account: ``root/<container>/<path>``."""

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    def _file(self, container: str, path: str) -> Path:
        return self.root / container / path

    @staticmethod
    def _staging(dest: Path) -> Path:
        # per process and thread: the lander writes from a worker thread while the caller goes on
        return dest.with_name(f".{dest.name}.{os.getpid()}-{threading.get_ident()}.tmp")

    def put(self, container: str, path: str, data: bytes, *, overwrite: bool = True) -> bool:
        dest = self._file(container, path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._staging(dest)
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

    def put_and_copy(self, container: str, path: str, data: bytes, copy_container: str, copy_path: str) -> bool:
        """One write, two names: the staged file is hard-linked at the copy's path (create-if-absent,
        atomic) and then renamed over the destination (atomic). Both names are one read-only
        (0444) file: the store never writes a file in place (a new version is a new file renamed
        over the name), so the copy keeps its bytes when the destination is replaced or deleted.
        Where hard links are not possible (another file system), the copy is written separately."""
        dest, copy = self._file(container, path), self._file(copy_container, copy_path)
        dest.parent.mkdir(parents=True, exist_ok=True)
        copy.parent.mkdir(parents=True, exist_ok=True)
        tmp = self._staging(dest)
        try:
            tmp.write_bytes(data)
            os.chmod(tmp, 0o444)
            try:
                os.link(tmp, copy)
                created = True
            except FileExistsError:
                created = False
            except OSError:    # EXDEV, EPERM, a file system without links: write the copy on its own
                created = self.put(copy_container, copy_path, data, overwrite=False)
            os.replace(tmp, dest)
            return created
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

    def list_details(self, container: str, prefix: str = "") -> dict[str, BlobInfo]:
        out = {}
        for name in self.list(container, prefix):
            st = self._file(container, name).stat()
            out[name] = BlobInfo(size=st.st_size, etag=f"{st.st_size}-{st.st_mtime_ns}-{st.st_ino}")
        return out

    def put_file(self, container: str, path: str, local_path: str | os.PathLike) -> BlobInfo:
        self.put(container, path, Path(local_path).read_bytes())
        st = self._file(container, path).stat()
        return BlobInfo(size=st.st_size, etag=f"{st.st_size}-{st.st_mtime_ns}-{st.st_ino}")

    def describe(self) -> str:
        return f"local directory {self.root}"


class AzureBlobStore:
    """Azure Blob Storage through azure-storage-blob, with retries and backoff on transient errors.

    The SDK's ExponentialRetry covers connection errors, timeouts, 408/429/5xx: the waits are
    ``backoff`` + 3**n seconds (plus jitter, at most FSDP_BLOB_MAX_BACKOFF) for ``retries``
    attempts, each one logged and counted (:func:`logging_retry_policy`). When they are exhausted
    the caller gets one StorageUnavailable naming the endpoint, not the SDK's stack of exceptions.
    """

    def __init__(self, connection_string: str, *, retries: int | None = None, backoff: float | None = None):
        from azure.storage.blob import BlobServiceClient

        self.retries = int(os.environ.get("FSDP_BLOB_RETRIES", "6")) if retries is None else retries
        backoff = float(os.environ.get("FSDP_BLOB_BACKOFF", "1")) if backoff is None else backoff
        policy = logging_retry_policy(self.retries, backoff)
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

    def put_and_copy(self, container: str, path: str, data: bytes, copy_container: str, copy_path: str) -> bool:
        """The bytes are uploaded once; the copy is a server-side Copy Blob of what was just
        uploaded (same account: no second upload), created only if absent (If-None-Match: *) and
        only from the version this call wrote (source If-Match: its ETag), so a concurrent
        re-landing can never put other bytes under the copy's name. When the service refuses the
        copy for any other reason (or it does not finish within FSDP_BLOB_COPY_WAIT_S, 60 s), the
        copy is uploaded from the bytes like a plain put: slower, same result."""
        from azure.core import MatchConditions
        from azure.core.exceptions import ResourceExistsError
        from azure.storage.blob import ContentSettings

        source = self._container(container).get_blob_client(path)
        content_type = "text/csv" if path.endswith(".csv") else "application/octet-stream"
        answer = self._call(f"upload {container}/{path}", source.upload_blob, data, overwrite=True, max_concurrency=2,
                            content_settings=ContentSettings(content_type=content_type))
        target = self._container(copy_container).get_blob_client(copy_path)
        try:
            copied = self._call(f"copy {container}/{path} to {copy_container}/{copy_path}", target.start_copy_from_url,
                                source.url, source_etag=answer["etag"],
                                source_match_condition=MatchConditions.IfNotModified,
                                match_condition=MatchConditions.IfMissing)
        except ResourceExistsError:
            return False
        except StorageUnavailable:
            raise
        except StorageError:   # refused (a precondition, a service without copy): upload, create-if-absent
            return self.put(copy_container, copy_path, data, overwrite=False)
        status, deadline = copied.get("copy_status"), time.monotonic() + float(os.environ.get("FSDP_BLOB_COPY_WAIT_S", "60"))
        while status == "pending" and time.monotonic() < deadline:   # Azure may copy asynchronously
            time.sleep(0.2)
            status = self._call(f"status of {copy_container}/{copy_path}", target.get_blob_properties).copy.status
        if status != "success":
            self.delete(copy_container, copy_path)
            return self.put(copy_container, copy_path, data, overwrite=False)
        return True

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

    def list_details(self, container: str, prefix: str = "") -> dict[str, BlobInfo]:
        from azure.core.exceptions import ResourceNotFoundError

        client = self.client.get_container_client(container)

        def listing():
            out = {}
            for b in client.list_blobs(name_starts_with=prefix):
                md5 = b.content_settings.content_md5 if b.content_settings else None
                out[b.name] = BlobInfo(size=int(b.size), etag=str(b.etag).strip('"'),
                                       md5=bytes(md5).hex() if md5 else None)
            return out
        try:
            return dict(sorted(self._call(f"list {container}/{prefix}", listing).items()))
        except ResourceNotFoundError:
            return {}

    def put_file(self, container: str, path: str, local_path: str | os.PathLike) -> BlobInfo:
        """Streams the file (one Put Blob, or blocks + one commit for large files: either way the
        blob appears whole or not at all) with its MD5 as Content-MD5, which the service keeps and
        lists, so a later listing shows whether the blob is still this content."""
        from azure.storage.blob import ContentSettings

        local = Path(local_path)
        digest = hashlib.md5(usedforsecurity=False)
        with local.open("rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                digest.update(chunk)
        blob = self._container(container).get_blob_client(path)
        settings = ContentSettings(content_type="application/octet-stream", content_md5=bytearray(digest.digest()))

        def upload():
            with local.open("rb") as fh:
                return blob.upload_blob(fh, overwrite=True, max_concurrency=2, length=local.stat().st_size,
                                        content_settings=settings)
        answer = self._call(f"upload {container}/{path}", upload)
        return BlobInfo(size=local.stat().st_size, etag=str(answer.get("etag", "")).strip('"'), md5=digest.hexdigest())


def open_store(target: str | None = None) -> BlobStore:
    """The store for ``target``: a directory (``/path`` or ``file:///path``) or, when None, the
    storage endpoint of :func:`connection_string`."""
    if target:
        if target.startswith("file://"):
            return LocalStore(urlparse(target).path)
        if "://" in target or "=" in target:
            return AzureBlobStore(target)  # an explicit connection string
        return LocalStore(target)
    return AzureBlobStore(connection_string())


if __name__ == "__main__":   # python -m include.blob_storage --exports  (scripts/lib.sh)
    import shlex
    import sys

    if sys.argv[1:] != ["--exports"]:
        print("usage: python -m include.blob_storage --exports", file=sys.stderr)
        sys.exit(2)
    try:
        for key, value in storage_exports().items():
            print(f"export {key}={shlex.quote(value)}")
    except StorageError as exc:
        print(exc, file=sys.stderr)
        sys.exit(1)
