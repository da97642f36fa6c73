"""Where a landed file sits, and what that says about it: entity, logical date, kind.

The landing layout is ``<entity>/dt=<YYYY-MM-DD>/<name>.csv`` plus one ``_manifest.json`` per
folder (include/mockgen/landing.py). Anything else in the container is registered too, and
refused with the reason its path gives.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

MANIFEST_NAME = "_manifest.json"
_DT = re.compile(r"dt=(\d{4}-\d{2}-\d{2})")
# magic bytes of compressed or archived content, whatever the file is called
COMPRESSION_MAGIC = {
    b"\x1f\x8b": "gzip",
    b"PK\x03\x04": "zip",
    b"BZh": "bzip2",
    b"\xfd7zXZ\x00": "xz",
    b"\x28\xb5\x2f\xfd": "zstd",
    b"PAR1": "Parquet",
}


@dataclass(frozen=True)
class LandingPath:
    """One blob of the landing container, classified by its path alone."""

    path: str                  # container-relative, e.g. customers/dt=2026-01-05/part-00000.csv
    entity: str | None         # the first folder, when it is an entity of the contract
    folder: str | None         # the second folder as landed (e.g. dt=2026-01-05, dt=latest)
    landed_date: date | None   # the folder's date, when it is a real one
    kind: str                  # part | manifest | other
    reason: str | None = None  # refusal reason given by the path alone
    detail: str | None = None

    @property
    def manifest_path(self) -> str | None:
        """The manifest that must describe this file (same folder), for parts."""
        if self.entity is None or self.folder is None:
            return None
        return f"{self.entity}/{self.folder}/{MANIFEST_NAME}"


def is_temporary(path: str) -> bool:
    """Names starting with a dot are uploads in progress (LocalStore writes ``.name.<pid>.tmp`` and
    renames it): not files of the landing yet, so not registered."""
    return any(part.startswith(".") for part in path.split("/"))


def classify(path: str, entities) -> LandingPath:
    """Classify a container-relative ``path`` against the contract's entity names."""
    parts = path.split("/")
    first = parts[0] if len(parts) > 1 else None
    entity = first if first in entities else None
    name = parts[-1]
    kind = "manifest" if name == MANIFEST_NAME else "part" if name.endswith(".csv") else "other"
    if len(parts) < 2:
        return LandingPath(path, None, None, None, kind, "unexpected_path",
                           f"file at the top of the container; files belong in <entity>/dt=<YYYY-MM-DD>/")
    if entity is None:
        known = ", ".join(sorted(entities))
        return LandingPath(path, None, parts[1] if len(parts) > 2 else None, None, kind, "unknown_entity",
                           f"folder {first!r} is not an entity of the landing contract ({known})")
    if len(parts) != 3:
        return LandingPath(path, entity, parts[1] if len(parts) > 2 else None, None, kind, "unexpected_path",
                           f"{len(parts) - 1} folder levels; files belong in {entity}/dt=<YYYY-MM-DD>/<name>.csv")
    folder = parts[1]
    match = _DT.fullmatch(folder)
    day = None
    if match:
        try:
            day = date.fromisoformat(match.group(1))
        except ValueError:
            day = None
    if day is None:
        return LandingPath(path, entity, folder, None, kind, "folder_not_a_date",
                           f"folder {folder!r} is not dt=YYYY-MM-DD with a real date")
    if kind == "other":
        suffix = name.rsplit(".", 1)[-1] if "." in name else ""
        hint = " (compressed files are not read: land plain CSV)" if suffix.lower() in (
            "gz", "gzip", "zip", "bz2", "xz", "zst") else ""
        return LandingPath(path, entity, folder, day, kind, "not_a_csv_file",
                           f"{name!r} is neither a .csv part nor {MANIFEST_NAME}{hint}")
    return LandingPath(path, entity, folder, day, kind)


def compression(data: bytes) -> str | None:
    """The compression or binary format ``data`` starts with, if any."""
    for magic, name in COMPRESSION_MAGIC.items():
        if data.startswith(magic):
            return name
    return None
