"""Fixtures of the data API tests: one warehouse built by the project's dbt from landed files
(tests/api/fixtures.py) on the session's Azurite, its role views, a published serving copy, and
real uvicorn servers over it."""
from __future__ import annotations

import copy
import uuid
from pathlib import Path

import duckdb
import pytest
import yaml

from include import serving
from include.api.settings import PACKAGE_DIR
from include.governance.views import apply_role_views
from include.mockgen.landing import Lander, open_store
from tests.api import fixtures
from tests.api.server import ApiServer
from tests.dbt.dbt_runner import Warehouse

QUALITY_OK = {"ok": True, "checks": 42, "warnings": [], "failed": [], "run_id": "test-run"}
# one group per governance role, for the masking matrix (role x tagged column)
ROLE_GROUPS = {"role-public": [], "role-restricted": ["roles:id:restricted-acess"],
               "role-bucketing": ["roles:id:dob-bucketing"], "role-pii": ["roles:id:pii-reader"]}


@pytest.fixture(scope="session")
def built(azurite, tmp_path_factory):
    """The dbt-built warehouse with role views (read-write copy kept for the tests' own SQL)."""
    suffix = uuid.uuid4().hex[:8]
    work = tmp_path_factory.mktemp("api_dbt")
    warehouse = Warehouse(work, azurite.connection_string, landing_container=f"landing-{suffix}",
                          curated_container=f"curated-{suffix}", extra_env={"FSDP_EXPORT_CURATED": "false"})
    lander = Lander(open_store(azurite.connection_string), landing=warehouse.landing_container,
                    history=f"history-{suffix}")
    fixtures.land(lander)
    warehouse.dbt("build", "--exclude", "test_type:unit")
    apply_role_views(warehouse.duckdb_path, warehouse.target_path / "manifest.json")
    return warehouse


@pytest.fixture(scope="session")
def serving_dir(built, tmp_path_factory) -> Path:
    target = tmp_path_factory.mktemp("serving")
    serving.publish(built.duckdb_path, "test-run", fixtures.DAY, QUALITY_OK,
                    manifest_path=built.target_path / "manifest.json", target_dir=target)
    return target


def clear_sql(built, sql: str, params=None):
    """The truth, straight from the warehouse (clear values): what the API's answers are checked against."""
    with duckdb.connect(str(built.duckdb_path), read_only=True) as con:
        return con.execute(sql, params or []).fetchall()


def groups_file(path: Path, rate_limits: dict | None = None, **defaults) -> Path:
    """The project's user_groups.yml plus one group per governance role; ``defaults`` and
    ``rate_limits`` (group -> rateLimits fields) override."""
    doc = yaml.safe_load((PACKAGE_DIR / "user_groups.yml").read_text())
    doc = copy.deepcopy(doc)
    doc["defaults"].update(defaults)
    for group in doc["userGroups"]:
        group["rateLimits"].update((rate_limits or {}).get(group["name"], {}))
    for name, tags in ROLE_GROUPS.items():
        doc["userGroups"].append({"name": name, "description": f"test group for {tags or 'no role'}",
                                  "api_scopes": ["data", "graphql", "meta", "sql"], "userTags": tags,
                                  "rateLimits": {"requestsPerMinute": 5000, "requestsPerHour": 50000,
                                                 "concurrentRequests": 50}})
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


@pytest.fixture(scope="session")
def api(serving_dir, tmp_path_factory):
    """The service as shipped (the project's groups, plus the role test groups), memory counters."""
    work = tmp_path_factory.mktemp("api")
    server = ApiServer(work, serving_dir, user_groups=groups_file(work / "user_groups.yml")).start()
    yield server
    server.stop()


@pytest.fixture
def client(api):
    c = api.client()
    yield c
    c.http.close()
