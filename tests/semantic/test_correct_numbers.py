"""Every metric of the semantic layer equals the same number computed independently in plain SQL
on the data product tables (fs_accelerator.*), not on the marts the semantic models read."""
from __future__ import annotations

import math
from decimal import Decimal

import pytest

from include.semantic import Query

pytestmark = pytest.mark.integration

# the product tables joined the way the market place's question reads them
TXN = """
    from fs_accelerator.transaction_dp t
    join fs_accelerator.account_dp a on a.account_id = t.account_id
    join fs_accelerator.customer_overview_dp c on c.cust_id = a.cust_id
"""
DEBIT = "sum(case when t.txn_status = 'Success' and t.txn_type = 'Debit' then t.amount else 0 end)"
CREDIT = "sum(case when t.txn_status = 'Success' and t.txn_type = 'Credit' then t.amount else 0 end)"
SUCCESS = "sum(case when t.txn_status = 'Success' then t.amount else 0 end)"
N_SUCCESS = "sum(case when t.txn_status = 'Success' then 1 else 0 end)"


def close(a, b) -> bool:
    if a is None or b is None:
        return a is None and b is None
    a, b = float(a), float(b)
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9)


def assert_same(rows: list[dict], expected: list[tuple], keys: list[str]) -> None:
    got = {tuple(r[k] for k in keys[:-1]): r[keys[-1]] for r in rows}
    want = {tuple(e[:-1]): e[-1] for e in expected}
    assert got.keys() == want.keys()
    wrong = {k: (got[k], want[k]) for k in want if not close(got[k], want[k])}
    assert not wrong


def ratio(num: str, den: str) -> str:
    return f"cast({num} as double) / nullif(cast({den} as double), 0)"


# metric -> (plain SQL aggregate over TXN, or over the customers table)
TRANSACTION_METRICS = {
    "debit_to_credit_ratio": ratio(DEBIT, CREDIT),
    "debit_amount": DEBIT,
    "credit_amount": CREDIT,
    "spend": DEBIT,
    "transaction_count": "count(*)",
    "successful_transaction_count": N_SUCCESS,
    "transaction_amount": SUCCESS,
    "average_ticket": ratio(SUCCESS, N_SUCCESS),
    "active_customers": "count(distinct case when t.txn_status = 'Success' then c.cust_id end)",
    "spending_customers": "count(distinct case when t.txn_status = 'Success' and t.txn_type = 'Debit' then c.cust_id end)",
    "spend_per_customer": ratio(DEBIT, "count(distinct case when t.txn_status = 'Success' and t.txn_type = 'Debit' then c.cust_id end)"),
}


def test_debit_to_credit_ratio_by_zone_city_branch_and_channel_equals_plain_sql(layer, sql):
    dims = ["customers.zone", "customers.city", "customers.branch_name", "transactions.channel"]
    rows = layer.run(Query(measures=["transactions.debit_to_credit_ratio"], dimensions=dims)).rows
    expected = sql(f"select c.zone, c.city, c.branch_name, t.channel, {ratio(DEBIT, CREDIT)} {TXN} group by all")
    assert len(expected) > 50
    assert_same(rows, expected, [*dims, "transactions.debit_to_credit_ratio"])


@pytest.mark.parametrize("metric", sorted(TRANSACTION_METRICS))
@pytest.mark.parametrize("dimension,column", [("customers.zone", "c.zone"), ("transactions.channel", "t.channel"),
                                              ("transactions.txn_reason", "t.txn_reason"),
                                              ("customers.cust_segment", "c.cust_segment")])
def test_every_transaction_metric_by_a_dimension_equals_plain_sql(layer, sql, metric, dimension, column):
    rows = layer.run(Query(measures=[f"transactions.{metric}"], dimensions=[dimension])).rows
    expected = sql(f"select {column}, {TRANSACTION_METRICS[metric]} {TXN} group by all")
    assert_same(rows, expected, [dimension, f"transactions.{metric}"])


@pytest.mark.parametrize("metric", sorted(TRANSACTION_METRICS))
def test_every_transaction_metric_by_month_equals_plain_sql(layer, sql, metric):
    rows = layer.run(Query(measures=[f"transactions.{metric}"],
                           time_dimensions=[{"dimension": "transactions.txn_ts", "granularity": "month"}])).rows
    expected = sql(f"select date_trunc('month', t.txn_ts), {TRANSACTION_METRICS[metric]} {TXN} group by all")
    assert len(expected) == 2   # the fixture's two days straddle a month boundary
    assert_same(rows, expected, ["transactions.txn_ts.month", f"transactions.{metric}"])


def test_cumulative_spend_is_the_running_total_of_daily_spend(layer, sql):
    rows = layer.run(Query(measures=["transactions.cumulative_spend"],
                           time_dimensions=[{"dimension": "transactions.txn_ts", "granularity": "day"}])).rows
    daily = sql(f"select cast(t.txn_ts as date) d, {DEBIT} {TXN} group by all order by d")
    running, expected = Decimal(0), []
    first = daily[0][0]
    for day, amount in daily:
        running += amount
        expected.append((day, running))
    got = {r["transactions.txn_ts.day"].date(): r["transactions.cumulative_spend"] for r in rows}
    assert min(got) == first and max(got) == daily[-1][0]
    assert all(close(got[d], v) for d, v in expected)


CUSTOMER_METRICS = {
    "customer_count": "count(*)",
    "average_cibil_score": "avg(c.cibil_score)",
    "credit_card_holders": """count(distinct case when exists (
        select 1 from fs_accelerator.account_dp a join fs_accelerator.product_dp p on p.product_id = a.product_id
        where a.cust_id = c.cust_id and p.product_type = 'Credit Card') then c.cust_id end)""",
    "deposit_balance": """coalesce(sum((select sum(a.current_balance) from fs_accelerator.account_dp a
        join fs_accelerator.product_dp p on p.product_id = a.product_id
        where a.cust_id = c.cust_id and p.product_type in ('Savings Account', 'Current Account', 'Fixed Deposit'))), 0)""",
}


@pytest.mark.parametrize("metric", sorted(CUSTOMER_METRICS))
@pytest.mark.parametrize("dimension,column", [("customers.zone", "c.zone"), ("customers.affluence_level", "c.affluence_level"),
                                              ("customers.customer_risk_category", "c.customer_risk_category"),
                                              ("customers.state", "c.state")])
def test_every_customer_metric_by_a_dimension_equals_plain_sql(layer, sql, metric, dimension, column):
    rows = layer.run(Query(measures=[f"customers.{metric}"], dimensions=[dimension])).rows
    expected = sql(f"select {column}, {CUSTOMER_METRICS[metric]} from fs_accelerator.customer_overview_dp c group by all")
    assert_same(rows, expected, [dimension, f"customers.{metric}"])


def test_accounts_by_product_name_equal_plain_sql(layer, sql):
    rows = layer.run(Query(measures=["accounts.account_count", "accounts.account_balance", "accounts.credit_limit"],
                           dimensions=["products.product_name"])).rows
    expected = sql("""select p.product_name, count(*), sum(a.current_balance), sum(a.credit_limit)
                      from fs_accelerator.account_dp a join fs_accelerator.product_dp p on p.product_id = a.product_id
                      group by all""")
    for i, metric in enumerate(["accounts.account_count", "accounts.account_balance", "accounts.credit_limit"]):
        assert_same(rows, [(e[0], e[1 + i]) for e in expected], ["products.product_name", metric])


def test_a_filter_gives_the_numbers_of_the_filtered_rows(layer, sql):
    rows = layer.run(Query(measures=["transactions.debit_to_credit_ratio"], dimensions=["transactions.channel"],
                           filters=[{"member": "customers.zone", "operator": "in", "values": ["North", "South"]},
                                    {"member": "transactions.txn_mode", "operator": "notEquals", "values": ["UPI"]}])).rows
    expected = sql(f"select t.channel, {ratio(DEBIT, CREDIT)} {TXN} where c.zone in ('North', 'South') "
                   "and t.txn_mode <> 'UPI' group by all")
    assert_same(rows, expected, ["transactions.channel", "transactions.debit_to_credit_ratio"])


# campaign events on the product table, archetype from the archetype model (not the customers mart)
CAMPAIGN = """
    from fs_accelerator.campaign_event_dp e
    join fs_accelerator.customer_overview_dp c on c.cust_id = e.cust_id
    join marketplace.customer_archetypes a on a.cust_id = e.cust_id
"""
STAGE_METRICS = {"customers_reached": "Customer Reached", "explored_product": "Explored Product",
                 "started_to_apply": "Started to Apply", "engaged": "Engagement",
                 "completed_application": "Completed Application", "completed_kyc": "KYC", "onboarded": "Onboarded"}


def stage_count(stage: str) -> str:
    return f"count(case when e.stage = '{stage}' then 1 end)"


CONVERSIONS = {f"conversion_to_{short}": ratio(stage_count(b), stage_count(a)) for short, (a, b) in zip(
    ("explored", "started", "engaged", "completed", "kyc", "onboarded"),
    zip(list(STAGE_METRICS.values()), list(STAGE_METRICS.values())[1:]))}
CAMPAIGN_METRICS = {"customers_at_stage": "count(*)", "campaign_customers": "count(distinct e.cust_id)",
                    **{m: stage_count(s) for m, s in STAGE_METRICS.items()}, **CONVERSIONS,
                    "onboarding_rate": ratio(stage_count("Onboarded"), stage_count("Customer Reached"))}


def test_the_fixture_has_campaign_journeys_past_the_first_stage(sql):
    stages = dict(sql("select stage, count(*) from fs_accelerator.campaign_event_dp group by 1"))
    assert stages.get("Customer Reached", 0) >= 10 and stages.get("Explored Product", 0) >= 3, stages


def test_the_funnel_by_stage_and_archetype_equals_plain_sql(layer, sql):
    dims = ["campaign_events.stage", "customers.cross_sell_archetype"]
    rows = layer.run(Query(measures=["campaign_events.customers_at_stage"], dimensions=dims)).rows
    expected = sql(f"select e.stage, a.cross_sell_archetype, count(*) {CAMPAIGN} group by all")
    assert_same(rows, expected, [*dims, "campaign_events.customers_at_stage"])


@pytest.mark.parametrize("metric", sorted(CAMPAIGN_METRICS))
@pytest.mark.parametrize("dimensions,columns", [
    (["customers.cross_sell_archetype"], ["a.cross_sell_archetype"]),
    (["campaign_events.campaign_id", "customers.zone"], ["e.campaign_id", "c.zone"]),
])
def test_every_campaign_metric_by_archetype_campaign_and_zone_equals_plain_sql(layer, sql, metric, dimensions, columns):
    rows = layer.run(Query(measures=[f"campaign_events.{metric}"], dimensions=dimensions)).rows
    expected = sql(f"select {', '.join(columns)}, {CAMPAIGN_METRICS[metric]} {CAMPAIGN} group by all")
    # a stage metric filters the events: MetricFlow has no row for a group without that stage
    # (plain SQL has a 0, or a null ratio), so only groups with a value are compared
    key = f"campaign_events.{metric}"
    assert_same([r for r in rows if r[key]], [e for e in expected if e[-1]], [*dimensions, key])
    assert all(not r[key] for r in rows if tuple(r[d] for d in dimensions) not in {tuple(e[:-1]) for e in expected})
