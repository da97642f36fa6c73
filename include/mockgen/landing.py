"""Landing generated entities as CSV part files in blob storage.

Layout (the seed's landing and history containers):

* ``landing/<entity>/dt=<YYYY-MM-DD>/part-00000.csv`` ... plus ``_manifest.json``: the current
  landing of an entity for a logical date. Re-landing the same date replaces it: parts are
  overwritten in place, parts the new landing no longer has are deleted, and the manifest
  (written last) lists exactly the parts, rows and checksums of the landing.
* ``history/<entity>/dt=<YYYY-MM-DD>/part-00000-<sha256[:16]>.csv``: every version ever landed,
  content-addressed and written create-if-absent, so it is never overwritten and landing the same
  bytes twice adds nothing.

Each part is one atomic put (see include/blob_storage.py), so a reader never sees half a file.
Each part's bytes are written once: the history copy is a second name of the same file on a local
directory and a server-side copy on Azure (``BlobStore.put_and_copy``). Parts are encoded and
written on a worker thread while the caller generates the next one (pyarrow's CSV writer, SHA-256
and file or socket writes release the GIL, so generation and encoding use both cores); at most two
parts are in memory.
"""
from __future__ import annotations

import hashlib
import io
import json
import os
import re
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable

import logging

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from include.blob_storage import BlobStore, StorageError, open_store
from include.ledger.paths import classify
from include.mockgen.schema import ENTITIES

log = logging.getLogger(__name__)

__all__ = ["Lander", "LandedEntity", "open_store", "StorageError", "encode_csv"]

_PART = re.compile(r"part-(\d{5})\.csv$")


@dataclass
class LandedEntity:
    entity: str
    logical_date: date
    rows: int = 0
    bytes: int = 0
    parts: int = 0
    paths: list[str] = field(default_factory=list)


def encode_csv(table: pa.Table) -> bytes:
    """CSV bytes with a header; empty strings are written as empty fields, like nulls, so a
    missing value has one spelling in the landing files (the seed's pandas output did the same)."""
    columns = []
    for column in table.columns:
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
            column = pc.if_else(pc.equal(column, ""), pa.scalar(None, column.type), column)
        columns.append(column)
    sink = io.BytesIO()
    pacsv.write_csv(pa.Table.from_arrays(columns, names=table.column_names), sink,
                    pacsv.WriteOptions(include_header=True, quoting_style="needed"))
    return sink.getvalue()


class Lander:
    """Lands and reads entities in one storage account (or local directory)."""

    def __init__(self, store: BlobStore, *, landing: str | None = None, history: str | None = None):
        # container names: FSDP_LANDING_CONTAINER is shared with dbt's sources (dbt_project.yml)
        self.store = store
        self.landing = landing or os.environ.get("FSDP_LANDING_CONTAINER") or "landing"
        self.history = history or os.environ.get("FSDP_HISTORY_CONTAINER") or "history"

    @staticmethod
    def _prefix(entity: str, logical_date: date) -> str:
        return f"{entity}/dt={logical_date.isoformat()}/"

    def land(self, entity: str, logical_date: date, parts: Iterable[pa.Table]) -> LandedEntity:
        """Write ``parts`` as the landing of ``entity`` for ``logical_date``; returns what landed.

        An empty ``parts`` still lands one header-only part, so a landed entity+date always has a
        file and readers can tell "landed, no rows" from "not landed".
        """
        spec = ENTITIES.get(entity)
        if spec is None:
            raise ValueError(f"unknown entity {entity!r}; expected one of {', '.join(ENTITIES)}")
        prefix = self._prefix(entity, logical_date)
        result = LandedEntity(entity, logical_date)
        manifest_parts: list[dict] = []

        def collect(future: Future) -> None:
            part = future.result()
            manifest_parts.append(part)
            result.rows += part["rows"]
            result.bytes += part["bytes"]
            result.paths.append(part["path"])

        with ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"land-{entity}") as writer:
            inflight: list[Future] = []
            try:
                for index, table in enumerate(_at_least_one(parts, spec.column_names)):
                    if table.column_names != spec.column_names:
                        raise ValueError(f"{entity} part {index}: columns {table.column_names} differ from the "
                                         f"landing contract {spec.column_names}")
                    inflight.append(writer.submit(self._write_part, prefix, index, table))
                    if len(inflight) > 1:
                        collect(inflight.pop(0))   # part i-1 is written before part i+1 is generated
                while inflight:
                    collect(inflight.pop(0))
            except BaseException:
                for future in inflight:            # a failed part or generator: nothing more is written
                    future.cancel()
                raise
        result.parts = len(manifest_parts)
        # a re-landing with fewer parts must not leave the earlier landing's extra parts behind
        for stale in self.store.list(self.landing, prefix):
            match = _PART.search(stale)
            if match is None or int(match.group(1)) >= result.parts:
                if not stale.endswith("_manifest.json"):
                    self.store.delete(self.landing, stale)
        manifest = {"entity": entity, "logical_date": logical_date.isoformat(), "rows": result.rows,
                    "bytes": result.bytes, "parts": manifest_parts}
        self.store.put(self.landing, f"{prefix}_manifest.json",
                       json.dumps(manifest, indent=2, sort_keys=True).encode(), overwrite=True)
        return result

    def _write_part(self, prefix: str, index: int, table: pa.Table) -> dict:
        """Encode one part and write it to landing (overwriting) and history (content-addressed,
        create-if-absent) with one write of its bytes; returns its manifest entry."""
        data = encode_csv(table)
        digest = hashlib.sha256(data).hexdigest()
        path = f"{prefix}part-{index:05d}.csv"
        history_path = f"{prefix}part-{index:05d}-{digest[:16]}.csv"
        put_and_copy = getattr(self.store, "put_and_copy", None)
        if put_and_copy is not None:
            put_and_copy(self.landing, path, data, self.history, history_path)
        else:   # a store with only the basic interface: two writes
            self.store.put(self.landing, path, data, overwrite=True)
            self.store.put(self.history, history_path, data, overwrite=False)
        return {"path": path, "rows": table.num_rows, "bytes": len(data), "sha256": digest}

    def landed_paths(self, entity: str, *, through: date | None = None, before: date | None = None,
                     on: date | None = None) -> list[str]:
        """CSV part paths of ``entity`` in the landing container, sorted, of the logical dates
        <= ``through`` / < ``before`` / == ``on`` (every date when no filter is given). Only files
        where the landing layout puts parts (``<entity>/dt=<real date>/<name>.csv``, the landing
        ledger's rule): anything else in the container, e.g. a ``dt=latest`` folder, is not a part."""
        paths = []
        for path in self.store.list(self.landing, f"{entity}/"):
            lp = classify(path, ENTITIES)
            if lp.kind != "part" or lp.reason or lp.entity != entity:
                continue
            day = lp.landed_date
            if (through and day > through) or (before and day >= before) or (on and day != on):
                continue
            paths.append(path)
        return paths

    def exists(self, entity: str) -> bool:
        return bool(self.landed_paths(entity))

    def read(self, entity: str, *, through: date | None = None, before: date | None = None,
             on: date | None = None) -> pa.Table:
        """Landed rows of ``entity`` (filters as in ``landed_paths``), all columns as strings,
        empty fields as null. A re-run of day D filters to its own view of the past."""
        names = ENTITIES[entity].column_names
        convert = pacsv.ConvertOptions(column_types={n: pa.string() for n in names}, strings_can_be_null=True,
                                       include_columns=names)
        tables = []
        for path in self.landed_paths(entity, through=through, before=before, on=on):
            try:
                tables.append(pacsv.read_csv(io.BytesIO(self.store.get(self.landing, path)), convert_options=convert))
            except (pa.ArrowInvalid, pa.ArrowKeyError, KeyError, UnicodeDecodeError) as exc:
                # a file the landing ledger refuses (not CSV, other columns): not part of the landing
                log.warning("skipping %s/%s: not a readable part of the contract (%s)", self.landing, path,
                            str(exc).splitlines()[0][:160])
        if not tables:
            return pa.table({n: pa.array([], pa.string()) for n in names})
        return pa.concat_tables(tables)


def _at_least_one(parts: Iterable[pa.Table], names: list[str]) -> Iterable[pa.Table]:
    empty = True
    for table in parts:
        empty = False
        yield table
    if empty:
        yield pa.table({n: pa.array([], pa.string()) for n in names})
