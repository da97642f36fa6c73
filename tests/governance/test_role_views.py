"""Role views in a real DuckDB file: what each role's consumer can read, idempotence, schema drift."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import duckdb
import pytest
import yaml

from include.governance.errors import GovernanceError
from include.governance.policy import POLICIES_DIR
from include.governance.treatments import bucket_date, hash_value
from include.governance.views import MARKER, apply_role_views
from tests.governance.conftest import COLUMN_TAGS, CUSTOMERS, MASKED, create_customers, manifest_dict

pytestmark = pytest.mark.integration

SCHEMAS = ["role_restricted_access", "role_dob_bucketing", "role_pii_reader", "role_public"]
CLEAR, HASHED, NULL = (lambda v: v), hash_value, (lambda v: None)
QUARTER = lambda v: bucket_date(v, "quarter")  # noqa: E731
# view schema -> (what a TW.mask column shows, what cust_dob shows), as functions of the clear value
EXPECTED = {
    "role_restricted_access": (HASHED, NULL),
    "role_dob_bucketing": (HASHED, QUARTER),
    "role_pii_reader": (CLEAR, CLEAR),
    "role_public": (HASHED, NULL),
}


def read(db: Path, sql: str) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql).fetchall()


def column(db: Path, schema: str, col: str) -> list:
    return [r[0] for r in read(db, f"select {col} from {schema}.customer_overview_dp order by cust_id")]


@pytest.fixture
def applied(warehouse, manifest_path) -> dict:
    return apply_role_views(warehouse, manifest_path)


@pytest.fixture(scope="module")
def shared(tmp_path_factory) -> Path:
    """One applied warehouse for the read-only tests (building one per case is the slow part)."""
    folder = tmp_path_factory.mktemp("shared")
    create_customers(folder / "fsdp.duckdb")
    (folder / "manifest.json").write_text(json.dumps(manifest_dict()))
    apply_role_views(folder / "fsdp.duckdb", folder / "manifest.json")
    return folder / "fsdp.duckdb"


def test_apply_creates_one_view_per_role_and_a_public_one(applied, warehouse):
    assert sorted(applied["views"]) == sorted(f"{s}.customer_overview_dp" for s in SCHEMAS)
    views = read(warehouse, "select schema_name, comment from duckdb_views() where not internal")
    assert sorted(views) == sorted((s, MARKER) for s in SCHEMAS)


@pytest.mark.parametrize("col", [*MASKED, "cust_dob"])
@pytest.mark.parametrize("schema", SCHEMAS)
def test_every_role_view_shows_each_tagged_column_as_its_policy_says(shared, schema, col):
    mask_fn, dob_fn = EXPECTED[schema]
    fn = dob_fn if col == "cust_dob" else mask_fn
    assert column(shared, schema, col) == [fn(c[col]) for c in CUSTOMERS]


@pytest.mark.parametrize("schema", [s for s in SCHEMAS if s != "role_pii_reader"])
def test_no_clear_pii_value_appears_anywhere_in_a_restricted_view(shared, schema):
    clear = {str(c[col]) for c in CUSTOMERS for col in [*MASKED, "cust_dob"] if c[col] is not None}
    seen = {str(v) for row in read(shared, f"select * from {schema}.customer_overview_dp") for v in row}
    assert not clear & seen


def test_untagged_columns_are_readable_in_every_view(shared):
    for schema in SCHEMAS:
        assert column(shared, schema, "cust_segment") == [c["cust_segment"] for c in CUSTOMERS]


def test_hashed_values_in_the_views_equal_the_python_hash_the_data_api_uses(shared):
    assert column(shared, "role_public", "email_addr")[0] == hash_value("asha.rao@example.com")
    assert column(shared, "role_public", "cust_first_name")[2] is None  # NULL stays NULL


def test_applying_twice_gives_the_same_views(applied, warehouse, manifest_path):
    before = read(warehouse, "select schema_name, view_name, sql from duckdb_views() where not internal order by all")
    assert apply_role_views(warehouse, manifest_path) == applied
    assert read(warehouse, "select schema_name, view_name, sql from duckdb_views() where not internal order by all") == before


def test_a_new_column_reaches_the_views_only_on_reapply_and_then_masked_if_tagged(applied, warehouse, tmp_path):
    with duckdb.connect(str(warehouse)) as con:
        con.execute("alter table fs_accelerator.customer_overview_dp add column pan_number varchar default 'ABCDE1234F'")
        con.execute("alter table fs_accelerator.customer_overview_dp add column cust_nickname varchar default 'Ash'")
    # Regression: a `select *` view would serve the new PII column in clear until someone noticed
    with pytest.raises(duckdb.BinderException):
        read(warehouse, "select pan_number from role_public.customer_overview_dp")
    manifest = tmp_path / "manifest-v2.json"
    manifest.write_text(json.dumps(manifest_dict({**COLUMN_TAGS, "pan_number": ["TW.mask"], "cust_nickname": []})))
    apply_role_views(warehouse, manifest)
    assert set(column(warehouse, "role_restricted_access", "pan_number")) == {hash_value("ABCDE1234F")}
    assert set(column(warehouse, "role_restricted_access", "cust_nickname")) == {"Ash"}
    assert set(column(warehouse, "role_pii_reader", "pan_number")) == {"ABCDE1234F"}


def test_a_role_removed_from_the_catalog_loses_its_view_and_other_views_are_untouched(applied, warehouse, manifest_path, tmp_path):
    with duckdb.connect(str(warehouse)) as con:
        con.execute("create view role_public.my_notes as select 1 as x")
    policies = Path(shutil.copytree(POLICIES_DIR, tmp_path / "policies"))
    (policies / "customerbucketdob.yaml").unlink()
    catalog = yaml.safe_load((policies / "roles.yaml").read_text())
    catalog["roles"] = [r for r in catalog["roles"] if r["tag"] != "roles:id:dob-bucketing"]
    (policies / "roles.yaml").write_text(yaml.safe_dump(catalog))
    summary = apply_role_views(warehouse, manifest_path, policies_dir=policies)
    assert summary["dropped"] == ["role_dob_bucketing.customer_overview_dp"]
    assert sorted(r[0] for r in read(warehouse, "select view_name from duckdb_views() where schema_name = 'role_public'")) == [
        "customer_overview_dp", "my_notes"]


def test_a_tagged_column_missing_from_the_table_is_a_clear_error(warehouse, tmp_path):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(manifest_dict({**COLUMN_TAGS, "pan_number": ["TW.mask"]})))
    with pytest.raises(GovernanceError, match="fs_accelerator.customer_overview_dp has no column pan_number"):
        apply_role_views(warehouse, manifest)


def test_a_missing_warehouse_file_is_a_clear_error_and_is_not_created(tmp_path, manifest_path):
    with pytest.raises(GovernanceError, match="DuckDB file not found"):
        apply_role_views(tmp_path / "nope.duckdb", manifest_path)
    assert not (tmp_path / "nope.duckdb").exists()


def test_dry_run_returns_the_statements_and_writes_nothing(warehouse, manifest_path):
    summary = apply_role_views(warehouse, manifest_path, dry_run=True)
    assert any('sha256(cast("email_addr" as varchar)) as "email_addr"' in s for s in summary["sql"])
    assert read(warehouse, "select count(*) from duckdb_views() where not internal") == [(0,)]
