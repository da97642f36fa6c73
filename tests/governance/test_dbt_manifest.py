"""Column tags read from a real dbt manifest: `dbt parse` on a tiny project when none exists."""
from __future__ import annotations

import pytest

from include.governance.manifest import all_column_tags, load_manifest, model_columns

pytestmark = pytest.mark.integration


def test_a_missing_manifest_is_written_by_dbt_parse_and_carries_the_column_tags(tmp_path, monkeypatch):
    monkeypatch.delenv("DBT_PROFILES_DIR", raising=False)
    (tmp_path / "models").mkdir()
    (tmp_path / "dbt_project.yml").write_text('name: tiny\nversion: "1.0.0"\nconfig-version: 2\nprofile: tiny\n')
    (tmp_path / "profiles.yml").write_text(
        f"tiny:\n  target: dev\n  outputs:\n    dev:\n      type: duckdb\n      path: {tmp_path / 'tiny.duckdb'}\n")
    (tmp_path / "models" / "customer_overview_dp.sql").write_text(
        "select 'Asha' as cust_first_name, date '1990-05-17' as cust_dob, 1 as cust_id\n")
    (tmp_path / "models" / "_models.yml").write_text(
        "models:\n  - name: customer_overview_dp\n    columns:\n"
        "      - {name: cust_first_name, tags: [TW.mask]}\n      - {name: cust_dob, tags: [TW.dob]}\n"
        "      - {name: cust_id}\n")
    manifest = load_manifest(project_dir=tmp_path)
    assert (tmp_path / "target" / "manifest.json").exists()
    model = model_columns(manifest, "customer_overview_dp")
    assert model.column_tags == {"cust_first_name": {"TW.mask"}, "cust_dob": {"TW.dob"}, "cust_id": frozenset()}
    assert all_column_tags(manifest) == {"TW.mask": ["customer_overview_dp.cust_first_name"],
                                         "TW.dob": ["customer_overview_dp.cust_dob"]}
