"""The plan: every table, column, tag, edge and Soda result the push sends, read from the artifacts."""
from __future__ import annotations

import json

import pytest
import yaml

from include.catalog import plan as p

SEED_DP = {  # the seed's "Deploy" manifest (docs/reference-design.md, document A), the fields the catalog mirrors
    "name": "customer-overview-dp", "domain": "financial-services",
    "input": "customer_overview", "output": "Data Product Dataset",
    "resource": ("Data Product pipeline", "build the data product's data set", "workflow"),
}


@pytest.fixture(scope="module")
def built(catalog_artifacts):
    t = catalog_artifacts / "target"
    return p.build_plan(t / "manifest.json", t / "catalog.json", catalog_artifacts / "soda")


def test_data_product_manifest_mirrors_the_seed():
    dp = p.load_dp_manifest()
    assert dp["name"] == SEED_DP["name"] and dp["version"] == "v1alpha"
    assert dp["domain"]["name"] == SEED_DP["domain"]
    assert dp["inputs"][0]["description"] == SEED_DP["input"] and dp["inputs"][0]["purpose"] == "source"
    assert dp["outputs"][0] == {"description": SEED_DP["output"], "purpose": "consumption",
                                "ref": "model: customer_overview_dp"}
    res = dp["resources"][0]
    assert (res["description"], res["purpose"], res["type"]) == SEED_DP["resource"]
    assert dp["description"].startswith("A unified, accurate, and persistent set of identifiers")


def test_every_relation_dbt_knows_is_planned_with_warehouse_columns(built, catalog_artifacts):
    catalog = json.loads((catalog_artifacts / "target" / "catalog.json").read_text())
    assert set(built.tables) == set(catalog["nodes"]) | set(catalog["sources"])
    dp = built.tables["model.fsdp.customer_overview_dp"]
    assert (dp.database, dp.schema, dp.name, dp.kind) == ("fsdp", "fs_accelerator", "customer_overview_dp", "table")
    assert [c.name for c in dp.columns] == ["cust_id", "cust_dob", "email_addr", "mobile_number1", "city"]
    assert dp.columns[1].data_type == "DATE"
    assert built.tables["source.fsdp.landing.customers"].kind == "source"


def test_dbt_column_tags_map_to_openmetadata_tags(built):
    cols = {c.name: c for c in built.tables["model.fsdp.customer_overview_dp"].columns}
    assert cols["email_addr"].dbt_tags == ("TW.mask",) and cols["email_addr"].om_tags == ("PII.Sensitive",)
    assert cols["cust_dob"].om_tags == ("DataProtection.DateOfBirth",)
    assert cols["cust_id"].om_tags == ()


def test_tag_mapping_ignores_case_and_keeps_one_label_per_tag():
    assert p._column_tags(["tw.MASK", "TW.mask", "other"], {"TW.mask": "PII.Sensitive"}) == ("PII.Sensitive",)


def test_edges_follow_dbt_dependencies_and_link_same_named_columns(built):
    edges = {(e.upstream, e.downstream): e for e in built.edges}
    e = edges[("model.fsdp.stg_landing__customers", "model.fsdp.customer_overview_dp")]
    assert e.columns == tuple((c, c) for c in ("cust_id", "cust_dob", "email_addr", "mobile_number1", "city"))
    raw = edges[("source.fsdp.landing.customers", "model.fsdp.customer_overview_raw")]
    assert ("cust_id", "cust_id") in raw.columns and all(d != "_record_id" for _, d in raw.columns)
    assert len(built.edges) == 13


def test_quality_results_are_attached_to_the_checked_table_at_the_runs_logical_date(built):
    # the gate's file (2026-01-05) and a raw Soda scan result (2026-01-04) are both read
    assert {(c.table.split(".")[-1], c.check, c.outcome, c.timestamp_ms) for c in built.checks} == {
        ("customer_overview_dp", "row_count_positive", "pass", 1767571200000),
        ("customer_overview_dp", "cust_id_unique", "pass", 1767571200000),
        ("customer_overview_dp", "email_addr_not_null", "fail", 1767571200000),
        ("product_dp", "row_count > 0", "pass", 1767484800000)}
    assert {c.check: c.name for c in built.checks}["cust_id_unique"] == "soda_customer_overview_dp_cust_id_unique"


def test_full_profiles_become_table_profiles_with_known_columns_only(built):
    profiles = {p.table.split(".")[-1]: p for p in built.profiles}
    dp = profiles["customer_overview_dp"]
    assert (dp.row_count, dp.timestamp_ms) == (3, 1767571200000)
    # the filtered profile describes a slice: not the table's profile; not_a_column is not in the table
    city = {c["name"]: c for c in dp.columns}["city"]
    assert [c["name"] for c in dp.columns] == ["cust_id", "city"]
    assert (city["nullCount"], city["valuesCount"], city["distinctCount"]) == (1, 2, 2)
    assert profiles["product_dp"].columns[0]["minLength"] == 2


def test_the_same_run_read_twice_yields_each_result_once(built, catalog_artifacts):
    scans = p.load_soda_scans(catalog_artifacts / "soda")
    checks, profiles = p.plan_quality(scans + scans, built.tables, "fs_accelerator", [])
    assert len(checks) == len(built.checks) == 4 and len(profiles) == 2


def test_soda_results_on_unknown_tables_are_skipped_with_a_warning(built):
    warnings: list[str] = []
    scan = {"dataTimestamp": "2026-01-05T00:00:00+00:00",
            "checks": [{"name": "row_count > 0", "table": "nope", "outcome": "pass"}]}
    checks, _ = p.plan_quality([scan], built.tables, "fs_accelerator", warnings)
    assert checks == [] and "unknown table `nope`" in warnings[0]


def test_soda_files_may_hold_one_scan_a_list_or_a_scans_object(tmp_path):
    scan = {"checks": [], "profiling": []}
    (tmp_path / "a.json").write_text(json.dumps(scan))
    (tmp_path / "b.json").write_text(json.dumps([scan, scan]))
    (tmp_path / "c.json").write_text(json.dumps({"scans": [scan]}))
    (tmp_path / "d.json").write_text(json.dumps({"unrelated": True}))
    assert len(p.load_soda_scans(tmp_path)) == 4


def test_a_data_product_manifest_naming_a_missing_model_fails_the_plan(catalog_artifacts, tmp_path):
    dp = yaml.safe_load(p.DEFAULT_DP_MANIFEST.read_text())
    dp["outputs"].append({"description": "gone", "purpose": "consumption", "ref": "model: renamed_dp"})
    (tmp_path / "dp.yaml").write_text(yaml.safe_dump(dp))
    t = catalog_artifacts / "target"
    with pytest.raises(KeyError, match="model: renamed_dp"):
        p.build_plan(t / "manifest.json", t / "catalog.json", None, tmp_path / "dp.yaml")


def test_without_catalog_json_types_come_from_the_manifest(catalog_artifacts):
    t = catalog_artifacts / "target"
    built = p.build_plan(t / "manifest.json", None, None)
    assert "no dbt catalog.json" in built.warnings[0]
    dp = built.tables["model.fsdp.customer_overview_dp"]
    assert {c.data_type for c in dp.columns} == {"UNKNOWN"}


def test_metrics_are_planned_with_the_tables_they_are_computed_on(built):
    # Regression: a ratio reads other metrics, not a semantic model: its tables come through them
    metrics = {m.name: m for m in built.metrics}
    assert set(metrics) == {"transaction_amount", "transaction_count", "average_ticket"}
    assert all(m.tables == ("model.fsdp.transaction_dp",) for m in metrics.values())
    assert (metrics["average_ticket"].type, metrics["average_ticket"].label) == ("ratio", "Average ticket")


def test_source_freshness_becomes_one_check_per_landed_source_at_the_runs_logical_date(catalog_artifacts, tmp_path):
    t = catalog_artifacts / "target"
    fresh = tmp_path / "freshness.json"
    fresh.write_text(json.dumps({"logical_date": "2026-03-02", "as_of": "2026-03-03T01:00:00Z", "sources": [
        {"source": "landing", "table": "customers", "status": "pass", "age_hours": 1.5, "criteria": "1 day / 3 day"},
        {"source": "landing", "table": "transactions", "status": "error", "age_hours": 80.0, "criteria": "1 day / 3 day"},
        {"source": "landing", "table": "customer_updates", "status": "never landed", "age_hours": None}]}))
    built = p.build_plan(t / "manifest.json", t / "catalog.json", None, freshness_path=fresh)
    checks = {c.name: c for c in built.checks if c.kind == "freshness"}
    assert set(checks) == {"dbt_freshness_landing_customers", "dbt_freshness_landing_transactions"}
    assert checks["dbt_freshness_landing_transactions"].outcome == "fail"
    assert checks["dbt_freshness_landing_customers"].table == "source.fsdp.landing.customers"
    assert {c.timestamp_ms for c in checks.values()} == {p._iso_to_ms("2026-03-02T00:00:00+00:00")}
