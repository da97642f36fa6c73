"""Fixtures: a tiny dbt-manifest-like file and a tiny DuckDB warehouse shaped like
fs_accelerator.customer_overview_dp, so these tests never wait for the real dbt project."""
from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import duckdb
import pytest

from include.governance.manifest import all_column_tags
from include.governance.policy import load_policy_set

MASKED = ["cust_first_name", "cust_middle_name", "cust_last_name", "email_addr", "mobile_number1",
          "customer_addressline1", "customer_addressline2", "customer_addressline3"]
# Column tags as the dbt model's YAML declares them (the real ones come from the manifest).
COLUMN_TAGS = {"cust_id": [], **{c: ["TW.mask"] for c in MASKED}, "cust_dob": ["TW.dob"], "cust_segment": []}

CUSTOMERS = [
    {"cust_id": "1000000001", "cust_first_name": "Asha", "cust_middle_name": None, "cust_last_name": "Rao",
     "email_addr": "asha.rao@example.com", "mobile_number1": "9876543210",
     "customer_addressline1": "12 MG Road", "customer_addressline2": "Indiranagar",
     "customer_addressline3": None, "cust_dob": date(1990, 5, 17), "cust_segment": "Urban"},
    {"cust_id": "1000000002", "cust_first_name": "Ravi", "cust_middle_name": "Kumar", "cust_last_name": "Iyer",
     "email_addr": "ravi.iyer@example.com", "mobile_number1": "9123456780",
     "customer_addressline1": "4 Park Street", "customer_addressline2": "Kolkata",
     "customer_addressline3": "West Bengal", "cust_dob": date(1985, 12, 31), "cust_segment": "Rural"},
    {"cust_id": "1000000003", "cust_first_name": None, "cust_middle_name": None, "cust_last_name": None,
     "email_addr": None, "mobile_number1": None, "customer_addressline1": None,
     "customer_addressline2": None, "customer_addressline3": None, "cust_dob": None, "cust_segment": "Semi-Urban"},
]


def manifest_dict(column_tags: dict[str, list[str]] = COLUMN_TAGS, schema: str = "fs_accelerator") -> dict:
    """The slice of a dbt manifest the governance package reads."""
    return {
        "metadata": {"project_name": "fsdp"},
        "nodes": {
            "model.fsdp.customer_overview_dp": {
                "resource_type": "model", "name": "customer_overview_dp", "package_name": "fsdp",
                "schema": schema, "alias": "customer_overview_dp",
                "columns": {c: {"name": c, "tags": tags} for c, tags in column_tags.items()},
            },
            "model.fsdp.stg_customers": {
                "resource_type": "model", "name": "stg_customers", "package_name": "fsdp",
                "schema": "staging", "alias": "stg_customers", "columns": {"cust_id": {"tags": []}},
            },
        },
    }


@pytest.fixture
def manifest_path(tmp_path) -> Path:
    path = tmp_path / "manifest.json"
    path.write_text(json.dumps(manifest_dict()))
    return path


@pytest.fixture(scope="session")
def policy_set():
    """The project's policies, validated against the fixture's column tags."""
    return load_policy_set(all_column_tags(manifest_dict()))


def create_customers(db: Path, rows: list[dict] = CUSTOMERS) -> None:
    with duckdb.connect(str(db)) as con:
        con.execute("create schema if not exists fs_accelerator")
        cols = ", ".join(f"{c} {'date' if c == 'cust_dob' else 'varchar'}" for c in COLUMN_TAGS)
        con.execute(f"create or replace table fs_accelerator.customer_overview_dp ({cols})")
        con.executemany(f"insert into fs_accelerator.customer_overview_dp values ({', '.join('?' * len(COLUMN_TAGS))})",
                        [[r[c] for c in COLUMN_TAGS] for r in rows])


@pytest.fixture
def warehouse(tmp_path) -> Path:
    """A DuckDB file holding fs_accelerator.customer_overview_dp with three customers."""
    db = tmp_path / "fsdp.duckdb"
    create_customers(db)
    return db
