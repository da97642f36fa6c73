"""Campaign events: journeys move through the stages in order, inside their days, with funnels that
differ by customer profile; a re-run of a day lands the same bytes; bad rows fail one rule each."""
from __future__ import annotations

import hashlib
from collections import Counter, defaultdict
from datetime import date, datetime, timedelta

import pyarrow as pa
import pytest

from include.mockgen import badrows
from include.mockgen.accounts import generate_accounts_part
from include.mockgen.campaigns import (ADVANCE, PROFILES, STAGES, campaign_events, campaign_state, customer_features,
                                       open_campaigns, profiles)
from include.mockgen.customers import CUSTOMER_SPEC, customer_book
from include.mockgen.landing import Lander, open_store
from include.mockgen.products import CATALOGUE
from include.mockgen.runner import daily
from include.mockgen.schema import ENTITIES

SEED, START, DAYS, N = 11, date(2026, 11, 10), 40, 20_000
CARDS = {p.product_id: p for p in CATALOGUE if p.product_type == "Credit Card"}


@pytest.fixture(scope="module")
def books():
    ctx = CUSTOMER_SPEC.evaluate(SEED, START, 0, N)
    customers = customer_book(ctx)
    _, accounts = generate_accounts_part(SEED, START, 0, customers)
    return customers, accounts


@pytest.fixture(scope="module")
def simulated(books):
    """DAYS days of events over fixed customer and account books, each day continuing the journeys
    landed before it (as daily() does from the landing)."""
    customers, accounts = books
    days: list[tuple[date, pa.Table]] = []
    for i in range(DAYS):
        day = START + timedelta(days=i)
        landed = pa.concat_tables([t for _, t in days]) if days else None
        state = campaign_state(landed, open_campaigns(day)) if landed is not None else None
        days.append((day, campaign_events(SEED, day, customers, accounts, state)))
    return days


def journeys(simulated) -> dict[tuple[str, str], list[dict]]:
    out = defaultdict(list)
    for day, table in simulated:
        for row in table.to_pylist():
            out[(row["campaign_id"], row["cust_id"])].append({**row, "day": day})
    return out


def test_the_events_land_the_contract_columns(simulated):
    assert all(t.column_names == ENTITIES["campaign_events"].column_names for _, t in simulated)


def test_every_journey_reaches_its_stages_once_in_order_inside_each_day(simulated):
    seen = journeys(simulated)
    assert len(seen) > 5000
    for key, events in seen.items():
        stages = [STAGES.index(e["stage"]) for e in events]
        assert sorted(stages) == list(range(len(stages))), key          # a prefix of the stages, each once
        ordered = sorted(events, key=lambda e: STAGES.index(e["stage"]))
        times = [e["stage_ts"] for e in ordered]
        assert times == sorted(times), key
        assert all(datetime.combine(e["day"], datetime.min.time()) <= e["stage_ts"]
                   < datetime.combine(e["day"] + timedelta(days=1), datetime.min.time()) for e in events)
        assert len({e["product_id"] for e in events}) == 1 and events[0]["product_id"] in CARDS
        assert ordered[0]["stage"] == "Customer Reached" and ordered[0]["campaign_id"] == f"XSELL-CC-{ordered[0]['day']:%Y-%m}"


def test_event_ids_are_unique_and_carry_their_day(simulated):
    for day, table in simulated:
        ids = table.column("event_id").to_pylist()
        assert len(set(ids)) == len(ids) and all(i.startswith(f"E{day:%Y%m%d}") and len(i) == 19 for i in ids)


def test_only_the_audience_is_reached_and_an_application_below_the_cards_minimum_never_reaches_kyc(books, simulated):
    customers, accounts = books
    audience = dict(zip(customers["cust_id"].tolist(), customer_features(customers, accounts)["audience"].tolist()))
    cibil = dict(zip(customers["cust_id"].tolist(), customers["cibil"].tolist()))
    for events in journeys(simulated).values():
        cust = int(events[0]["cust_id"])
        assert audience[cust]
        if cibil[cust] < CARDS[events[0]["product_id"]].min_cibil_score:
            assert all(STAGES.index(e["stage"]) <= STAGES.index("Completed Application") for e in events)


def test_a_campaign_reaches_customers_every_day_of_its_month_and_journeys_continue_into_the_next(simulated):
    reached = Counter((d, r["campaign_id"]) for d, t in simulated for r in t.to_pylist() if r["stage"] == "Customer Reached")
    november = [reached[(d, "XSELL-CC-2026-11")] for d, _ in simulated if d.month == 11]
    assert min(november) > 200                      # ~ 0.6 x audience / 30 per day
    assert not any(reached[(d, "XSELL-CC-2026-11")] for d, _ in simulated if d.month == 12)
    later = [r for d, t in simulated if d.month == 12 for r in t.to_pylist() if r["campaign_id"] == "XSELL-CC-2026-11"]
    assert later and all(r["stage"] != "Customer Reached" for r in later)


def test_how_far_customers_get_depends_on_their_profile(books, simulated):
    customers, accounts = books
    profile = dict(zip(customers["cust_id"].tolist(),
                       (PROFILES[p] for p in profiles(SEED, customers, customer_features(customers, accounts)))))
    depth = defaultdict(Counter)                  # profile -> stage -> journeys that reached it
    for (campaign, cust), events in journeys(simulated).items():
        if campaign == "XSELL-CC-2026-11":
            for e in events:
                depth[profile[int(cust)]][e["stage"]] += 1
    assert set(depth) == set(PROFILES)
    explored = {p: c["Explored Product"] / c["Customer Reached"] for p, c in depth.items()}
    # the ordering the ADVANCE table sets, visible in the landed events
    assert explored["Deal Chasers"] > explored["Generic"] > explored["Prosperous and Content"] > explored["Self Aware Avoiders"]
    for p, c in depth.items():
        counts = [c[s] for s in STAGES]
        assert counts == sorted(counts, reverse=True), (p, counts)
        assert abs(explored[p] - ADVANCE[p][0]) < 0.12, (p, explored[p])
    assert depth["Deal Chasers"]["Onboarded"] > 0


def test_a_rerun_of_a_day_lands_the_same_bytes(tmp_path):
    lander = Lander(open_store(str(tmp_path)))
    days = [date(2026, 11, 29), date(2026, 11, 30), date(2026, 12, 1)]
    for day in days:
        daily(lander, day, seed=3, customers=3000, bad_rows=600)   # bad campaign events: 600 per 3000 customers
    files = lambda: {p: hashlib.sha256(lander.store.get(lander.landing, p)).hexdigest()
                     for p in lander.landed_paths("campaign_events")}
    before = files()
    assert len(before) == 6                      # the day's events and its bad rows, per day
    daily(lander, days[1], seed=3, customers=3000, bad_rows=600)
    assert files() == before


def test_bad_rows_come_one_kind_each_with_ids_after_the_days_events(simulated):
    day, table = simulated[5]
    bad, counts = badrows.corrupt_campaign_events(SEED, day, table, 14)
    assert counts == Counter({k: 2 for k in badrows.CAMPAIGN_EVENT_KINDS})
    rows = bad.to_pylist()
    ids = [r["event_id"] for r in rows if r["event_id"]]
    assert len(ids) == 12 and not set(ids) & set(table.column("event_id").to_pylist())
    kinds = badrows._kinds("campaign_events", 14)
    by_kind = defaultdict(list)
    for kind, row in zip(kinds, rows):
        by_kind[kind].append(row)
    valid = {(r["campaign_id"], r["cust_id"], r["stage"]) for r in table.to_pylist()}
    assert all((r["campaign_id"], r["cust_id"], r["stage"]) in valid for r in by_kind["repeated_stage"])
    assert all(r["stage"] not in STAGES for r in by_kind["unknown_stage"])
    assert all(r["stage_ts"].date() < day for r in by_kind["outside_logical_day"])
    assert all(r["product_id"] == "PRD9999" for r in by_kind["unknown_product"])


def test_bad_campaign_events_keep_the_proportion_bad_rows_has_to_the_customer_base():
    # Regression: --bad-rows 25 put 25 bad events next to a 500-customer day's 12 real ones (67 %
    # rejected), so every default quick-start run ended "with warnings" on campaign_event_dp
    from include.mockgen.runner import campaign_bad_rows

    assert campaign_bad_rows(25, 12, 500) == 0
    assert campaign_bad_rows(100, 12, 500) == 2
    assert campaign_bad_rows(25, 2_400, 100_000) == 0 and campaign_bad_rows(1_000, 2_400, 100_000) == 24
    assert campaign_bad_rows(25, 12, 0) == 0 and campaign_bad_rows(0, 12, 500) == 0
    assert campaign_bad_rows(50, 1_000, 100) == 50                 # never more than asked for
