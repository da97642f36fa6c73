"""Customer updates: the batch form (daily) and the single-customer update (seed update tool)."""
from __future__ import annotations

import hashlib
from datetime import date, timedelta
from pathlib import Path

import pytest

from include.mockgen import reference as ref
from include.mockgen.landing import Lander, open_store
from include.mockgen.runner import daily, update_one
from include.mockgen.updates import UpdateError, batch_updates, current_customers, single_update

D0 = date(2026, 11, 20)
D1 = D0 + timedelta(days=1)
PERSONAL_UPDATES = set(ref.UPDATABLE_COLUMNS["Personal"]) | {"modified_at", "branch_name", "zone"}


@pytest.fixture
def lander(tmp_path) -> Lander:
    lander = Lander(open_store(str(tmp_path)))
    daily(lander, D0, customers=2000, seed=3)
    return lander


def by_id(table) -> dict[str, dict]:
    return {r["cust_id"]: r for r in table.to_pylist()}


def test_first_daily_run_is_the_initial_load_and_later_days_land_updates_transactions_and_campaign_events(lander):
    summary = daily(lander, D1, seed=3, update_fraction=0.05)
    assert set(summary.landed) == {"customer_updates", "transactions", "campaign_events"}
    assert summary.landed["customer_updates"].rows == 100
    assert summary.landed["transactions"].rows > 0 and summary.landed["campaign_events"].rows > 0


def test_batch_updates_are_new_versions_with_a_later_modified_at_inside_the_day(lander):
    current = current_customers(lander, through=D1)
    before = by_id(current)
    updates = batch_updates(current, 3, D1, 0.05).to_pylist()
    assert len(updates) == 100 and len({u["cust_id"] for u in updates}) == 100
    for u in updates:
        old = before[u["cust_id"]]
        assert old["modified_at"] < u["modified_at"] and u["modified_at"].startswith(D1.isoformat())
        changed = {k for k in u if u[k] != old[k]}
        allowed = PERSONAL_UPDATES if u["customer_type"] == "Personal" else (
            set(ref.UPDATABLE_COLUMNS["Corporate"]) | {"modified_at", "branch_name", "zone"})
        assert {"modified_at"} < changed <= allowed, changed


def test_batch_updates_keep_values_valid_and_consistent(lander):
    current = current_customers(lander, through=D1)
    for u in batch_updates(current, 3, D1, 0.2).to_pylist():
        assert u["cust_segment"] in ref.SEGMENTS and u["afflunce_level"] in ref.AFFLUENCE
        nationality = "Indian" if u["customer_category"] == "Resident Indian" else u["nationality"]
        assert (u["city"], u["state"], u["pin"], u["country"]) in ref.CITIES_BY_NATIONALITY[nationality]
        assert u["country_code"] == ref.COUNTRY_CODES[u["country"]]
        assert 300 <= int(u["cibil_score"]) <= 900 and u["cibil_check_date"] <= D1.isoformat()
        if u["customer_type"] == "Personal" and u["minor_flag"] == "No":
            assert (u["marital_status"] or "") in ref.MARITAL_BY_TITLE[u["cust_title"] or ""]


def test_rerunning_a_day_lands_the_same_bytes(lander, tmp_path):
    def digest():
        return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(Path(tmp_path, "landing").rglob("dt=2026-11-21/*.csv"))}
    daily(lander, D1, seed=3)
    first = digest()
    daily(lander, D1, seed=3)
    assert first and digest() == first


def test_the_latest_version_includes_earlier_days_updates(lander):
    daily(lander, D1, seed=3, update_fraction=0.05)
    updated = by_id(lander.read("customer_updates"))
    latest = by_id(current_customers(lander, through=D1 + timedelta(days=1)))
    for cust_id, row in updated.items():
        assert latest[cust_id] == row


def test_single_update_changes_the_value_and_lands_a_newer_version(lander):
    daily(lander, D1, seed=3, update_fraction=0.01)
    before = by_id(current_customers(lander, through=D1))
    cust_id = next(i for i, r in before.items() if r["customer_type"] == "Personal" and r["customer_category"] == "Resident Indian")
    update_one(lander, D1, cust_id, {"afflunce_level": _other(before[cust_id]["afflunce_level"]), "city": "Pune"})
    rows = [r for r in lander.read("customer_updates").to_pylist()]
    assert len(rows) == 21                          # the day's batch is kept
    new = [r for r in rows if r["cust_id"] == cust_id][-1]
    assert new["modified_at"] > before[cust_id]["modified_at"]
    assert (new["city"], new["state"], new["pin"], new["country"], new["country_code"]) == (
        "Pune", "Maharashtra", "411001", "India", "+91")
    assert new["branch_name"].startswith("Pune ") and new["zone"] == "West"


def _other(value):
    return next(v for v in ref.AFFLUENCE if v != value)


@pytest.fixture
def current(lander):
    return current_customers(lander, through=D1)


def first(current, customer_type):
    return next(r for r in current.to_pylist() if r["customer_type"] == customer_type and r["minor_flag"] != "Yes")


@pytest.mark.parametrize("changes, message", [
    ({"cust_segment": "Metro"}, "invalid value 'Metro' for cust_segment"),
    ({"cibil_score": "950"}, "cibil_score"),
    ({"cibil_score": "7e2"}, "cibil_score"),
    ({"email_addr": "Someone@Example.com"}, "email_addr"),
    ({"mobile_number1": "12345"}, "mobile_number1"),
    ({"cibil_check_date": "2026-02-30"}, "cibil_check_date"),
    ({"cibil_check_date": "2099-01-01"}, "not after"),
    ({"city": "Atlantis"}, "unknown city"),
    ({"country_code": "+44"}, "country_code"),
    ({"favourite_colour": "blue"}, "unknown column"),
    ({"created_at": "2020-01-01 00:00:00"}, "cannot be updated"),
    ({"customer_type": "Corporate"}, "cannot change"),
    ({}, "nothing to update"),
])
def test_single_update_refuses_invalid_changes_with_a_clear_message(current, changes, message):
    row = first(current, "Personal")
    with pytest.raises(UpdateError, match=message):
        single_update(current, row["cust_id"], changes, D1)


def test_single_update_refuses_personal_attributes_for_corporate_and_merchant(current):
    for customer_type in ("Corporate", "Merchant"):
        row = first(current, customer_type)
        with pytest.raises(UpdateError, match="cannot be updated for a"):
            single_update(current, row["cust_id"], {"gender": "Male"}, D1)
        assert single_update(current, row["cust_id"], {"customer_type": "Merchant" if customer_type == "Corporate"
                                                        else "Corporate"}, D1).num_rows == 1


def test_single_update_keeps_title_gender_and_marital_rules(current):
    row = next(r for r in current.to_pylist() if r["gender"] == "Male" and r["minor_flag"] == "No")
    with pytest.raises(UpdateError, match="does not go with gender"):
        single_update(current, row["cust_id"], {"cust_title": "Mrs"}, D1)
    new = single_update(current, row["cust_id"], {"gender": "Female", "cust_title": "Mrs", "marital_status": "Married"}, D1)
    assert new.to_pylist()[0]["cust_title"] == "Mrs"


@pytest.mark.parametrize("cust_id", ["1999999999", "1000000001' OR '1'='1", "", "abc"])
def test_single_update_refuses_unknown_or_malformed_ids(current, cust_id):
    with pytest.raises(UpdateError, match="does not exist|invalid customer id"):
        single_update(current, cust_id, {"cust_segment": "Urban"}, D1)


def test_bad_rows_on_later_days_go_to_customer_updates_and_transactions(lander):
    summary = daily(lander, D1, seed=3, update_fraction=0.01, bad_rows=12)
    assert dict(summary.bad_rows["customer_updates"]) == {k: 2 for k in summary.bad_rows["customer_updates"]}
    assert sum(summary.bad_rows["transactions"].values()) == 12
    updates = lander.read("customer_updates").to_pylist()
    assert len(updates) == 20 + 12
    assert sum(u["cust_id"] is None for u in updates) == 2
    assert sum(u["cust_segment"] == "Metro" for u in updates) == 2
    assert sum(not 300 <= int(u["cibil_score"]) <= 900 for u in updates) == 2
    assert all(u["modified_at"].startswith(D1.isoformat()) for u in updates)
