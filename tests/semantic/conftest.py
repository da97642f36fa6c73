"""A small real warehouse for the semantic layer's tests: two generated pipeline days (initial load,
then a day of updates and transactions, across a month boundary) landed in a local folder, built
by the project's dbt, with the governance role views applied. Built once per session."""
from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from include.blob_storage import AZURITE_DEV_CONNECTION_STRING
from include.mockgen.landing import Lander, open_store
from include.mockgen.runner import daily
from tests.dbt.dbt_runner import Warehouse

DAYS = (date(2026, 11, 30), date(2026, 12, 1))
CUSTOMERS = 1500


def build_warehouse(work: Path, customers: int = CUSTOMERS, days=DAYS) -> Warehouse:
    landing = work / "store"
    lander = Lander(open_store(str(landing)))
    # the landing is a local folder; dbt-duckdb still registers the abfs filesystem, which only parses
    # the (public, development) connection string
    warehouse = Warehouse(work, connection_string=AZURITE_DEV_CONNECTION_STRING, extra_env={
        "FSDP_LANDING_ROOT": str(landing / "landing"), "FSDP_EXPORT_CURATED": "false"})
    for day in days:
        daily(lander, day, seed=7, customers=customers, bad_rows=5)
        warehouse.dbt("build", "--exclude", "test_type:unit")
    from include.governance.views import apply_role_views

    apply_role_views(warehouse.duckdb_path, warehouse.target_path / "manifest.json")
    return warehouse


@pytest.fixture(scope="session")
def sl_warehouse(tmp_path_factory) -> Warehouse:
    return build_warehouse(tmp_path_factory.mktemp("semantic"))


@pytest.fixture(scope="session")
def layer(sl_warehouse):
    from include.semantic import SemanticLayer

    sl = SemanticLayer(sl_warehouse.duckdb_path, sl_warehouse.target_path / "semantic_manifest.json")
    yield sl
    sl.close()


@pytest.fixture(scope="session")
def sql(sl_warehouse):
    """Plain SQL on the warehouse (read-only), for independent answers."""
    import duckdb

    con = duckdb.connect(str(sl_warehouse.duckdb_path), read_only=True)

    def run(statement: str, params=None) -> list[tuple]:
        return con.cursor().execute(statement, params).fetchall()

    yield run
    con.close()
