"""Fixtures of the dbt tests: an isolated warehouse (DuckDB file in tmp, unique containers on the
session's Azurite) built from the hand-made landing data of fixtures.py."""
from __future__ import annotations

import uuid

import adlfs
import pytest

from include.mockgen.landing import Lander, open_store
from tests.dbt import fixtures
from tests.dbt.dbt_runner import Warehouse


def count(warehouse: Warehouse, table: str) -> int:
    return warehouse.query(f"select count(*) from {table}")[0][0]


def curated_files(warehouse: Warehouse) -> set[str]:
    """Every file in the warehouse's curated container (the output port's, which dbt never writes)."""
    fs = adlfs.AzureBlobFileSystem(connection_string=warehouse.connection_string)
    fs.invalidate_cache()
    return set(fs.find(warehouse.curated_container)) if fs.exists(warehouse.curated_container) else set()


STATE_TABLES = ["fs_accelerator.customer_overview_raw", "fs_accelerator.customer_overview_dp",
                "fs_accelerator.customer_overview_rejected", "fs_accelerator.product_raw",
                "fs_accelerator.account_raw", "fs_accelerator.transaction_raw", "fs_accelerator.transaction_dp",
                "fs_accelerator.customer_overview_snapshot"]


@pytest.fixture(scope="module")
def pipeline(azurite, tmp_path_factory):
    """Day 1 built, then day 1 re-landed and rebuilt, then day 2 landed and built.

    Returns the warehouse, the row counts after each step and the landing API, so each test
    asserts on one behaviour without re-running dbt.
    """
    suffix = uuid.uuid4().hex[:8]
    warehouse = Warehouse(tmp_path_factory.mktemp("dbt"), azurite.connection_string,
                          landing_container=f"landing-{suffix}", curated_container=f"curated-{suffix}")
    lander = Lander(open_store(azurite.connection_string), landing=warehouse.landing_container,
                    history=f"history-{suffix}")
    counts = {}

    fixtures.land_day1(lander)
    warehouse.dbt("build", "--exclude", "test_type:unit")
    counts["day1"] = {t: count(warehouse, t) for t in STATE_TABLES}
    counts["day1_results"] = warehouse.run_results()
    counts["day1_curated"] = curated_files(warehouse)
    counts["day1_quarantined_events"] = {r[0] for r in warehouse.query(
        "select _record_id from fs_accelerator.campaign_event_rejected")}

    fixtures.land_day1(lander)  # the same files again: new blob versions, the same rows
    warehouse.dbt("build", "--exclude", "test_type:unit")
    counts["relanded"] = {t: count(warehouse, t) for t in STATE_TABLES}
    counts["relanded_curated"] = curated_files(warehouse)

    fixtures.land_day2(lander)
    warehouse.dbt("build", "--exclude", "test_type:unit")
    counts["day2"] = {t: count(warehouse, t) for t in STATE_TABLES}
    return warehouse, counts
