"""Mock data for a logical date: generate and land it, or read what the source systems landed.

Both functions talk to blob storage only through include.blob_storage / include.mockgen, which
retry transient errors themselves; the Airflow tasks add task-level retries with backoff on top.
"""
from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from datetime import date

log = logging.getLogger(__name__)
# the Azure SDK logs every request and response (404s included) at INFO
logging.getLogger("azure").setLevel(logging.WARNING)


def is_storage_error(exc: BaseException) -> bool:
    """True for errors a retry may cure: blob storage unreachable or failing (not bad data or bugs)."""
    from include.blob_storage import StorageError

    if isinstance(exc, (StorageError, ConnectionError, TimeoutError)):
        return True
    try:
        from azure.core.exceptions import AzureError
    except ImportError:  # pragma: no cover
        return False
    return isinstance(exc, AzureError)


@contextmanager
def retry_only_storage_errors():
    """Let blob storage errors through (the task retries them with backoff); turn anything else
    into AirflowFailException, which fails the task at once: retrying a bug wastes the backoff."""
    try:
        yield
    except Exception as exc:
        if is_storage_error(exc):
            raise
        from airflow.sdk.exceptions import AirflowFailException

        raise AirflowFailException(f"{type(exc).__name__}: {exc} (not a storage error: no retry)") from exc


def land_mock_data(logical_date: date, rows: int, bad_rows: int, seed: int = 42) -> dict:
    """Generate the logical date's mock data (include.mockgen's ``daily`` run: the initial load on
    the first day, then customer updates and the day's transactions) and land it in the landing
    container; returns ``{"landed": {entity: rows}, "bad_rows": {entity: rows}}``."""
    from include.mockgen.landing import Lander, open_store
    from include.mockgen.runner import daily

    summary = daily(Lander(open_store()), logical_date, seed=seed, customers=rows, bad_rows=bad_rows)
    for line in summary.lines():
        log.info("%s", line)
    return {"landed": {name: int(res.rows) for name, res in summary.landed.items()},
            "bad_rows": {name: int(sum(kinds.values())) for name, kinds in summary.bad_rows.items()}}


def landed_rows(logical_date: date) -> dict[str, int]:
    """Rows in the landing container for ``logical_date``, per entity, as each landing's
    _manifest.json says (written last by the lander, so it describes a complete landing); entities
    with nothing landed for the date, or a manifest that does not parse, are 0. What the files really
    hold is counted by the landing ledger (the run summary shows its counts)."""
    from include.blob_storage import open_store
    from include.mockgen.schema import ENTITIES

    store = open_store()
    counts: dict[str, int] = {}
    for entity in ENTITIES:
        prefix = f"{entity}/dt={logical_date.isoformat()}/"
        manifest = f"{prefix}_manifest.json"
        landed = manifest in store.list("landing", prefix)  # list first: no 404s in the task log
        counts[entity] = 0
        if landed:
            try:
                counts[entity] = int(json.loads(store.get("landing", manifest))["rows"])
            except (ValueError, KeyError, TypeError) as exc:
                # a broken manifest is the landing ledger's to report (manifest_invalid), not a reason
                # to stop the day: the files are checked one by one downstream
                log.warning("landing/%s is not a valid manifest (%s): counted as 0", manifest, exc)
    log.info("landing for %s (%s): %s", logical_date, store.describe(),
             ", ".join(f"{k}={v}" for k, v in counts.items()))
    return counts
