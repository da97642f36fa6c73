"""Reading the output port the way it is meant to be read: the pointer first, then exactly the
files it lists (never a listing of the folder, which may hold a publication in progress or the
previous version's files).

    from include.output_port.reader import current_files, read_table
    manifest, files = current_files(store, "curated", "customer_overview_dp")   # blob paths
    con = read_table(store, "curated", "customer_overview_dp", "/tmp/x")       # DuckDB view `t`

DuckDB or Spark users without this package: read ``<table>/_current.json``, then
``read_parquet([...the "path" of every file of every partition, prefixed with "<table>/"...])``.
"""
from __future__ import annotations

from pathlib import Path

from include.output_port.publish import POINTER, read_manifest


def current_files(store, container: str, table: str) -> tuple[dict, list[str]]:
    """The current manifest of ``table`` and the blob paths of its files."""
    manifest = read_manifest(store, container, table, POINTER)
    if manifest is None:
        raise FileNotFoundError(f"{container}/{table}/{POINTER} does not exist: the table is not published")
    return manifest, [f"{table}/{f['path']}" for p in manifest["partitions"] for f in p["files"]]


def read_table(store, container: str, table: str, local_dir: str | Path, con=None):
    """Download the current version of ``table`` and open it in DuckDB as the view ``t``."""
    import duckdb

    manifest, files = current_files(store, container, table)
    local_dir = Path(local_dir)
    local = []
    for i, name in enumerate(files):
        path = local_dir / f"{i:05d}.parquet"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(store.get(container, name))
        local.append(str(path))
    con = con or duckdb.connect()
    if local:
        con.execute(f"create or replace view t as select * from read_parquet({local!r}, hive_partitioning = false)")
    else:   # a published empty table: its columns, no rows
        cols = ", ".join(f'cast(null as {t}) as "{n}"' for n, t in manifest["columns"])
        con.execute(f"create or replace view t as select {cols} where false")
    return con
