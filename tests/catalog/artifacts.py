"""Real dbt artifacts (manifest, catalog, run_results) of a tiny dbt-duckdb project, plus Soda results.

The catalog tests need artifacts that dbt itself wrote (the SDK's dbt ingestion parses them
strictly), but not the whole pipeline: this project has the product's shape - landing sources,
raw models in fs_accelerator, a staging view, the four *_dp tables, a quarantine table, TW.mask /
TW.dob column tags - on a handful of columns. Built with the main venv's dbt (dbt-duckdb):

    .venv/bin/python -m tests.catalog.artifacts DIR     # writes DIR/target/*.json, DIR/soda/*.json
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

LANDING = {
    "customers": "cust_id varchar, cust_dob varchar, email_addr varchar, mobile_number1 varchar, city varchar",
    "customer_updates": "cust_id varchar, cust_dob varchar, email_addr varchar, mobile_number1 varchar, city varchar",
    "products": "product_id varchar, product_name varchar",
    "accounts": "account_id varchar, cust_id varchar, product_id varchar",
    "transactions": "txn_id varchar, account_id varchar, txn_amount varchar",
}

MODELS = {
    "raw/customer_overview_raw.sql": """
        select cust_id, cust_dob, email_addr, mobile_number1, city, 'customers' as _record_id
        from {{ source('landing', 'customers') }}
        union all
        select cust_id, cust_dob, email_addr, mobile_number1, city, 'customer_updates'
        from {{ source('landing', 'customer_updates') }}""",
    "raw/product_raw.sql": "select * from {{ source('landing', 'products') }}",
    "raw/account_raw.sql": "select * from {{ source('landing', 'accounts') }}",
    "raw/transaction_raw.sql": "select * from {{ source('landing', 'transactions') }}",
    "staging/stg_landing__customers.sql": """
        select cust_id, cast(cust_dob as date) as cust_dob, email_addr, mobile_number1, city
        from {{ ref('customer_overview_raw') }}""",
    "quarantine/customer_overview_rejected.sql": """
        select cust_id, 'bad dob' as failed_rule from {{ ref('customer_overview_raw') }} where cust_dob is null""",
    "marts/customer_overview_dp.sql": "select * from {{ ref('stg_landing__customers') }}",
    "marts/product_dp.sql": "select product_id, product_name from {{ ref('product_raw') }}",
    "marts/account_dp.sql": """
        select account_id, cust_id, product_id, cast(1000.5 as decimal(18, 2)) as balance,
               ['savings'] as features
        from {{ ref('account_raw') }}""",
    "marts/transaction_dp.sql": """
        select txn_id, account_id, cast(txn_amount as decimal(18, 2)) as txn_amount,
               current_timestamp as loaded_at
        from {{ ref('transaction_raw') }}""",
}

SCHEMA_YML = """
version: 2
sources:
  - name: landing
    schema: landing
    description: The landing container (CSV, all text).
    tables:
      - name: customers
        description: Customer base landed per day.
        columns:
          - name: cust_id
            description: Customer id, 10 digits.
      - name: customer_updates
      - name: products
      - name: accounts
      - name: transactions
models:
  - name: customer_overview_raw
    description: Every customer version ever landed.
  - name: customer_overview_dp
    description: One row per customer, its latest valid version.
    columns:
      - name: cust_id
        description: Customer id.
        data_tests: [not_null, unique]
      - name: cust_dob
        description: Date of birth.
        tags: [TW.dob]
      - name: email_addr
        description: E-mail address.
        tags: [TW.mask]
      - name: mobile_number1
        description: Mobile number.
        tags: [TW.mask]
      - name: city
        description: City of residence.
  - name: account_dp
    description: One row per account.
"""

DBT_PROJECT = """
name: fsdp
version: "1.0.0"
config-version: 2
profile: fsdp
models:
  fsdp:
    raw: {+materialized: table, +schema: fs_accelerator}
    staging: {+materialized: view}
    quarantine: {+materialized: table, +schema: fs_accelerator}
    marts: {+materialized: table, +schema: fs_accelerator}
flags:
  send_anonymous_usage_stats: false
"""

# the real project's rule: a custom schema is used as is, not prefixed with the target schema
SCHEMA_MACRO = """
{% macro generate_schema_name(custom_schema_name, node) -%}
  {{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
"""

SCAN_TS = "2026-01-05T00:00:00+00:00"


def soda_scan() -> dict:
    """A Soda Core scan result (Scan.get_scan_results() shape) on customer_overview_dp."""
    def check(name, column, outcome, value):
        return {"identity": f"fsdp-customer_overview_dp-{name}", "name": name, "type": "generic",
                "definition": f"checks for customer_overview_dp:\n  - {name}", "dataSource": "fsdp",
                "table": "customer_overview_dp", "filter": None, "column": column, "metrics": [],
                "outcome": outcome, "outcomeReasons": [], "archetype": None, "diagnostics": {"value": value}}
    return {
        "definitionName": "fsdp_customer_overview_dp", "defaultDataSource": "fsdp",
        "dataTimestamp": SCAN_TS, "scanStartTimestamp": SCAN_TS, "scanEndTimestamp": "2026-01-05T00:00:03+00:00",
        "hasErrors": False, "hasWarnings": False, "hasFailures": True, "metrics": [],
        "checks": [check("row_count > 0", None, "pass", 3),
                   check("duplicate_count(cust_id) = 0", "cust_id", "pass", 0),
                   check("missing_count(email_addr) = 0", "email_addr", "fail", 1)],
        "profiling": [{"table": "customer_overview_dp", "dataSource": "fsdp", "rowCount": 3, "columnProfiles": [
            {"columnName": "cust_id", "profile": {"distinct": 3, "missing_count": 0, "min_length": 10,
                                                  "max_length": 10, "avg_length": 10}},
            {"columnName": "city", "profile": {"distinct": 2, "missing_count": 1, "frequent_values": []}},
            {"columnName": "not_a_column", "profile": {"distinct": 1}},
        ]}],
        "metadata": [], "logs": [], "queries": [], "automatedMonitoringChecks": [],
    }


def build(out: Path) -> Path:
    """Write the project, build it with dbt, and return out (target/ and soda/ inside)."""
    import duckdb

    project = out / "project"
    for rel, sql in MODELS.items():
        (project / "models" / rel).parent.mkdir(parents=True, exist_ok=True)
        (project / "models" / rel).write_text(textwrap.dedent(sql).strip() + "\n")
    (project / "models" / "schema.yml").write_text(SCHEMA_YML)
    (project / "macros").mkdir(exist_ok=True)
    (project / "macros" / "schema.sql").write_text(SCHEMA_MACRO)
    (project / "dbt_project.yml").write_text(DBT_PROJECT)
    db = out / "fsdp.duckdb"
    (project / "profiles.yml").write_text(
        f"fsdp:\n  target: duckdb\n  outputs:\n    duckdb:\n      type: duckdb\n      path: '{db}'\n      threads: 1\n")
    con = duckdb.connect(str(db))
    con.execute("create schema if not exists landing")
    for table, cols in LANDING.items():
        con.execute(f"create or replace table landing.{table} ({cols})")
    con.execute("insert into landing.customers values ('1000000001', '1985-03-01', 'a@x.com', '9000000001', 'Pune'),"
                " ('1000000002', '1990-01-01', 'b@x.com', '9000000002', 'Delhi')")
    con.execute("insert into landing.products values ('P1', 'Gold card')")
    con.execute("insert into landing.accounts values ('A1', '1000000001', 'P1')")
    con.execute("insert into landing.transactions values ('T1', 'A1', '12.50')")
    con.close()
    dbt = str(Path(sys.executable).with_name("dbt"))
    env = {**os.environ, "DBT_SEND_ANONYMOUS_USAGE_STATS": "False"}
    target = out / "target"
    for args in (["build"], ["docs", "generate"]):
        subprocess.run([dbt, "--quiet", *args, "--project-dir", str(project), "--profiles-dir", str(project),
                        "--target-path", str(target)], check=True, env=env, cwd=project)
        if args == ["build"]:
            # docs generate overwrites run_results.json with its own; keep build's for the ingestion
            (target / "run_results.json").replace(target / "build_run_results.json")
    (target / "build_run_results.json").replace(target / "run_results.json")
    soda = out / "soda"
    soda.mkdir(exist_ok=True)
    (soda / "customer_overview_dp.json").write_text(json.dumps(soda_scan()))
    return out


if __name__ == "__main__":
    build(Path(sys.argv[1]))
