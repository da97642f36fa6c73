"""The dbt sources declare exactly the landing contract's columns (include/mockgen/schema.py)."""
from __future__ import annotations

from pathlib import Path

import yaml

from include.mockgen.schema import ENTITIES

SOURCES = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "raw" / "_landing__sources.yml"


def test_sources_declare_the_landing_contract_columns_in_file_order():
    doc = yaml.safe_load(SOURCES.read_text())
    tables = {t["name"]: [c["name"] for c in t["columns"]] for t in doc["sources"][0]["tables"]}
    assert tables == {name: entity.column_names for name, entity in ENTITIES.items()}


def test_every_source_has_freshness_and_a_loaded_at_field():
    source = yaml.safe_load(SOURCES.read_text())["sources"][0]
    assert source["freshness"]["error_after"]
    # the newest landed file's time (a listing), not a column: a query over the files reads every one
    # of them, and fails when an entity has no file yet (dbt then reports no result at all)
    assert all(t.get("config", {}).get("loaded_at_query") for t in source["tables"]), [
        t["name"] for t in source["tables"] if not t.get("config", {}).get("loaded_at_query")]


def test_every_source_column_declares_the_type_it_is_read_as():
    # every column is read as text (all_varchar); declared, so the catalog shows it (not UNKNOWN)
    doc = yaml.safe_load(SOURCES.read_text())
    types = {c.get("data_type") for t in doc["sources"][0]["tables"] for c in t["columns"]}
    assert types == {"varchar"}
