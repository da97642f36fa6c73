"""Paths and names of the pipeline, read from the environment with local defaults.

Cheap to import (no I/O): the DAG files read these at parse time.
"""
from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# One-slot Airflow pool held by every task that opens the DuckDB file. DuckDB allows one
# read-write process per file, and a read-only process cannot open the file while another process
# holds it read-write, so readers queue in the same pool as writers.
DUCKDB_POOL = "duckdb_writer"

DBT_PROFILE = "fsdp"
DBT_TARGET = os.environ.get("FSDP_DBT_TARGET", "duckdb")
PRODUCT_SCHEMA = "fs_accelerator"


def _path(var: str, default: Path) -> Path:
    value = os.environ.get(var)
    return Path(value).expanduser().resolve() if value else default


def daily_schedule() -> str | None:
    """fsdp_daily's schedule: ``FSDP_DAILY_SCHEDULE`` (a cron expression or preset, default
    ``@daily``), or ``none`` for a DAG that runs only when triggered (UI, API, scripts/run.sh)."""
    value = os.environ.get("FSDP_DAILY_SCHEDULE", "").strip() or "@daily"
    return None if value.lower() == "none" else value


def dbt_project_dir() -> Path:
    return _path("FSDP_DBT_PROJECT_DIR", ROOT / "dbt_project")


def dbt_target_dir() -> Path:
    """dbt's target path for the pipeline's own ``dbt parse`` (kept out of dbt_project/target, which
    developers' interactive dbt runs overwrite)."""
    return _path("FSDP_DBT_TARGET_DIR", ROOT / ".local" / "dbt" / "target")


def dbt_manifest_path() -> Path:
    """The manifest Cosmos renders the task graph from (``python -m include.pipeline.dbt parse``)."""
    return dbt_target_dir() / "manifest.json"


def duckdb_path() -> Path:
    return _path("FSDP_DUCKDB_PATH", ROOT / ".local" / "warehouse" / "fsdp.duckdb")


def dbt_docs_dir() -> Path:
    """Where the latest run's dbt docs are published for the Airflow UI (Cosmos docs plugin)."""
    return _path("FSDP_DBT_DOCS_DIR", ROOT / ".local" / "dbt_docs")


def reports_dir() -> Path:
    """Run summaries and product health reports (JSON), one file per logical date."""
    return _path("FSDP_REPORTS_DIR", ROOT / ".local" / "reports")


def dbt_executable() -> str:
    """The dbt of the venv Airflow runs in (Cosmos ExecutionMode.LOCAL)."""
    import sys

    candidate = Path(sys.executable).parent / "dbt"
    return os.environ.get("FSDP_DBT_EXECUTABLE") or (str(candidate) if candidate.exists() else "dbt")
