"""A landing day with good and bad files together, built by real dbt on a real DuckDB file from a
real Azurite: every malformed file of the catalogue (tests/ledger/badfiles.py) for customers and
transactions, files of value problems for customers, transactions and campaign events (strict types,
offsets, control characters, versions after their day, event times outside their day, unknown
zones, conflicting versions, exact copies), and a later
date already landed. Proves: the good rows are served, every bad file and row is accounted for with
its reason, no value is served changed, a run builds only its own date, and a backfill in order
gives the warehouse the days gave one by one."""
from __future__ import annotations

import uuid
from datetime import date

import pytest

from include.blob_storage import open_store
from include.mockgen.landing import Lander
from tests.dbt import fixtures
from tests.dbt.dbt_runner import Warehouse
from tests.ledger import badfiles

pytestmark = [pytest.mark.azurite, pytest.mark.integration]

DAY1, DAY2, DAY3 = fixtures.DAY1, fixtures.DAY2, date(2026, 1, 7)
C, T, E = "customers", "transactions", "campaign_events"


def c(i, **kw):
    return fixtures.customer(i, **kw)


def t(i, **kw):
    return fixtures.transaction(i, acct=1 + i % 30, day=DAY1, **kw)


# (row, the rules its quarantine row must name; None: accepted) -- values the contract cannot hold
# exactly, or that must not be served
CUSTOMER_VALUES = [
    (c(700, zone="Nowhere"), ["zone_allowed"]),
    (c(701, cibil_score="700.5"), ["cibil_score_is_integer", "cibil_score_valid"]),
    (c(702, cibil_score="7e2"), ["cibil_score_is_integer", "cibil_score_valid"]),
    (c(703, modified_at="2099-01-01 00:00:00"), ["modified_at_not_after_logical_day"]),
    (c(704, cust_first_name="Aa\x00rav"), ["cust_first_name_no_control_characters", "cust_first_name_valid"]),
    (c(705, modified_at="2026-01-05 09:00:00+05:30"), None),     # served as 03:30:00 UTC
    (c(706, modified_at="2026-01-05T09:00:00Z"), None),
    (c(707, modified_at="2026-01-05 24:00:00"), ["modified_at_is_timestamp", "modified_at_required"]),
    (c(708, cust_dob="1985-3-1"), ["cust_dob_is_date", "cust_dob_required_for_personal"]),
    (c(709, cust_last_name="Tab\there"), ["cust_last_name_no_control_characters", "cust_last_name_valid"]),
    (c(1, city="Agra"), ["conflicting_version"]),                 # cust 1's day-1 version, other content
    (c(710), None),
    (c(710, city="Agra"), ["conflicting_version"]),               # same version twice in one file
    (c(711), None),
    (c(711), "exact"),                                            # an exact copy: counted, not in raw
]
TRANSACTION_VALUES = [
    (t(600, amount="100.1234567891"), ["amount_max_2_decimals", "amount_positive"]),
    (t(601, amount="1e3"), ["amount_is_decimal", "amount_positive"]),
    (t(602, amount="100.120"), None),                             # exactly 100.12
    (t(603, txn_ts="2026-01-08 12:00:00"), ["txn_ts_within_logical_day"]),
    (t(604, txn_ts="2026-01-05 12:00:00+05:30"), None),          # served as 06:30:00 UTC
    (t(605, txn_ts="2026-01-05 12:00:00.1234567"), ["txn_ts_is_timestamp", "txn_ts_required"]),
    (t(606, merchant_name="Big\x01Bazaar"), ["merchant_name_no_control_characters"]),
    (t(607, txn_ts="2026-01-04 23:50:00"), None),                 # within the 15 minutes' tolerance
    (t(608, txn_ts="2026-01-04 23:00:00"), ["txn_ts_within_logical_day"]),
    (t(609), None),
    (t(609, amount="999.99"), ["conflicting_version"]),           # txn_id twice in a file, other amount
    (fixtures.transaction(5, acct=6, amount="1.00"), ["conflicting_version"]),  # in the good file too
    (fixtures.transaction(6, acct=7), "exact"),                   # an exact copy of a good row
]



def e(i, cust, **kw):
    return fixtures.campaign_event(i, cust, "Customer Reached", "08:00", **kw)


# campaign events go through the same ledger and contract rules (declared in include/mockgen/schema.py)
CAMPAIGN_VALUES = [
    (e(500, 20, stage_ts="2026-01-05 09:00:00+05:30"), None),    # served as 03:30:00 UTC
    (e(501, 21, stage_ts="2026-01-06 12:00:00"), ["stage_ts_within_logical_day"]),
    (e(502, 22, campaign_name="Cross" + chr(0) + "sell"), ["campaign_name_no_control_characters"]),
    (e(503, 23), None),
    (e(503, 23, channel="Email"), ["conflicting_version"]),      # same event_id, other content
    (e(504, 24), None),
    (e(504, 24), "exact"),
]
VALUES = {C: CUSTOMER_VALUES, T: TRANSACTION_VALUES, E: CAMPAIGN_VALUES}
GOOD = {C: f"{C}/dt={DAY1}/part-00000.csv", T: f"{T}/dt={DAY1}/part-00000.csv"}


def land_day1(lander: Lander) -> dict[str, list[badfiles.BadFile]]:
    fixtures.land_day1(lander)   # the good files, with their manifests
    store, container = lander.store, lander.landing
    catalogue = {}
    for entity, rows in ((C, [c(i) for i in range(1, 6)]), (T, [fixtures.transaction(i, acct=1 + i % 30)
                                                               for i in range(1, 6)])):
        good_path = GOOD[entity]
        good_bytes = store.get(container, good_path)
        good_rows = good_bytes.count(b"\n") - 1
        values = CUSTOMER_VALUES if entity == C else TRANSACTION_VALUES
        names, table = badfiles.table_rows(entity, [r for r, _ in values])
        value_file = badfiles.BadFile("values", f"{entity}/dt={DAY1}/part-00001.csv",
                                      badfiles.csv_bytes(names, table), "accepted", rows=len(table))
        catalogue[entity] = badfiles.catalogue(entity, DAY1, rows) + [value_file]
        badfiles.land(store, container, entity, DAY1, catalogue[entity], good=[(good_path, good_bytes, good_rows)])
    return catalogue


def land_day2(lander: Lander) -> None:
    fixtures.land_day2(lander)
    # a day-1 transaction re-landed on day 2 with another amount
    rows = fixtures.transactions_day(DAY2, n=50) + [fixtures.transaction(7, acct=8, amount="7.77")]
    fixtures.land(lander, T, DAY2, rows)
    # day 1's campaign events as re-landed (fixtures.land_day2), plus a file of value problems
    store, container = lander.store, lander.landing
    names, table = badfiles.table_rows(E, [r for r, _ in CAMPAIGN_VALUES])
    good_path = f"{E}/dt={DAY1}/part-00000.csv"
    good_bytes = store.get(container, good_path)
    badfiles.land(store, container, E, DAY1, [badfiles.BadFile("values", f"{E}/dt={DAY1}/part-00001.csv",
                                                              badfiles.csv_bytes(names, table), "accepted",
                                                              rows=len(table))],
                  good=[(good_path, good_bytes, good_bytes.count(b"\n") - 1)])


def build(warehouse: Warehouse, day: date) -> None:
    warehouse.dbt("build", "--exclude", "test_type:unit", "--vars", f"{{logical_date: '{day}'}}")


def make_warehouse(azurite, tmp_path_factory, name):
    suffix = uuid.uuid4().hex[:8]
    warehouse = Warehouse(tmp_path_factory.mktemp(name), azurite.connection_string,
                          landing_container=f"landing-{suffix}", curated_container=f"curated-{suffix}",
                          extra_env={"FSDP_EXPORT_CURATED": "false"})
    lander = Lander(open_store(azurite.connection_string), landing=warehouse.landing_container,
                    history=f"history-{suffix}")
    return warehouse, lander


@pytest.fixture(scope="module")
def day(azurite, tmp_path_factory):
    """Day 1 landed with every kind of bad file, day 2 already landed too, then the run for day 1;
    then the run for day 2."""
    warehouse, lander = make_warehouse(azurite, tmp_path_factory, "ledger")
    catalogue = land_day1(lander)
    land_day2(lander)
    build(warehouse, DAY1)
    after_day1 = {"ledger_dates": warehouse.query("select distinct landed_date from fs_accelerator.landing_ledger"),
                  "raw_dates": warehouse.query("select distinct _landed_date from fs_accelerator.transaction_raw "
                                               "union select distinct _landed_date from fs_accelerator.customer_overview_raw"),
                  "results": warehouse.run_results()}
    build(warehouse, DAY2)
    return warehouse, catalogue, after_day1


def ledger(warehouse, path):
    rows = warehouse.query("select outcome, refusal_reason, refusal_detail, rows, new_rows, conflicting_rows, "
                           "exact_duplicates, unaccounted_rows, refused_rows, notes from fs_accelerator.landing_ledger "
                           f"where path = '{path.replace(chr(39), chr(39) * 2)}'")
    assert len(rows) == 1, (path, rows)
    return dict(zip(("outcome", "reason", "detail", "rows", "new", "conflicting", "copies", "unaccounted",
                     "refused", "notes"), rows[0]))


def test_a_day_with_bad_files_builds_and_every_data_test_passes(day):
    _, _, after_day1 = day
    statuses = {r["unique_id"]: r["status"] for r in after_day1["results"]["results"]}
    # no-op: exposures and saved queries (nothing to build)
    assert statuses and all(s in ("success", "pass", "no-op") for s in statuses.values()), \
        {k: v for k, v in statuses.items() if v not in ("success", "pass", "no-op")}
    assert any("accounts_for_every_landed_row" in k for k in statuses)


@pytest.mark.parametrize("entity", [C, T])
def test_every_bad_file_is_registered_with_its_outcome_and_reason(day, entity):
    warehouse, catalogue, _ = day
    for bad in catalogue[entity]:
        row = ledger(warehouse, bad.path)
        assert (row["outcome"], row["reason"]) == (bad.outcome, bad.reason), (bad.kind, row["detail"])
        if bad.detail_contains:
            assert bad.detail_contains in row["detail"], bad.kind
        if bad.outcome == "refused":
            assert row["refused"] == bad.rows and row["new"] is None, bad.kind


@pytest.mark.parametrize("entity", [C, T])
def test_accepted_odd_files_are_read_by_name_so_their_rows_are_exact_copies(day, entity):
    # Regression: columns were taken by position: a file with swapped columns was served swapped.
    # The odd files carry the good file's first rows: read by name, every one is an exact copy of
    # the first landing of its version (the file first in name order), never a conflicting one.
    warehouse, catalogue, _ = day
    odd = [b for b in catalogue[entity] if b.outcome == "accepted" and b.kind != "values"]
    for bad in odd:
        row = ledger(warehouse, bad.path)
        assert row["conflicting"] == 0 and row["new"] + row["copies"] == row["rows"] == bad.rows, bad.kind
    paths = ", ".join("'" + p.replace("'", "''") + "'" for p in [b.path for b in odd] + [GOOD[entity]])
    new, copies = warehouse.query(f"select sum(new_rows), sum(exact_duplicates) from fs_accelerator.landing_ledger "
                                  f"where path in ({paths})")[0]
    good_rows = ledger(warehouse, GOOD[entity])["rows"]
    assert (new, copies) == (good_rows, sum(b.rows for b in odd))


def test_every_landed_row_is_accounted_for_file_by_file(day):
    warehouse, _, _ = day
    problems = warehouse.query("""
        select path from fs_accelerator.landing_ledger
        where kind = 'part' and (
            (outcome = 'accepted' and (rows <> new_rows + conflicting_rows + exact_duplicates or unaccounted_rows <> 0))
            or (outcome = 'refused' and refused_rows is distinct from rows))""")
    assert problems == []
    for raw, entities in (("customer_overview_raw", "'customers', 'customer_updates'"), ("transaction_raw", "'transactions'"),
                          ("campaign_event_raw", "'campaign_events'")):
        in_raw = warehouse.query(f"select count(*) from fs_accelerator.{raw}")[0][0]
        counted = warehouse.query("select sum(new_rows + conflicting_rows) from fs_accelerator.landing_ledger "
                                  f"where outcome = 'accepted' and entity in ({entities})")[0][0]
        assert in_raw == counted, raw


def test_the_value_file_is_accounted_exact_copies_and_conflicts_included(day):
    warehouse, _, _ = day
    customers = ledger(warehouse, f"{C}/dt={DAY1}/part-00001.csv")
    assert (customers["rows"], customers["copies"], customers["conflicting"]) == (len(CUSTOMER_VALUES), 1, 2)
    transactions = ledger(warehouse, f"{T}/dt={DAY1}/part-00001.csv")
    assert (transactions["rows"], transactions["copies"], transactions["conflicting"]) == (len(TRANSACTION_VALUES), 1, 2)
    events = ledger(warehouse, f"{E}/dt={DAY1}/part-00001.csv")
    assert (events["rows"], events["copies"], events["conflicting"]) == (len(CAMPAIGN_VALUES), 1, 1)


@pytest.mark.parametrize("entity, raw, rejected, key", [
    (C, "customer_overview_raw", "customer_overview_rejected", "cust_id"),
    (T, "transaction_raw", "transaction_rejected", "txn_id"),
    (E, "campaign_event_raw", "campaign_event_rejected", "event_id")])
def test_each_value_problem_is_quarantined_with_its_named_rule(day, entity, raw, rejected, key):
    warehouse, _, _ = day
    values = VALUES[entity]
    path = f"abfs://{warehouse.landing_container}/{entity}/dt={DAY1}/part-00001.csv"
    quarantined = {}
    for row_number, failed in warehouse.query(
            f"select _source_row, failed_rules from fs_accelerator.{rejected} where _source_file = '{path}'"):
        quarantined[row_number] = failed
    for position, (row, expected) in enumerate(values, start=1):
        if expected in (None, "exact"):
            assert position not in quarantined, (row[key], quarantined.get(position))
        else:
            assert quarantined.get(position) == expected, row[key]


def test_a_conflicting_version_names_the_file_it_conflicts_with_and_the_first_content_is_served(day):
    # Regression: a second content for a key and version vanished without a trace.
    warehouse, catalogue, _ = day
    # transaction 5 landed first in the first (by name) of the day's accepted files that carry it
    first = min([GOOD[T]] + [b.path for b in catalogue[T] if b.outcome == "accepted" and b.kind != "values"])
    rows = warehouse.query("select txn_id, _conflicts_with, amount from fs_accelerator.transaction_rejected "
                           "where 'conflicting_version' in failed_rules order by txn_id")
    assert (fixtures.transaction(5, acct=6)["txn_id"], f"abfs://{warehouse.landing_container}/{first}", "1.00") in rows
    day1 = f"abfs://{warehouse.landing_container}/{T}/dt={DAY1}/part-00000.csv"
    assert (fixtures.transaction(7, acct=8)["txn_id"], day1, "7.77") in rows   # re-landed on day 2
    served = dict(warehouse.query("select txn_id, cast(amount as varchar) from fs_accelerator.transaction_dp "
                                  "where txn_id in ('T202601050000000005', 'T202601050000000007')"))
    assert served == {"T202601050000000005": "105.25", "T202601050000000007": "107.25"}
    customer = warehouse.query("select city from fs_accelerator.customer_overview_dp where cust_id = '1000000001'")
    assert customer == [("Pune",)]   # day 2's update; never the conflicting "Agra"


def test_no_value_is_served_changed(day):
    warehouse, _, _ = day
    assert warehouse.query("select cast(modified_at as varchar) from fs_accelerator.customer_overview_dp "
                           "where cust_id in ('1000000705', '1000000706') order by cust_id") == [
        ("2026-01-05 03:30:00",), ("2026-01-05 09:00:00",)]
    served = dict(warehouse.query("select txn_id, cast(amount as varchar) || ' ' || cast(txn_ts as varchar) "
                                  "from fs_accelerator.transaction_dp where txn_id in "
                                  "('T202601050000000602', 'T202601050000000604', 'T202601050000000607')"))
    assert served == {"T202601050000000602": "100.12 2026-01-05 12:02:00",
                      "T202601050000000604": "704.25 2026-01-05 06:30:00",
                      "T202601050000000607": "707.25 2026-01-04 23:50:00"}
    # every served transaction is its landed text, exactly (amounts and timestamps in canonical form)
    changed = warehouse.query("""
        select count(*) from fs_accelerator.transaction_dp dp
        join fs_accelerator.transaction_raw raw on raw._record_id = dp.txn_id
        where cast(dp.amount as varchar) <> raw.amount and raw.amount not in ('100.120')""")
    assert changed == [(0,)]
    assert warehouse.query("select cast(stage_ts as varchar) from fs_accelerator.campaign_event_dp "
                           "where event_id = 'E202601050000000500'") == [("2026-01-05 03:30:00",)]
    assert warehouse.query("select count(*) from fs_accelerator.customer_overview_dp where zone not in "
                           "('North', 'South', 'East', 'West', 'Central', 'Overseas')") == [(0,)]


def test_the_good_rows_of_the_day_are_served(day):
    warehouse, _, _ = day
    served = {r[0] for r in warehouse.query("select cust_id from fs_accelerator.customer_overview_dp")}
    good = {fixtures.cust_id(i) for i in range(1, 52)} | {fixtures.cust_id(i) for i in (705, 706, 710, 711)}
    assert good <= served
    assert warehouse.query("select count(*) from fs_accelerator.transaction_dp where _landed_date = date '2026-01-05'"
                           )[0][0] == 200 + 4   # the good file's 200 plus 602, 604, 607, 609


def test_a_run_for_a_date_never_builds_a_later_dates_files(day):
    # Regression: a run for 2026-11-22 that started while 2026-11-23 was landing built both.
    _, _, after_day1 = day
    assert {r[0] for r in after_day1["ledger_dates"]} <= {DAY1, None}
    assert {r[0] for r in after_day1["raw_dates"]} == {DAY1}


PRODUCT_TABLES = ["customer_overview_dp", "account_dp", "product_dp", "transaction_dp",
                  "customer_overview_rejected", "transaction_rejected"]


def snapshot(warehouse: Warehouse) -> dict:
    out = {}
    for table in PRODUCT_TABLES:
        columns = [r[0] for r in warehouse.query(
            "select column_name from information_schema.columns where table_schema = 'fs_accelerator' "
            f"and table_name = '{table}' and column_name not in ('_validated_at', '_ingested_at', '_published_run_id', "
            "'_source_file', '_conflicts_with', '_source_file_version', '_record_id') order by ordinal_position")]
        out[table] = sorted(map(repr, warehouse.query(f"select {', '.join(columns)} from fs_accelerator.{table}")))
    return out


def test_a_backfill_in_order_gives_the_warehouse_the_days_gave_one_by_one(day, azurite, tmp_path_factory):
    warehouse, _, _ = day
    # day by day: each date landed, then its run
    daily, lander = make_warehouse(azurite, tmp_path_factory, "daily")
    fixtures.land_day1(lander)
    build(daily, DAY1)
    land_day2(lander)
    build(daily, DAY2)
    # backfill: every date landed first, then the runs in date order
    backfill, lander = make_warehouse(azurite, tmp_path_factory, "backfill")
    fixtures.land_day1(lander)
    land_day2(lander)
    build(backfill, DAY1)
    build(backfill, DAY2)
    build(backfill, DAY3)     # a later run with nothing new changes nothing
    assert snapshot(daily) == snapshot(backfill)
