"""The dbt project reads the landing contract from its one declaration (include/mockgen/schema.py):
the generated sources and the generated declaration macro are exactly what the declaration gives."""
from __future__ import annotations

import yaml

from include.mockgen.schema import ENTITIES, allowed_values, dbt_sources, generated_files


def test_generated_dbt_files_are_the_declarations():
    # Regression: the sources YAML was "generated once" and then edited by hand, so nothing kept the
    # contract, the dbt sources and the rules derived from them in step.
    for path, text in generated_files().items():
        assert path.read_text() == text, f"{path} is stale: run python -m include.mockgen.schema"


def test_sources_declare_the_landing_contract_columns_in_file_order():
    (path, text), = [(p, t) for p, t in generated_files().items() if p.suffix == ".yml"]
    doc = yaml.safe_load(text)
    assert doc == dbt_sources()
    tables = {t["name"]: [c["name"] for c in t["columns"]] for t in doc["sources"][0]["tables"]}
    assert tables == {name: entity.column_names for name, entity in ENTITIES.items()}


def test_every_source_has_freshness_and_a_loaded_at_field():
    source = dbt_sources()["sources"][0]
    assert source["freshness"]["error_after"]
    # the newest landed file's time (a listing), not a column: a query over the files reads every one
    # of them, and fails when an entity has no file yet (dbt then reports no result at all)
    assert all(t.get("config", {}).get("loaded_at_query") for t in source["tables"]), [
        t["name"] for t in source["tables"] if not t.get("config", {}).get("loaded_at_query")]


def test_every_source_column_declares_the_type_it_is_read_as():
    # every column is read as text (all_varchar); declared, so the catalog shows it (not UNKNOWN)
    doc = dbt_sources()
    types = {c.get("data_type") for t in doc["sources"][0]["tables"] for c in t["columns"]}
    assert types == {"varchar"}


def test_zone_and_every_enumerated_column_declare_their_allowed_values():
    # Regression: zone had no cleansing rule at all, and bad zones reached customer_overview_dp.
    allowed = allowed_values()
    assert allowed["zone"] == ("North", "South", "East", "West", "Central", "Overseas")
    assert {"customer_privilege", "affluence_level"} <= set(allowed)   # staged names (D8)
