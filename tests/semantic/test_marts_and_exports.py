"""The consumer marts' shapes (archetypes, spend segments) and the saved-query exports the DAG writes."""
from __future__ import annotations

import shutil

import pytest

from include.semantic import SemanticLayer
from include.semantic.exports import column_name, publish_exports

pytestmark = pytest.mark.integration

ARCHETYPES = {"Deal Chasers", "Financially Stressed", "Generic", "Prosperous and Content", "Recovering Credit Users",
              "Self Aware Avoiders"}
CHARTS = {  # dashboard -> saved queries (one per chart)
    "lead": {"lead_total_customers", "lead_customers_by_archetype", "lead_sales_by_product", "lead_customers_by_risk",
             "lead_customers_by_affluence", "lead_customers_by_segment", "lead_customers_by_state",
             "lead_transactions_by_mode_over_time", "lead_transactions_by_reason"},
    "spend": {"spend_cumulative_over_time", "spend_by_category_over_time", "spend_customers_by_segment",
              "spend_by_segment", "spend_sankey_reason_mode", "spend_amount_by_reason_and_segment", "spend_treemap",
              "spend_segments_by_month"},
    "market": {"api_debit_to_credit_ratio", "market_dtc_by_zone", "market_dtc_by_city", "market_dtc_by_branch",
               "market_dtc_by_channel"},
    "campaign": {"campaign_funnel_by_archetype", "campaign_stats"},
}
STAGES = ["Customer Reached", "Explored Product", "Started to Apply", "Engagement", "Completed Application", "KYC",
          "Onboarded"]


def test_every_customer_has_one_archetype_and_every_archetype_occurs(sql):
    rows = dict(sql("select cross_sell_archetype, count(*) from marketplace.customer_archetypes group by 1"))
    total = sql("select count(*) from fs_accelerator.customer_overview_dp")[0][0]
    assert set(rows) == ARCHETYPES and sum(rows.values()) == total
    assert all(n / total >= 0.01 for n in rows.values()), rows


def test_spend_segments_follow_the_thresholds(sql):
    wrong = sql("""select count(*) from marketplace.customer_spend_segments where spend_segment <> case
                   when spend >= 100000 then 'High Spend' when spend >= 25000 then 'Medium Spend' else 'Low Spend' end""")
    assert wrong == [(0,)]
    spend = sql("""select sum(spend) from marketplace.customer_spend_segments""")[0][0]
    debits = sql("""select sum(amount) from fs_accelerator.transaction_dp
                    where txn_status = 'Success' and txn_type = 'Debit'""")[0][0]
    assert spend == debits


def test_every_saved_query_answers_for_every_role(layer):
    saved = set(layer.catalog().saved_queries)
    assert set().union(*CHARTS.values()) <= saved
    for name in sorted(saved):
        for role in (None, "role_public"):
            assert layer.run(layer.saved_query(name), role=role).rows, (name, role)


@pytest.fixture(scope="module")
def exported(sl_warehouse, tmp_path_factory):
    """A copy of the warehouse with the saved-query exports published: (path, manifest, summary)."""
    copy = tmp_path_factory.mktemp("exports") / "fsdp.duckdb"
    shutil.copyfile(sl_warehouse.duckdb_path, copy)
    manifest = sl_warehouse.target_path / "semantic_manifest.json"
    return copy, manifest, publish_exports(copy, manifest)


def _query(path, statement: str) -> list[tuple]:
    import duckdb

    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(statement).fetchall()


def test_exports_hold_exactly_what_the_saved_queries_answer(exported):
    copy, manifest, summary = exported
    assert set(summary) == {f"marketplace_exports.{n}" for n in set().union(*CHARTS.values())}
    with SemanticLayer(copy, manifest) as sl:
        for table, rows in summary.items():
            name = table.split(".", 1)[1]
            result = sl.run(sl.saved_query(name))
            assert rows == len(result.rows)
            cur = sl._con.cursor()
            exported_rows = cur.execute(f"select * from {table}").fetchall()
            keys = [column_name(k) for k, _ in result.columns]
            assert [d[0] for d in cur.description] == keys
            assert sorted(map(repr, exported_rows)) == sorted(
                repr(tuple(r[k] for k, _ in result.columns)) for r in result.rows)
    assert publish_exports(copy, manifest) == summary   # idempotent


def test_every_dashboard_export_carries_the_zone(exported):
    # Regression: Superset's row-level security restricts a viewer to a zone; a chart whose table
    # has no zone column would show every zone's numbers
    copy = exported[0]
    tables = {t for (t,) in _query(copy, "select table_name from information_schema.columns "
                                         "where table_schema = 'marketplace_exports' and column_name = 'customers__zone'")}
    every = {t for (t,) in _query(copy, "select table_name from information_schema.tables "
                                        "where table_schema = 'marketplace_exports'")}
    assert every == tables == set().union(*CHARTS.values())


def _additive(layer, saved) -> tuple[list[str], list[str]]:
    """(measures that add up over zones, the saved query's dimensions without the zone)."""
    members = layer.catalog().members
    measures = [m for m in saved.measures if members[m].metric_type != "ratio"]
    return measures, [d for d in saved.dimensions if d != "customers.zone"]


@pytest.mark.parametrize("name", sorted(set().union(*CHARTS.values()) - {"api_debit_to_credit_ratio"}))
def test_a_chart_that_sums_a_dashboard_query_over_zones_gets_the_query_without_zone(layer, name):
    from include.semantic import Query

    saved = layer.catalog().saved_queries[name]
    assert "customers.zone" in saved.dimensions
    measures, dims = _additive(layer, saved)
    assert measures, f"{name}: nothing a chart could sum over zones"
    times = [dict(t) for t in saved.time_dimensions]
    keys = dims + [f"{t['dimension']}.{t['granularity']}" for t in times]
    by_zone = layer.run(layer.saved_query(name)).rows
    summed: dict = {}
    for row in by_zone:
        key = tuple(row[k] for k in keys)
        acc = summed.setdefault(key, dict.fromkeys(measures, 0))
        for m in measures:
            acc[m] += row[m] or 0
    direct = layer.run(Query(measures=measures, dimensions=dims, time_dimensions=times)).rows
    assert {tuple(r[k] for k in keys): {m: r[m] or 0 for m in measures} for r in direct} == summed
    # a ratio's parts are exported with it, so a chart can divide the sums
    ratios = [m for m in saved.measures if m not in measures]
    if "transactions.debit_to_credit_ratio" in ratios:
        assert {"transactions.debit_amount", "transactions.credit_amount"} <= set(saved.measures)


def test_the_campaign_funnel_mart_equals_the_semantic_layer_and_narrows_stage_by_stage(layer, sql):
    from include.semantic import Query

    rows = layer.run(Query(measures=["campaign_events.customers_at_stage"],
                           dimensions=["campaign_events.campaign_id", "customers.zone", "customers.cross_sell_archetype",
                                       "campaign_events.stage"])).rows
    assert rows, "the fixture's days reach customers"
    got = {(r["campaign_events.campaign_id"], r["customers.zone"], r["customers.cross_sell_archetype"],
            r["campaign_events.stage"]): r["campaign_events.customers_at_stage"] for r in rows}
    mart = sql("select campaign_id, zone, cross_sell_archetype, stage, customers, stage_order, "
               "conversion_from_previous_stage from marketplace.campaign_funnel")
    assert {m[:4]: m[4] for m in mart if m[4]} == got
    groups = {m[:3] for m in mart}
    assert len(mart) == 7 * len(groups)              # every stage of every group, zeros included
    for group in groups:
        counts = sorted((m[5], m[4]) for m in mart if m[:3] == group)
        assert [c for _, c in counts] == sorted((c for _, c in counts), reverse=True)
    assert {m[3] for m in mart} == set(STAGES)


def test_the_campaign_stats_export_has_one_count_per_stage(exported):
    cols = [c for (c,) in _query(exported[0], "select column_name from information_schema.columns where table_schema = "
                                 "'marketplace_exports' and table_name = 'campaign_stats' order by ordinal_position")]
    assert cols == ["customers__zone", "campaign_events__campaign_id", "customers__cross_sell_archetype",
                    "campaign_events__customers_reached", "campaign_events__explored_product",
                    "campaign_events__started_to_apply", "campaign_events__engaged",
                    "campaign_events__completed_application", "campaign_events__completed_kyc",
                    "campaign_events__onboarded"]
