"""Products, accounts and transactions landed through the local store: referential integrity,
consistency rules, skew, and determinism of the landed bytes."""
from __future__ import annotations

import hashlib
import re
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

from include.mockgen.customers import CUSTOMER_SPEC
from include.mockgen.engine import rng_for
from include.mockgen.landing import Lander, open_store
from include.mockgen.products import CATALOGUE
from include.mockgen.runner import generate
from include.mockgen.schema import ENTITIES
from include.mockgen.transactions import TRANSACTION_SPEC, activity

D = date(2026, 11, 20)


def land(root: Path, **kw) -> Lander:
    lander = Lander(open_store(str(root)))
    generate(lander, kw.pop("logical_date", D), **{"customers": 3000, "seed": 5, **kw})
    return lander


def files(root: Path) -> dict[str, str]:
    return {str(p.relative_to(root)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*.csv")) if "landing" in p.parts}


@pytest.fixture(scope="module")
def landed(tmp_path_factory) -> dict[str, list[dict]]:
    lander = land(tmp_path_factory.mktemp("mockgen"))
    return {e: lander.read(e).to_pylist() for e in ("products", "customers", "accounts", "transactions")}


def test_every_entity_lands_exactly_the_contract_columns(tmp_path):
    lander = land(tmp_path, customers=50)
    for entity in ("products", "customers", "accounts", "transactions"):
        assert lander.read(entity).column_names == ENTITIES[entity].column_names


def test_products_are_the_fixed_catalogue(landed):
    assert [p["product_id"] for p in landed["products"]] == [p.product_id for p in CATALOGUE]
    cards = [p for p in landed["products"] if p["product_type"] == "Credit Card"]
    assert len(cards) >= 5 and all(p["card_network"] for p in cards)
    assert all(p["card_network"] is None for p in landed["products"] if p["product_type"] != "Credit Card")


def test_every_account_belongs_to_a_landed_customer_and_product(landed):
    customers = {c["cust_id"] for c in landed["customers"]}
    products = {p["product_id"] for p in landed["products"]}
    assert all(a["cust_id"] in customers and a["product_id"] in products for a in landed["accounts"])
    per_customer = Counter(a["cust_id"] for a in landed["accounts"])
    assert set(per_customer) == customers and set(per_customer.values()) <= {1, 2, 3}


def test_every_transaction_belongs_to_a_landed_account(landed):
    accounts = {a["account_id"] for a in landed["accounts"]}
    assert all(t["account_id"] in accounts for t in landed["transactions"])
    assert len(landed["transactions"]) == 30_000


def test_account_ids_are_unique_12_digits_and_open_after_the_customer_was_created(landed):
    created = {c["cust_id"]: c["created_at"][:10] for c in landed["customers"]}
    ids = [a["account_id"] for a in landed["accounts"]]
    assert len(set(ids)) == len(ids) and all(re.fullmatch(r"\d{12}", i) for i in ids)
    for a in landed["accounts"]:
        assert created[a["cust_id"]] <= a["account_open_date"] <= D.isoformat()
        assert a["created_at"] <= a["modified_at"]


def test_limits_and_balances_fit_the_product_type(landed):
    kind = {p["product_id"]: p["product_type"] for p in landed["products"]}
    minors = {c["cust_id"] for c in landed["customers"] if c["minor_flag"] == "Yes"}
    for a in landed["accounts"]:
        t = kind[a["product_id"]]
        has_limit = t in ("Credit Card", "Personal Loan", "Home Loan")
        assert (a["credit_limit"] is not None) == has_limit
        if has_limit:
            assert Decimal(a["current_balance"]) <= Decimal(a["credit_limit"])
        if a["account_status"] == "Closed":
            assert Decimal(a["current_balance"]) == 0
        if a["cust_id"] in minors:
            assert t == "Savings Account"


def test_transaction_ids_are_unique_per_day_and_timestamps_inside_the_day(landed):
    ids = [t["txn_id"] for t in landed["transactions"]]
    assert len(set(ids)) == len(ids)
    assert all(re.fullmatch(r"T20261120\d{10}", i) for i in ids)
    assert all(t["txn_ts"].startswith("2026-11-20 ") for t in landed["transactions"])
    assert all(Decimal(t["amount"]) > 0 for t in landed["transactions"])


def test_channel_follows_mode_and_salary_and_refund_are_credits(landed):
    channels = {"UPI": {"Mobile"}, "QR": {"Mobile"}, "Card": {"POS", "Web"}, "NetBanking": {"Web"}, "ATM": {"ATM"},
                "Cheque": {"Branch"}, "NEFT": {"Web", "Mobile", "Branch"}, "IMPS": {"Mobile", "Web"}}
    for t in landed["transactions"]:
        assert t["channel"] in channels[t["txn_mode"]]
        if t["txn_reason"] in ("Salary", "Refund"):
            assert t["txn_type"] == "Credit"
        elif t["txn_reason"] != "Transfer":
            assert t["txn_type"] == "Debit"
        assert (t["merchant_name"] is None) == (t["txn_reason"] == "Transfer")
    assert {"Exam", "Food & Grocery", "Travel", "Ecom"} <= {t["txn_reason"] for t in landed["transactions"]}


def test_closed_accounts_never_transact(landed):
    closed = {a["account_id"] for a in landed["accounts"] if a["account_status"] == "Closed"}
    assert closed and not closed & {t["account_id"] for t in landed["transactions"]}


def test_a_few_customers_transact_far_more_than_most(landed):
    owner = {a["account_id"]: a["cust_id"] for a in landed["accounts"]}
    per_customer = np.array(sorted(Counter(owner[t["account_id"]] for t in landed["transactions"]).values()))[::-1]
    top_tenth = per_customer[: len(landed["customers"]) // 10].sum() / per_customer.sum()
    assert top_tenth > 0.35
    assert per_customer[0] > 20 * np.median(per_customer)


def test_customer_activity_is_the_same_every_day():
    ids = np.arange(1_000_000_000, 1_000_001_000)
    assert np.array_equal(activity(3, ids), activity(3, ids))
    assert not np.array_equal(activity(3, ids), activity(4, ids))


def test_same_seed_and_date_land_byte_identical_files(tmp_path):
    land(tmp_path / "a", customers=400, bad_rows=12)
    land(tmp_path / "b", customers=400, bad_rows=12)
    a, b = files(tmp_path / "a"), files(tmp_path / "b")
    assert a and a == b


def test_a_different_date_or_seed_lands_different_data(tmp_path):
    land(tmp_path / "a", customers=200)
    land(tmp_path / "b", customers=200, logical_date=D + timedelta(days=1))
    land(tmp_path / "c", customers=200, seed=6)
    a, b, c = files(tmp_path / "a"), files(tmp_path / "b"), files(tmp_path / "c")
    customers = "landing/customers/dt=2026-11-20/part-00000.csv"
    assert a[customers] != c[customers]
    assert set(a.values()).isdisjoint(set(b.values()) - {a["landing/products/dt=2026-11-20/part-00000.csv"]})


def test_a_part_does_not_depend_on_how_many_parts_run(monkeypatch):
    monkeypatch.setattr(CUSTOMER_SPEC, "part_size", 1000)
    assert CUSTOMER_SPEC.part_sizes(2500) == [1000, 1000, 500]
    one = CUSTOMER_SPEC.materialise(CUSTOMER_SPEC.evaluate(1, D, 1, 1000))
    again = CUSTOMER_SPEC.materialise(CUSTOMER_SPEC.evaluate(1, D, 1, 1000))
    assert one.equals(again)
    assert one["cust_id"][0].as_py() == "1000001000"


def test_rng_streams_differ_per_entity_part_and_rule():
    draws = {(e, p, r): rng_for(1, D, e, p, r).random() for e in ("customers", "transactions") for p in (0, 1)
             for r in ("a", "b")}
    assert len(set(draws.values())) == len(draws)


def test_bad_rows_knob_adds_each_kind_deterministically(tmp_path):
    lander = Lander(open_store(str(tmp_path)))
    summary = generate(lander, D, customers=300, transactions=500, bad_rows=12, seed=5)
    assert dict(summary.bad_rows["customers"]) == {k: 2 for k in summary.bad_rows["customers"]}
    assert sum(summary.bad_rows["transactions"].values()) == 12
    customers = lander.read("customers").to_pylist()
    assert len(customers) == 312
    assert sum(c["cust_id"] is None for c in customers) == 2
    assert sum(c["cust_segment"] == "Metro" for c in customers) == 2
    assert sum(not re.match(r"^[a-z0-9.]+@[a-z]+\.[a-z]{2,3}", c["email_addr"] or "") for c in customers) >= 2
    assert sum(c["cibil_score"] is not None and not 300 <= int(c["cibil_score"]) <= 900 for c in customers) == 2
    keyed = Counter(tuple(sorted((k, v) for k, v in c.items() if v is not None)) for c in customers)
    assert sum(n - 1 for n in keyed.values()) == 2                     # duplicate versions: exact copies
    txns = lander.read("transactions").to_pylist()
    accounts = {a["account_id"] for a in lander.read("accounts").to_pylist()}
    assert sum(t["account_id"] not in accounts for t in txns) == 3
    assert sum(t["txn_type"] not in ("Debit", "Credit") for t in txns) == 3
    assert sum(Decimal(t["amount"]) <= 0 for t in txns) == 3
    assert sum(t["txn_id"] is None for t in txns) == 3


def test_transaction_parts_hold_a_million_rows_each():
    assert TRANSACTION_SPEC.part_sizes(2_500_000) == [1_000_000, 1_000_000, 500_000]



@pytest.fixture(scope="module")
def books():
    from include.mockgen.accounts import generate_accounts_part
    from include.mockgen.customers import customer_book
    cbook = customer_book(CUSTOMER_SPEC.evaluate(11, D, 0, 20_000))
    table, abook = generate_accounts_part(11, D, 0, cbook)
    return cbook, table.to_pylist(), abook


def test_accounts_per_customer_follow_the_profile_weights(books):
    from include.mockgen.accounts import COUNT_WEIGHTS
    cbook, accounts, _ = books
    per_customer = Counter(int(a["cust_id"]) for a in accounts)
    for profile, mask in (("minor", cbook["minor"]), ("personal", (cbook["ctype"] == 0) & ~cbook["minor"]),
                          ("business", cbook["ctype"] != 0)):
        ids = cbook["cust_id"][mask]
        counts = Counter(per_customer[int(i)] for i in ids)
        for k, w in enumerate(COUNT_WEIGHTS[profile], start=1):
            assert counts[k] / len(ids) == pytest.approx(w, abs=0.03), (profile, k)


def test_first_accounts_are_savings_for_people_and_current_accounts_for_businesses(books):
    cbook, accounts, _ = books
    kind = {p.product_id: p.product_type for p in CATALOGUE}
    ctype = dict(zip(cbook["cust_id"].tolist(), cbook["ctype"].tolist()))
    seen = set()
    for a in accounts:                      # accounts are ordered by customer, first slot first
        if a["cust_id"] in seen:
            continue
        seen.add(a["cust_id"])
        want = "Savings Account" if ctype[int(a["cust_id"])] == 0 else "Current Account"
        assert kind[a["product_id"]] == want


def test_transaction_modes_follow_the_product_type_weights(books):
    from include.mockgen.transactions import MODE_BY_PRODUCT_TYPE, MODES, PRODUCT_TYPES, transaction_parts
    _, _, abook = books
    txns = next(transaction_parts(11, D, 100_000, abook)).to_pylist()
    kind = {p.product_id: p.product_type for p in CATALOGUE}
    product_of = dict(zip(abook["account_id"].tolist(), abook["product"].tolist()))
    by_type = {}
    for t in txns:
        by_type.setdefault(kind[CATALOGUE[product_of[int(t["account_id"])]].product_id], Counter())[t["txn_mode"]] += 1
    for ptype in ("Credit Card", "Savings Account"):
        weights = MODE_BY_PRODUCT_TYPE[PRODUCT_TYPES.index(ptype)]
        total = sum(by_type[ptype].values())
        for mode, w in zip(MODES, weights / weights.sum()):
            assert by_type[ptype][mode] / total == pytest.approx(w, abs=0.025), (ptype, mode)


def test_amounts_grow_with_the_owners_affluence(books):
    from include.mockgen.transactions import transaction_parts
    cbook, _, abook = books
    txns = next(transaction_parts(11, D, 100_000, abook))
    level = dict(zip(abook["account_id"].tolist(), abook["affluence"].tolist()))
    amounts = {0: [], 1: [], 2: []}           # reference.AFFLUENCE order: High, Low, Medium
    for account, amount in zip(txns["account_id"].to_pylist(), txns["amount"].to_pylist()):
        amounts[level[int(account)]].append(float(amount))
    low, medium, high = (np.median(amounts[i]) for i in (1, 2, 0))
    assert low < medium < high
