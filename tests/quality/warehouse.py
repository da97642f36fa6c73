"""A small, clean warehouse shaped like the dbt output (schema fs_accelerator: the five product
tables with dbt's column names and types, plus the raw and quarantine tables the rejected-share
checks read), built with SQL in a temporary DuckDB file: deterministic and fast, no dbt run.

Every value satisfies every check of include/quality/checks; a test plants one fault and expects
exactly the check that catches it to fail.
"""
from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

DAY = date(2026, 1, 5)
CUSTOMERS = 60          # cust_id 1000000000 .. 1000000059; i % 10 == 0 Corporate, == 5 Merchant
ACCOUNTS_PER_CUSTOMER = 2
TXNS_PER_ACCOUNT = 3

PERSONAL = "(i % 10 not in (0, 5))"


def _pick(values: list[str], expr: str = "i") -> str:
    """SQL choosing values[expr % len(values)]."""
    items = ", ".join("'" + v.replace("'", "''") + "'" for v in values)
    return f"[{items}][({expr}) % {len(values)} + 1]"


def _personal(expr: str) -> str:
    return f"case when {PERSONAL} then {expr} end"


CUSTOMER_SQL = f"""
create table fs_accelerator.customer_overview_dp as
select
    cast(1000000000 + i as varchar) as cust_id,
    case when {PERSONAL} then date '1980-01-01' + cast(i * 97 as integer) end as cust_dob,
    {_personal(_pick(['Aarav', 'Diya', 'Kabir', 'Meera']))} as cust_first_name,
    case when {PERSONAL} then {_pick(['Sharma', 'Iyer', 'Rao'])} else 'Traders' end as cust_last_name,
    case when {PERSONAL} and i % 2 = 1 then 'Kumar' end as cust_middle_name,
    {_pick(['Urban', 'Rural', 'Semi-Urban'])} as cust_segment,
    {_personal(_pick(['Mr', 'Mrs', 'Miss', 'Dr']))} as cust_title,
    {_pick(['Resident Indian', 'Non Resident'])} as customer_category,
    {_pick(['Yes', 'No'])} as customer_privilege,
    case when i % 10 = 0 then 'Corporate' when i % 10 = 5 then 'Merchant' else 'Personal' end as customer_type,
    'customer' || cast(i + 100 as varchar) || '@gmail.com' as email_addr,
    {_personal(_pick(['Male', 'Female', 'I prefer not to say']))} as gender,
    {_personal(_pick(['Single', 'Married']))} as marital_status,
    {_personal("'No'")} as minor_flag,
    cast(1100098043 + i as varchar) as mobile_number1,
    {_pick(['Indian', 'American', 'Canadian'])} as nationality,
    {_personal(_pick(['Salaried', 'Non Salaried']))} as occupation,
    {_personal("'No'")} as senior_citizen_flag,
    {_pick(['Branch', 'Partner', 'Online'])} as sourcing_channel,
    {_pick(['High', 'Medium', 'Low'])} as customer_risk_category,
    {_pick(['Low', 'Medium', 'High'])} as affluence_level,
    {_pick(['Active', 'Dormant'])} as customer_status,
    'Flat ' || cast(i as varchar) || ', Lotus Towers' as customer_addressline1,
    'MG Road' as customer_addressline2,
    'Andheri' as customer_addressline3,
    {_pick(['Mumbai', 'Chicago', 'Toronto'])} as city,
    {_pick(['Maharashtra', 'Illinois', 'Ontario'])} as state,
    {_pick(['India', 'United States', 'Canada'])} as country,
    {_pick(['400001', '60601', 'M5V 1J9'])} as pin,
    timestamp '2020-01-01 10:00:00' + to_days(i) as created_at,
    -- the newest versions are from the logical day itself
    timestamp '{DAY.isoformat()} 18:00:00' - to_hours(i * 5) as modified_at,
    date '2025-10-05' as cibil_check_date,
    cast(600 + i * 5 as integer) as cibil_score,
    {_pick(['+91', '+1', '+1'])} as country_code,
    'Branch ' || cast(i % 7 as varchar) as branch_name,
    {_pick(['West', 'Overseas', 'Overseas'])} as zone,
    'customers/dt={DAY.isoformat()}/part-00000.csv' as _source_file,
    date '{DAY.isoformat()}' as _landed_date
from (select cast(range as integer) as i from range({CUSTOMERS}))
"""

PRODUCT_SQL = f"""
create table fs_accelerator.product_dp as
select product_id, product_name, product_type, product_category, card_network,
    cast(annual_fee as decimal(14, 2)) as annual_fee, cast(interest_rate as decimal(7, 2)) as interest_rate,
    cast(min_cibil_score as integer) as min_cibil_score, launch_date, product_status,
    cast(launch_date as timestamp) + interval 9 hour as created_at,
    cast(launch_date as timestamp) + interval 9 hour as modified_at,
    'products/dt={DAY.isoformat()}/part-00000.csv' as _source_file, date '{DAY.isoformat()}' as _landed_date
from (values
    ('PRD0001', 'Platinum Rewards Credit Card', 'Credit Card', 'Cards', 'Visa', 2500, 42.0, 750, date '2014-04-01', 'Active'),
    ('PRD0008', 'Regular Savings Account', 'Savings Account', 'Deposits', null, 0, 3.0, 0, date '2010-01-01', 'Active'),
    ('PRD0015', 'Personal Loan', 'Personal Loan', 'Loans', null, 0, 11.5, 700, date '2012-06-01', 'Retired')
) as p(product_id, product_name, product_type, product_category, card_network, annual_fee, interest_rate,
       min_cibil_score, launch_date, product_status)
"""

ACCOUNT_SQL = f"""
create table fs_accelerator.account_dp as
select
    lpad(cast(100000000000 + c * {ACCOUNTS_PER_CUSTOMER} + s as varchar), 12, '0') as account_id,
    cast(1000000000 + c as varchar) as cust_id,
    {_pick(['PRD0001', 'PRD0008', 'PRD0015'], 'c + s')} as product_id,
    date '2021-01-01' + cast(c as integer) as account_open_date,
    {_pick(['Active', 'Active', 'Dormant', 'Closed'], 'c + s')} as account_status,
    case when (c + s) % 3 = 1 then null else cast(50000 + c * 100 as decimal(14, 2)) end as credit_limit,
    cast(1000 + c * 10 + s as decimal(14, 2)) as current_balance,
    'INR' as currency_code,
    timestamp '2021-01-01 09:00:00' + to_days(c) as created_at,
    timestamp '{DAY.isoformat()} 12:00:00' - to_days(c) as modified_at,
    'accounts/dt={DAY.isoformat()}/part-00000.csv' as _source_file,
    date '{DAY.isoformat()}' as _landed_date
from (select cast(range as integer) as c from range({CUSTOMERS})),
     (select cast(range as integer) as s from range({ACCOUNTS_PER_CUSTOMER}))
"""

TRANSACTION_SQL = f"""
create table fs_accelerator.transaction_dp as
select
    'T{DAY.strftime('%Y%m%d')}' || lpad(cast(n as varchar), 10, '0') as txn_id,
    account_id,
    timestamp '{DAY.isoformat()} 00:00:00' + to_minutes(cast(n * 7 % 1440 as integer)) as txn_ts,
    date '{DAY.isoformat()}' as txn_date,
    cast(10 + n * 3.5 as decimal(14, 2)) as amount,
    'INR' as currency_code,
    {_pick(['Debit', 'Debit', 'Credit'], 'n')} as txn_type,
    {_pick(['UPI', 'QR', 'Card', 'NetBanking'], 'n')} as txn_mode,
    {_pick(['Mobile', 'Web', 'POS'], 'n')} as channel,
    {_pick(['Food & Grocery', 'Travel', 'Ecom', 'Exam'], 'n')} as txn_reason,
    {_pick(['Amazon', 'Zomato', 'Flipkart'], 'n')} as merchant_name,
    {_pick(['Success', 'Success', 'Failed'], 'n')} as txn_status,
    'transactions/dt={DAY.isoformat()}/part-00000.csv' as _source_file,
    date '{DAY.isoformat()}' as _landed_date,
    timestamp '{DAY.isoformat()} 23:00:00' as _ingested_at,
    'fixture' as _published_run_id
from (select account_id, cast(row_number() over (order by account_id, t) as integer) as n
      from fs_accelerator.account_dp, (select cast(range as integer) as t from range({TXNS_PER_ACCOUNT})))
"""

STAGES = ["Customer Reached", "Explored Product", "Started to Apply", "Engagement", "Completed Application", "KYC",
          "Onboarded"]

# every Personal customer's journey in the month's campaign: the first (i % 7 + 1) stages, an hour apart
CAMPAIGN_EVENT_SQL = f"""
create table fs_accelerator.campaign_event_dp as
select
    'E{DAY.strftime('%Y%m%d')}' || lpad(cast(row_number() over (order by i, k) as varchar), 10, '0') as event_id,
    cast(1000000000 + i as varchar) as cust_id,
    'XSELL-CC-{DAY.strftime('%Y-%m')}' as campaign_id,
    'Credit card cross-sell {DAY.strftime('%B %Y')}' as campaign_name,
    'PRD0001' as product_id,
    {_pick(STAGES, 'k')} as stage,
    cast(k + 1 as integer) as stage_order,
    timestamp '{DAY.isoformat()} 08:00:00' + to_hours(k) as stage_ts,
    date '{DAY.isoformat()}' as stage_date,
    {_pick(['Email', 'SMS', 'Mobile App', 'Web', 'Branch', 'Call Centre'], 'i + k')} as campaign_channel,
    'campaign_events/dt={DAY.isoformat()}/part-00000.csv' as _source_file,
    date '{DAY.isoformat()}' as _landed_date,
    timestamp '{DAY.isoformat()} 23:00:00' as _ingested_at,
    timestamp '{DAY.isoformat()} 23:00:00' as _validated_at,
    'fixture' as _published_run_id
from (select cast(range as integer) as i from range({CUSTOMERS})),
     (select cast(range as integer) as k from range(7))
where {PERSONAL} and k <= i % 7
"""

# raw and quarantine: only the columns the rejected-share checks read (dbt's have more)
ENTITIES = {"customer_overview": "customer_overview_dp", "product": "product_dp", "account": "account_dp",
            "transaction": "transaction_dp", "campaign_event": "campaign_event_dp"}


def build(path: Path, rejected: dict[str, int] | None = None, refused_files: int = 0) -> Path:
    """Create the clean warehouse at ``path``; ``rejected``: entity -> quarantined rows on DAY;
    ``refused_files``: refused landing files on DAY in the landing ledger."""
    con = duckdb.connect(str(path))
    try:
        con.execute("create schema fs_accelerator")
        con.execute(CUSTOMER_SQL)
        con.execute(PRODUCT_SQL)
        con.execute(ACCOUNT_SQL)
        con.execute(TRANSACTION_SQL)
        con.execute(CAMPAIGN_EVENT_SQL)
        for entity, product in ENTITIES.items():
            bad = (rejected or {}).get(entity, 0)
            con.execute(f"""create table fs_accelerator.{entity}_raw as
                select _landed_date, _source_file from fs_accelerator.{product}
                union all select date '{DAY.isoformat()}', 'bad.csv' from range({bad})""")
            con.execute(f"""create table fs_accelerator.{entity}_rejected as
                select ['some_rule'] as failed_rules, date '{DAY.isoformat()}' as _landed_date
                from range({bad})""")
        # the landing ledger: only the columns its checks read (dbt's has more)
        con.execute(f"""create table fs_accelerator.landing_ledger as
            select 'accepted' as outcome, date '{DAY.isoformat()}' as landed_date,
                   date '{DAY.isoformat()}' as registered_for_date, cast(0 as bigint) as unaccounted_rows
            from range(4)
            union all
            select 'refused', date '{DAY.isoformat()}', date '{DAY.isoformat()}', null from range({refused_files})""")
    finally:
        con.close()
    return path


def execute(path: Path, *statements: str) -> None:
    """Plant a fault: run SQL on the warehouse (default schema fs_accelerator), then close."""
    con = duckdb.connect(str(path))
    try:
        con.execute("set schema = 'fs_accelerator'")
        for s in statements:
            con.execute(s)
    finally:
        con.close()


def columns_of(table: str) -> list[tuple[str, str]]:
    """(column, type) of a fixture table, from a throwaway in-memory build."""
    con = duckdb.connect()
    try:
        con.execute("create schema fs_accelerator")
        for sql in (CUSTOMER_SQL, PRODUCT_SQL, ACCOUNT_SQL, TRANSACTION_SQL, CAMPAIGN_EVENT_SQL):
            con.execute(sql)
        return con.execute("select column_name, data_type from information_schema.columns "
                           "where table_schema = 'fs_accelerator' and table_name = ? order by ordinal_position",
                           [table]).fetchall()
    finally:
        con.close()


def columns(path: Path, table: str) -> list[tuple[str, str]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute("select column_name, data_type from information_schema.columns "
                           "where table_schema = 'fs_accelerator' and table_name = ? order by ordinal_position",
                           [table]).fetchall()
    finally:
        con.close()
