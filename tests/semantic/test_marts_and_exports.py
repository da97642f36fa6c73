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
}


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


def test_exports_hold_exactly_what_the_saved_queries_answer(sl_warehouse, tmp_path):
    copy = tmp_path / "fsdp.duckdb"
    shutil.copyfile(sl_warehouse.duckdb_path, copy)
    manifest = sl_warehouse.target_path / "semantic_manifest.json"
    summary = publish_exports(copy, manifest)
    assert set(summary) == {f"marketplace_exports.{n}" for n in set().union(*CHARTS.values())}
    with SemanticLayer(copy, manifest) as sl:
        import duckdb

        for table, rows in summary.items():
            name = table.split(".", 1)[1]
            result = sl.run(sl.saved_query(name))
            assert rows == len(result.rows)
            cur = sl._con.cursor()
            exported = cur.execute(f"select * from {table}").fetchall()
            keys = [column_name(k) for k, _ in result.columns]
            assert [d[0] for d in cur.description] == keys
            assert sorted(map(repr, exported)) == sorted(repr(tuple(r[k] for k, _ in result.columns)) for r in result.rows)
    assert publish_exports(copy, manifest) == summary   # idempotent
