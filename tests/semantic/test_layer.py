"""The Python interface: catalog, validation with the member named, roles resolved to the
governance views (masking in SQL), bound filter values, order / limit / offset, row caps."""
from __future__ import annotations

import re

import pytest

from include.governance.treatments import hash_value
from include.semantic import Query, QueryTimeout, SemanticError, SemanticLayer

pytestmark = pytest.mark.integration

DTC = ["customers.zone", "customers.city", "customers.branch_name", "transactions.channel"]


def test_the_catalog_has_the_market_places_logical_tables_and_members(layer):
    catalog = layer.catalog()
    assert {"customers", "transactions", "accounts", "products", "campaign_events"} <= set(catalog.tables)
    members = catalog.members
    for name in ("transactions.debit_to_credit_ratio", *DTC, "transactions.txn_ts"):
        assert name in members
    assert members["transactions.debit_to_credit_ratio"].type == "number"
    assert members["customers.zone"].type == "string"
    assert members["customers.holds_credit_card"].type == "boolean"
    assert members["transactions.txn_ts"].granularities == ("day", "week", "month", "quarter", "year")
    assert members["customers.zone"].source_model == "customers" and members["customers.zone"].source_column == "zone"


def test_the_campaign_events_table_has_the_funnels_members(layer):
    members = layer.catalog().members
    for name in ("campaign_events.customers_at_stage", "campaign_events.customers_reached", "campaign_events.onboarded",
                 "campaign_events.conversion_to_explored", "campaign_events.conversion_to_onboarded",
                 "campaign_events.onboarding_rate", "campaign_events.stage", "campaign_events.stage_order",
                 "campaign_events.campaign_id", "campaign_events.channel", "campaign_events.stage_ts"):
        assert name in members, name
    assert members["campaign_events.channel"].source_column == "campaign_channel"
    assert members["campaign_events.conversion_to_kyc"].metric_type == "ratio"
    assert members["campaign_events.stage_ts"].source_model == "campaign_event_dp"


def test_tagged_customer_dimensions_carry_their_governance_tags(layer):
    members = layer.catalog().members
    assert members["customers.email_addr"].tags == ("TW.mask",)
    assert members["customers.cust_last_name"].tags == ("TW.mask",)
    assert members["customers.cust_dob"].tags == ("TW.dob",)
    assert members["customers.zone"].tags == ()


def test_the_catalog_is_json_serialisable(layer):
    import json

    doc = json.loads(json.dumps(layer.catalog().as_dict()))
    assert {t["name"] for t in doc["tables"]} >= {"customers", "transactions"}


@pytest.mark.parametrize("query,member", [
    (dict(measures=["transactions.nope"]), "transactions.nope"),
    (dict(measures=["customers.zone"]), "customers.zone"),
    (dict(dimensions=["customers.customer_count"]), "customers.customer_count"),
    (dict(measures=["customers.customer_count"], dimensions=["nowhere.zone"]), "nowhere.zone"),
    (dict(measures=["customers.customer_count"],
          filters=[{"member": "customers.zone", "operator": "like", "values": ["x"]}]), "customers.zone"),
    (dict(measures=["customers.customer_count"],
          time_dimensions=[{"dimension": "customers.created_at", "granularity": "hour"}]), "customers.created_at"),
    (dict(measures=["customers.customer_count"],
          filters=[{"member": "customers.cibil_score", "operator": "gt", "values": ["700 or 1=1"]}]), "customers.cibil_score"),
    (dict(measures=["customers.customer_count"],
          filters=[{"member": "customers.zone", "operator": "gt", "values": ["North"]}]), "customers.zone"),
    (dict(measures=["customers.customer_count"], dimensions=["customers.zone"],
          order=[("customers.city", "asc")]), "customers.city"),
    (dict(measures=["customers.customer_count"],
          time_dimensions=[{"dimension": "customers.created_at", "dateRange": ["2026-01-01", "yesterday"]}]),
     "customers.created_at"),
])
def test_a_bad_query_is_a_semantic_error_naming_the_member(layer, query, member):
    with pytest.raises(SemanticError) as err:
        layer.compile(Query(**query))
    assert err.value.member == member and member in str(err.value)


def test_filter_values_are_bound_parameters_never_sql_text(layer, sql):
    hostile = "North') or ('1'='1"
    compiled = layer.compile(Query(measures=["customers.customer_count"], dimensions=["customers.zone"],
                                   filters=[{"member": "customers.zone", "operator": "equals", "values": [hostile]}]))
    assert hostile not in compiled.sql and "North" not in compiled.sql
    assert list(compiled.parameters.values()) == [hostile]
    assert layer.run(Query(measures=["customers.customer_count"], dimensions=["customers.zone"],
                           filters=[{"member": "customers.zone", "operator": "equals", "values": [hostile]}])).rows == []


def test_the_sql_text_depends_on_the_querys_shape_not_its_values(layer):
    def q(zone):
        return Query(measures=["customers.customer_count"], dimensions=["customers.city"],
                     filters=[{"member": "customers.zone", "operator": "equals", "values": [zone]}])
    assert layer.compile(q("North")).sql == layer.compile(q("South")).sql


@pytest.mark.parametrize("operator,values,where", [
    ("equals", ["North"], "zone = 'North'"),
    ("notEquals", ["North"], "zone <> 'North'"),
    ("in", ["North", "West"], "zone in ('North', 'West')"),
    ("notIn", ["North", "West"], "zone not in ('North', 'West')"),
    ("contains", ["ort"], "contains(lower(zone), 'ort')"),
    ("notContains", ["ort"], "not contains(lower(zone), 'ort')"),
    ("startsWith", ["no"], "starts_with(lower(zone), 'no')"),
    ("endsWith", ["th"], "ends_with(lower(zone), 'th')"),
    ("set", [], "zone is not null"),
    ("notSet", [], "zone is null"),
])
def test_string_operators_select_what_plain_sql_selects(layer, sql, operator, values, where):
    rows = layer.run(Query(measures=["customers.customer_count"], dimensions=["customers.zone"],
                           filters=[{"member": "customers.zone", "operator": operator, "values": values}])).rows
    expected = sql(f"select zone, count(*) from fs_accelerator.customer_overview_dp where {where} group by all")
    assert {r["customers.zone"]: r["customers.customer_count"] for r in rows} == dict(expected)


@pytest.mark.parametrize("operator,value,where", [("gt", 800, "> 800"), ("gte", "800", ">= 800"),
                                                  ("lt", 700.5, "< 700.5"), ("lte", 700, "<= 700")])
def test_number_operators_compare_numbers(layer, sql, operator, value, where):
    rows = layer.run(Query(measures=["customers.customer_count"],
                           filters=[{"member": "customers.cibil_score", "operator": operator, "values": [value]}])).rows
    assert rows[0]["customers.customer_count"] == sql(
        f"select count(*) from fs_accelerator.customer_overview_dp where cibil_score {where}")[0][0]


def test_date_range_and_in_date_range_include_the_whole_last_day(layer, sql):
    day = sql("select max(txn_date) from fs_accelerator.transaction_dp")[0][0].isoformat()
    expected = sql(f"select count(*) from fs_accelerator.transaction_dp where txn_date = date '{day}'")[0][0]
    by_range = layer.run(Query(measures=["transactions.transaction_count"],
                               time_dimensions=[{"dimension": "transactions.txn_ts", "dateRange": [day, day]}])).rows
    by_filter = layer.run(Query(measures=["transactions.transaction_count"], filters=[
        {"member": "transactions.txn_ts", "operator": "inDateRange", "values": [day, day]}])).rows
    assert by_range[0]["transactions.transaction_count"] == by_filter[0]["transactions.transaction_count"] == expected


def test_a_filter_on_a_measure_keeps_the_groups_that_pass(layer):
    everything = layer.run(Query(measures=["transactions.transaction_count"], dimensions=["customers.city"])).rows
    cut = sorted(r["transactions.transaction_count"] for r in everything)[len(everything) // 2]
    kept = layer.run(Query(measures=["transactions.transaction_count"], dimensions=["customers.city"],
                           filters=[{"member": "transactions.transaction_count", "operator": "gte", "values": [cut]}])).rows
    assert {r["customers.city"] for r in kept} == {r["customers.city"] for r in everything
                                                   if r["transactions.transaction_count"] >= cut}


def test_pages_of_limit_and_offset_never_overlap_and_add_up_to_the_whole(layer):
    base = dict(measures=["transactions.debit_to_credit_ratio"], dimensions=DTC,
                order=[("transactions.debit_to_credit_ratio", "desc")])
    whole = layer.run(Query(**base)).rows
    pages = [layer.run(Query(**base, limit=25, offset=o)).rows for o in range(0, len(whole) + 25, 25)]
    assert [r for p in pages for r in p] == whole
    ratios = [r["transactions.debit_to_credit_ratio"] for r in whole if r["transactions.debit_to_credit_ratio"] is not None]
    assert ratios == sorted(ratios, reverse=True)


def test_max_rows_truncates_and_says_so(layer):
    q = Query(measures=["customers.customer_count"], dimensions=["customers.city"])
    full = layer.run(q)
    capped = layer.run(q, max_rows=3)
    assert len(capped.rows) == 3 and capped.truncated and not full.truncated
    assert capped.rows == full.rows[:3]


def test_a_single_granularity_time_dimension_is_keyed_like_cube(layer):
    result = layer.run(Query(measures=["transactions.transaction_count"],
                             time_dimensions=[{"dimension": "transactions.txn_ts", "granularity": "month"}]))
    keys = [k for k, _ in result.columns]
    assert keys == ["transactions.txn_ts.month", "transactions.transaction_count", "transactions.txn_ts"]
    assert all(r["transactions.txn_ts"] == r["transactions.txn_ts.month"] for r in result.rows)


# ---------------------------------------------------------------------------------- roles

def relations(sql_text: str) -> set[str]:
    return {m.group(1) for m in re.finditer(r'(?:from|join)\s+"?([a-z_]+)"?\s*\.', sql_text, re.IGNORECASE)}


@pytest.mark.parametrize("role", ["role_public", "role_pii_reader", "role_restricted_access", "role_dob_bucketing"])
def test_a_role_reads_only_its_own_views(layer, role):
    q = Query(measures=["transactions.debit_to_credit_ratio", "transactions.cumulative_spend"],
              dimensions=["customers.zone", "products.product_name"],
              time_dimensions=[{"dimension": "transactions.txn_ts", "granularity": "month"}])
    assert relations(layer.compile(q, role=role).sql) == {role}
    assert relations(layer.compile(q).sql) == {"marketplace", "fs_accelerator"}


def test_masked_dimensions_are_masked_in_sql_for_the_public_role(layer, sql):
    q = Query(measures=["customers.customer_count"], dimensions=["customers.cust_id", "customers.email_addr"],
              time_dimensions=[{"dimension": "customers.cust_dob", "granularity": "day"}])
    clear = {r[0]: (r[1], r[2]) for r in sql("select cust_id, email_addr, cust_dob from marketplace.customers")}
    public = layer.run(q, role="role_public").rows
    assert public and all(r["customers.email_addr"] == hash_value(clear[r["customers.cust_id"]][0])
                          and r["customers.cust_dob"] is None for r in public)
    reader = layer.run(q, role="role_pii_reader").rows
    assert all(r["customers.email_addr"] == clear[r["customers.cust_id"]][0] for r in reader)


def test_filtering_a_masked_column_by_its_clear_value_finds_nothing_for_the_public_role(layer, sql):
    email = sql("select email_addr from marketplace.customers where email_addr is not null limit 1")[0][0]
    q = Query(measures=["customers.customer_count"],
              filters=[{"member": "customers.email_addr", "operator": "equals", "values": [email]}])
    assert layer.run(q, role="role_pii_reader").rows[0]["customers.customer_count"] == 1
    assert layer.run(q, role="role_public").rows[0]["customers.customer_count"] == 0
    contains = Query(measures=["customers.customer_count"],
                     filters=[{"member": "customers.email_addr", "operator": "contains", "values": ["@gmail"]}])
    assert layer.run(contains, role="role_public").rows[0]["customers.customer_count"] == 0


def test_ordering_by_a_masked_column_orders_the_masked_values(layer):
    q = Query(measures=["customers.customer_count"], dimensions=["customers.email_addr"],
              order=[("customers.email_addr", "asc")], limit=50)
    emails = [r["customers.email_addr"] for r in layer.run(q, role="role_public").rows]
    assert emails == sorted(emails) and all(re.fullmatch(r"[0-9a-f]{64}", e) for e in emails)


def test_the_date_of_birth_is_bucketed_to_the_quarter_for_dob_bucketing(layer):
    rows = layer.run(Query(measures=["customers.customer_count"],
                           time_dimensions=[{"dimension": "customers.cust_dob", "granularity": "day"}]),
                     role="role_dob_bucketing").rows
    days = [r["customers.cust_dob"] for r in rows if r["customers.cust_dob"] is not None]
    assert days and all(d.day == 1 and d.month in (1, 4, 7, 10) for d in days)


def test_an_unknown_role_is_refused(layer):
    with pytest.raises(SemanticError, match="unknown role"):
        layer.compile(Query(measures=["customers.customer_count"]), role="role_admin")


def test_a_role_whose_views_are_missing_is_refused_not_served_from_the_tables(sl_warehouse, tmp_path):
    import shutil

    import duckdb

    copy = tmp_path / "copy.duckdb"
    shutil.copyfile(sl_warehouse.duckdb_path, copy)
    with duckdb.connect(str(copy)) as con:
        con.execute("drop view role_public.customers")
    with SemanticLayer(copy, sl_warehouse.target_path / "semantic_manifest.json") as sl:
        with pytest.raises(SemanticError, match="role_public.customers"):
            sl.run(Query(measures=["customers.customer_count"]), role="role_public")


def test_a_query_over_its_timeout_is_interrupted(sl_warehouse):
    import duckdb

    con = duckdb.connect(str(sl_warehouse.duckdb_path), read_only=True)
    with SemanticLayer(sl_warehouse.duckdb_path, sl_warehouse.target_path / "semantic_manifest.json",
                       connection=con) as sl:
        # a day-grain cumulative metric over every customer's join: slow enough to interrupt at 1 ms
        q = Query(measures=["transactions.cumulative_spend"], dimensions=["customers.cust_id"],
                  time_dimensions=[{"dimension": "transactions.txn_ts", "granularity": "day"}])
        with pytest.raises(QueryTimeout):
            for _ in range(20):
                sl.run(q, timeout_s=0.001)


def test_the_debit_to_credit_saved_query_is_the_market_places_question(layer):
    saved = layer.run(layer.saved_query("api_debit_to_credit_ratio")).rows
    direct = layer.run(Query(measures=["transactions.debit_to_credit_ratio"], dimensions=DTC)).rows
    assert saved == direct and saved


def test_an_unknown_saved_query_is_a_semantic_error(layer):
    with pytest.raises(SemanticError, match="unknown saved query"):
        layer.saved_query("nope")


CUMULATIVE_SHAPES = [
    dict(time_dimensions=[{"dimension": "transactions.txn_ts", "granularity": g}]) for g in ("day", "week", "month", "year")
] + [
    dict(dimensions=["customers.zone", "transactions.txn_reason"],
         time_dimensions=[{"dimension": "transactions.txn_ts", "granularity": "day"}]),
    dict(dimensions=["customers.zone"],
         time_dimensions=[{"dimension": "transactions.txn_ts", "granularity": "month", "dateRange": ["2026-12-01", "2026-12-31"]}]),
    dict(dimensions=["customers.zone"], time_dimensions=[{"dimension": "transactions.txn_ts", "granularity": "week",
                                                          "dateRange": ["2026-12-01", "2026-12-31"]}],
         filters=[{"member": "transactions.channel", "operator": "equals", "values": ["Mobile"]},
                  {"member": "transactions.cumulative_spend", "operator": "gt", "values": [1000]}]),
    dict(time_dimensions=[{"dimension": "transactions.txn_ts", "granularity": "day"}],
         filters=[{"member": "transactions.txn_ts", "operator": "afterDate", "values": ["2026-11-30"]},
                  {"member": "customers.created_at", "operator": "beforeDate", "values": ["2022-01-01"]}]),
    dict(dimensions=["customers.cust_id"], time_dimensions=[{"dimension": "transactions.txn_ts", "granularity": "day"}],
         order=[("transactions.cumulative_spend", "desc")], limit=25),
]


@pytest.mark.parametrize("shape", CUMULATIVE_SHAPES)
@pytest.mark.parametrize("role", [None, "role_public"])
def test_cumulative_spend_as_a_running_total_answers_what_metricflows_plan_answers(sl_warehouse, layer, shape, role):
    # Regression: MetricFlow joins every transaction to every later spine day (rows x days); the
    # layer's running total must give the same rows for every shape it takes over
    q = Query(measures=["transactions.cumulative_spend"], **shape)
    compiled = layer.compile(q, role=role)
    assert "Join Self Over Time Range" not in compiled.sql and "over (partition by" in compiled.sql or \
        "over (order by" in compiled.sql
    with SemanticLayer(sl_warehouse.duckdb_path, sl_warehouse.target_path / "semantic_manifest.json",
                       running_totals=False) as metricflow:
        assert "Join Self Over Time Range" in metricflow.compile(q, role=role).sql
        assert layer.run(q, role=role).rows == metricflow.run(q, role=role).rows


def test_a_cumulative_metric_with_another_measure_keeps_metricflows_plan(layer):
    q = Query(measures=["transactions.cumulative_spend", "transactions.spend"],
              time_dimensions=[{"dimension": "transactions.txn_ts", "granularity": "day"}])
    assert "Join Self Over Time Range" in layer.compile(q).sql
    rows = layer.run(q).rows
    assert rows[-1]["transactions.cumulative_spend"] == sum(r["transactions.spend"] for r in rows)


@pytest.mark.parametrize("change,reason", [
    (lambda m: m.update(type="simple"), "not a cumulative metric"),
    (lambda m: m["type_params"]["cumulative_type_params"].update(window={"count": 7, "granularity": "day"}), "window"),
    (lambda m: m["config"]["meta"].update(running_total_of="transaction_count"), "same unfiltered measure"),
    (lambda m: m["config"]["meta"].update(running_total_of="average_ticket"), "not a simple metric"),
])
def test_a_running_total_declaration_that_does_not_hold_is_refused(sl_warehouse, layer, change, reason):
    import copy
    import json

    from include.semantic.model import build_catalog

    semantic = json.loads((sl_warehouse.target_path / "semantic_manifest.json").read_text())
    manifest = json.loads((sl_warehouse.target_path / "manifest.json").read_text())
    broken = copy.deepcopy(semantic)
    change(next(m for m in broken["metrics"] if m["name"] == "cumulative_spend"))
    with pytest.raises(SemanticError, match=reason):
        build_catalog(broken, manifest, layer._column_types)
