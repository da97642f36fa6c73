"""Preloads dbt, dbt-duckdb and the blob filesystem into the Airflow scheduler process.

Why: with the LocalExecutor every task runs in a process forked from the scheduler, and each Cosmos
dbt task (one per model and per test) would otherwise import dbt and adlfs again, ~3-4 s of CPU
per task on a 2-core machine. Imported once in the scheduler, the forked task processes inherit
them. Only the scheduler preloads (the api-server and dag-processor load plugins too and do not
run tasks); set FSDP_PRELOAD_DBT=false to turn it off.
"""
from __future__ import annotations

import logging
import os
import sys

from airflow.plugins_manager import AirflowPlugin

log = logging.getLogger(__name__)


def _is_scheduler() -> bool:
    return len(sys.argv) > 1 and os.path.basename(sys.argv[0]) == "airflow" and sys.argv[1] == "scheduler"


if _is_scheduler() and os.environ.get("FSDP_PRELOAD_DBT", "true").lower() not in ("false", "0", "no"):
    try:
        import adlfs  # noqa: F401
        import dbt.adapters.duckdb  # noqa: F401
        import dbt.cli.main  # noqa: F401
        import cosmos  # noqa: F401
    except ImportError:  # a bundle without dbt still runs, without the head start
        log.warning("fsdp_preload: dbt/cosmos not importable, tasks import them themselves")


class FsdpPreloadPlugin(AirflowPlugin):
    name = "fsdp_preload"
