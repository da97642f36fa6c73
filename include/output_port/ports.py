"""Where the output port publishes, and for whom: one ``Port`` per destination.

* ``curated`` (always): the blob container ``FSDP_CURATED_CONTAINER`` (default ``curated``) of
  the project's storage account, or the local directory ``FSDP_CURATED_ROOT`` (benchmarks).
  Audience ``FSDP_OUTPUT_PORT_AUDIENCE`` (comma-separated user tags, default
  ``roles:id:dob-bucketing``: hashed ``TW.mask`` columns, dates of birth bucketed to the
  quarter). An audience that would read a governed column in clear is refused here.
* ``curated-clear`` (only when configured): clear PII for the consumers entitled to it, to a
  destination configured for nothing else: ``FSDP_CLEAR_EXPORT_CONTAINER`` (in the storage account
  of ``FSDP_CLEAR_EXPORT_CONNECTION_STRING``, default the project's) or ``FSDP_CLEAR_EXPORT_ROOT``
  (a local directory). Audience ``FSDP_CLEAR_EXPORT_AUDIENCE`` (default ``roles:id:pii-reader``);
  still decided by the masking policies, so a tag no policy grants stays masked. It must not be
  the masked port's destination.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from include.governance.publication import Audience

DEFAULT_AUDIENCE = "roles:id:dob-bucketing"
DEFAULT_CLEAR_AUDIENCE = "roles:id:pii-reader"


class PortConfigError(RuntimeError):
    """The output port's settings contradict the no-clear-PII rule or each other."""


@dataclass(frozen=True)
class Port:
    name: str
    target: str | None        # None: the project's storage account; else a connection string or a local directory
    container: str
    audience: Audience

    @property
    def where(self) -> tuple[str, str]:
        """Identity of the destination, to tell two ports apart."""
        from include.blob_storage import connection_string, endpoint_of

        if self.target and "=" not in self.target:
            return (str(Path(self.target).resolve()), self.container)
        return (endpoint_of(self.target or connection_string()), self.container)

    def store(self):
        from include.blob_storage import open_store

        return open_store(self.target)

    def describe(self) -> str:
        return f"{self.name} ({self.where[0]}, container {self.container})"


def _tags(value: str | None, default: str) -> list[str]:
    raw = default if value is None else value
    return [t.strip() for t in raw.split(",") if t.strip()]


def _local(root: str) -> tuple[str, str]:
    """A local directory as (store root, container): ``/x/curated`` -> ("/x", "curated")."""
    path = Path(root).expanduser().resolve()
    return str(path.parent), path.name


def ports(environ: Mapping[str, str] | None = None) -> list[Port]:
    """The configured destinations: the masked port, then the clear one when configured."""
    env = os.environ if environ is None else environ
    root = (env.get("FSDP_CURATED_ROOT") or "").strip()
    if root and not root.startswith("abfs://"):
        target, container = _local(root)
    else:
        target, container = None, (root[len("abfs://"):].strip("/") if root else "") or \
            env.get("FSDP_CURATED_CONTAINER") or "curated"
    out = [Port("curated", target, container,
                Audience.of("output port", _tags(env.get("FSDP_OUTPUT_PORT_AUDIENCE"), DEFAULT_AUDIENCE)))]
    clear_container = (env.get("FSDP_CLEAR_EXPORT_CONTAINER") or "").strip()
    clear_root = (env.get("FSDP_CLEAR_EXPORT_ROOT") or "").strip()
    if clear_container and clear_root:
        raise PortConfigError("set FSDP_CLEAR_EXPORT_CONTAINER or FSDP_CLEAR_EXPORT_ROOT, not both")
    if clear_container or clear_root:
        if clear_root:
            ctarget, ccontainer = _local(clear_root)
        else:
            ctarget, ccontainer = (env.get("FSDP_CLEAR_EXPORT_CONNECTION_STRING") or "").strip() or None, clear_container
        clear = Port("curated-clear", ctarget, ccontainer,
                     Audience.of("clear export", _tags(env.get("FSDP_CLEAR_EXPORT_AUDIENCE"), DEFAULT_CLEAR_AUDIENCE),
                                 clear=True))
        if clear.where == out[0].where:
            raise PortConfigError(f"the clear export must go to its own destination, not the output port's "
                                  f"({out[0].describe()}): set FSDP_CLEAR_EXPORT_CONTAINER to another container")
        out.append(clear)
    return out
