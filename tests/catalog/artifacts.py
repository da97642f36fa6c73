"""Real dbt artifacts (manifest, catalog, run_results) of a tiny dbt-duckdb project, plus quality results.

The catalog tests need artifacts that dbt itself wrote (the SDK's dbt ingestion parses them
strictly), but not the whole pipeline: this project has the product's shape - landing sources,
raw models in fs_accelerator, a staging view, the five *_dp tables, a quarantine table, TW.mask /
TW.dob column tags, a MetricFlow semantic model with simple and ratio metrics - on a handful of columns. Built with the main venv's dbt (dbt-duckdb):

    .venv/bin/python -m tests.catalog.artifacts DIR     # writes DIR/target/*.json, DIR/soda/<date>/*.json
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
    "campaign_events": "event_id varchar, cust_id varchar, stage varchar",
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
    "raw/campaign_event_raw.sql": "select * from {{ source('landing', 'campaign_events') }}",
    "staging/stg_landing__customers.sql": """
        select cust_id, cast(cust_dob as date) as cust_dob, email_addr, mobile_number1, city
        from {{ ref('customer_overview_raw') }}""",
    "quarantine/customer_overview_rejected.sql": """
        select cust_id, 'bad dob' as failed_rule from {{ ref('customer_overview_raw') }} where cust_dob is null""",
    "marts/customer_overview_dp.sql": "select * from {{ ref('stg_landing__customers') }}",
    # a renamed column: only the dbt ingestion's SQL parsing links it (the step merges its pairs)
    "marts/product_dp.sql": "select product_id, product_name as product_label from {{ ref('product_raw') }}",
    "marts/account_dp.sql": """
        select account_id, cust_id, product_id, cast(1000.5 as decimal(18, 2)) as balance,
               ['savings'] as features
        from {{ ref('account_raw') }}""",
    "marts/transaction_dp.sql": """
        select txn_id, account_id, cast(txn_amount as decimal(18, 2)) as txn_amount,
               current_timestamp as loaded_at
        from {{ ref('transaction_raw') }}""",
    "marts/campaign_event_dp.sql": "select * from {{ ref('campaign_event_raw') }}",
    # the semantic layer's shape: a time spine and a semantic model with metrics (MetricFlow)
    "marketplace/metricflow_time_spine.sql": """
        select cast(range as date) as date_day
        from range(date '2025-12-01', date '2026-02-01', interval 1 day)""",
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
      - name: campaign_events
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
  - name: metricflow_time_spine
    description: One row per day.
    time_spine:
      standard_granularity_column: date_day
    columns:
      - name: date_day
        description: One calendar day.
        granularity: day
semantic_models:
  - name: transactions
    description: One row per transaction.
    model: ref('transaction_dp')
    defaults:
      agg_time_dimension: loaded_at
    entities:
      - {name: transaction, type: primary, expr: txn_id}
      - {name: account, type: foreign, expr: account_id}
    dimensions:
      - {name: loaded_at, type: time, type_params: {time_granularity: day}}
    measures:
      - {name: txn_amount_total, agg: sum, expr: txn_amount, description: "Sum of amounts."}
      - {name: txn_count, agg: count, expr: txn_id, description: "Transactions."}
metrics:
  - name: transaction_amount
    label: Transaction amount
    description: Sum of transaction amounts.
    type: simple
    type_params: {measure: txn_amount_total}
  - name: transaction_count
    label: Transactions
    description: Number of transactions.
    type: simple
    type_params: {measure: txn_count}
  - name: average_ticket
    label: Average ticket
    description: Average transaction amount.
    type: ratio
    type_params: {numerator: transaction_amount, denominator: transaction_count}
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
    marketplace: {+materialized: table, +schema: marketplace}
flags:
  send_anonymous_usage_stats: false
"""

# the real project's rule: a custom schema is used as is, not prefixed with the target schema
SCHEMA_MACRO = """
{% macro generate_schema_name(custom_schema_name, node) -%}
  {{ custom_schema_name | trim if custom_schema_name else target.schema }}
{%- endmacro %}
"""

def quality_gate_file() -> dict:
    """The pipeline's quality gate result for 2026-01-05 (include/quality/gate.py's JSON shape)."""
    def check(name, column, outcome, value):
        return {"dataset": "customer_overview_dp", "name": name, "outcome": outcome, "column": column,
                "value": value, "definition": f"checks for customer_overview_dp: {name}", "diagnostics": {}}

    def profile(column, **kw):
        base = {"dataset": "customer_overview_dp", "profile": "full", "row_filter": None, "row_count": 3,
                "column_name": column, "data_type": "VARCHAR", "null_count": 0, "null_pct": 0.0,
                "distinct_count": 3, "min": None, "max": None, "min_length": None, "max_length": None,
                "mean": None, "stddev": None, "quantiles": {}, "top_values": []}
        return {**base, **kw}
    return {
        "summary": {"run_id": "scheduled__2026-01-05T00:00:00+00:00", "logical_date": "2026-01-05", "ok": False,
                    "checks": 3, "failed": ["customer_overview_dp.email_addr_not_null"], "warnings": [],
                    "scan_errors": [], "profiles": 3, "json_path": None, "engine": "soda-core 3.5.6",
                    "checked_at": "2026-01-06 01:02:03"},
        "checks": [check("row_count_positive", None, "pass", 3.0), check("cust_id_unique", "cust_id", "pass", 0.0),
                   check("email_addr_not_null", "email_addr", "fail", 1.0)],
        "profiles": [profile("cust_id", min_length=10, max_length=10),
                     profile("city", null_count=1, null_pct=33.3, distinct_count=2),
                     profile("not_a_column"),
                     profile("city", profile="filtered", row_filter="city = 'Pune'", row_count=1)],
    }


def soda_scan() -> dict:
    """Soda Core's own scan result (Scan.get_scan_results() shape): product_dp on 2026-01-04."""
    ts = "2026-01-04T00:00:00+00:00"
    return {
        "definitionName": "fsdp_product_dp", "defaultDataSource": "fsdp",
        "dataTimestamp": ts, "scanStartTimestamp": ts, "scanEndTimestamp": "2026-01-04T00:00:03+00:00",
        "hasErrors": False, "hasWarnings": False, "hasFailures": False, "metrics": [],
        "checks": [{"identity": "fsdp-product_dp-row_count", "name": "row_count > 0", "type": "generic",
                    "definition": "checks for product_dp:\n  - row_count > 0", "dataSource": "fsdp",
                    "table": "product_dp", "filter": None, "column": None, "metrics": [], "outcome": "pass",
                    "outcomeReasons": [], "archetype": None, "diagnostics": {"value": 1}}],
        "profiling": [{"table": "product_dp", "dataSource": "fsdp", "rowCount": 1, "columnProfiles": [
            {"columnName": "product_id", "profile": {"distinct": 1, "missing_count": 0, "min_length": 2,
                                                     "max_length": 2, "avg_length": 2}}]}],
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
    con.execute("insert into landing.campaign_events values ('E1', '1000000001', 'Customer Reached')")
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
    quality = out / "soda" / "2026-01-05"
    quality.mkdir(parents=True, exist_ok=True)
    (quality / "quality_scheduled__2026-01-05T00_00_00_00_00.json").write_text(json.dumps(quality_gate_file()))
    (out / "soda" / "2026-01-04").mkdir(exist_ok=True)
    (out / "soda" / "2026-01-04" / "soda_scan_product_dp.json").write_text(json.dumps(soda_scan()))
    (out / "data_api.json").write_text(json.dumps(data_api()))
    return out


def data_api() -> dict:
    """The project's real data API description (include/api describe), its reads pointed at this
    tiny project's tables (the real ones read the market-place models it does not have)."""
    from include.api.describe import describe
    from include.api.settings import ApiSettings

    api = describe(ApiSettings(serving_dir=Path("/nonexistent")))
    for coll in api["collections"]:
        for ep in coll["endpoints"]:
            ep["reads"]["relations"] = ["fs_accelerator.customer_overview_dp", "fs_accelerator.transaction_dp"]
    return api


if __name__ == "__main__":
    build(Path(sys.argv[1]))
