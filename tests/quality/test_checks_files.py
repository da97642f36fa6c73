"""The checks folder stays in step with the dbt project: one file per product table, every
categorical column checked against dbt's allowed values, the schema contract equal to the
model's columns, and only one module importing Soda."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
import yaml

from include.quality.gate import CHECKS_DIR, LANDING_TABLES, PRODUCT_TABLES
from include.mockgen.schema import allowed_values
from tests.quality import warehouse

ROOT = Path(__file__).resolve().parents[2]
DBT = ROOT / "dbt_project"


def _checks(table: str) -> list[tuple[str, dict]]:
    doc = yaml.safe_load((CHECKS_DIR / f"{table}.yml").read_text())
    assert list(doc) == [f"checks for {table}"]
    out = []
    for item in doc[f"checks for {table}"]:
        (key, config), = item.items()
        out.append((key, config or {}))
    return out


def dbt_allowed_values() -> dict[str, list[str]]:
    """dbt's allowed values per staged column: the landing contract's declaration, which dbt reads
    (macros/generated/landing_declaration.sql, generated from it)."""
    return {column: list(values) for column, values in allowed_values().items()}


def dbt_model_columns(model: str) -> list[str]:
    """Output columns of a mart, from its `final as (select ... from ...)` CTE."""
    sql = (DBT / "models" / "marts" / f"{model}.sql").read_text()
    body = re.search(r"final as \(\s*select(.*?)\n\s*from ", sql, re.S).group(1)
    return [re.search(r"(\w+)\s*$", line.strip().rstrip(",")).group(1)
            for line in body.splitlines() if line.strip()]


def test_one_checks_file_per_product_table_and_the_landing_ledger():
    assert sorted(p.stem for p in CHECKS_DIR.glob("*.yml")) == sorted(PRODUCT_TABLES + LANDING_TABLES)


@pytest.mark.parametrize("table", PRODUCT_TABLES)
def test_every_check_has_a_unique_name(table):
    names = [config.get("name") for _, config in _checks(table)]

    assert all(names), "every check needs a name: the gate reports failures by name"
    assert len(names) == len(set(names))
    assert all(re.fullmatch(r"[a-z0-9_]+", n) for n in names)


@pytest.mark.parametrize("table", PRODUCT_TABLES)
def test_every_categorical_column_is_checked_against_dbts_allowed_values(table):
    allowed = dbt_allowed_values()
    columns = {c for c, _ in warehouse.columns_of(table)}
    checked = {re.fullmatch(r"invalid_count\((\w+)\) = 0", key).group(1): config["valid values"]
               for key, config in _checks(table) if "valid values" in config}

    categorical = columns & set(allowed)
    assert categorical <= set(checked), f"unchecked categorical columns: {sorted(categorical - set(checked))}"
    for column in categorical:
        assert checked[column] == allowed[column], column


@pytest.mark.parametrize("table", PRODUCT_TABLES)
def test_schema_contract_and_fixture_match_the_dbt_model(table):
    business = [c for c in dbt_model_columns(table) if not c.startswith("_")]
    schema = next(config for key, config in _checks(table) if key == "schema")

    assert schema["fail"]["when required column missing"] == business
    assert [c for c, _ in warehouse.columns_of(table) if not c.startswith("_")] == business


def test_only_soda_runner_imports_soda():
    importers = []
    for path in (ROOT / "include").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            if any(n == "soda" or n.startswith("soda.") for n in names):
                importers.append(path.relative_to(ROOT).as_posix())
    assert sorted(set(importers)) == ["include/quality/soda_runner.py"]


def test_importing_the_package_does_not_import_soda():
    import subprocess
    import sys

    code = "import sys, include.quality; print(any(m == 'soda' or m.startswith('soda.') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "False"


def test_readme_maps_every_seed_assertion_to_an_existing_check():
    readme = (ROOT / "include" / "quality" / "README.md").read_text()
    section = readme.split("## Seed assertions and the checks that replace them", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `") or line.startswith("| (")]
    names = {config["name"] for _, config in _checks("customer_overview_dp")}

    # the seed's six asserted columns, each with its tests
    for column in ("cust_id", "cust_segment", "sourcing_channel", "customer_risk_category", "customer_category",
                   "customer_privelege"):
        assert any(row.startswith(f"| `{column}`") for row in rows), column
    for row in rows:
        kept = re.findall(r"`([a-z_]+)`", row.rsplit("|", 2)[1])
        assert kept and set(kept) <= names, row


def test_soda_is_loaded_with_telemetry_off():
    # Regression: Soda Core sends OpenTelemetry usage spans by default (the pipeline runs offline)
    from include.quality import soda_runner

    soda_runner._load_soda()
    from soda.telemetry.soda_telemetry import SodaTelemetry

    assert SodaTelemetry.get_instance()._SodaTelemetry__send is False
