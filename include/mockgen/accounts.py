"""Accounts: every customer holds 1-3 products of the catalogue (the seed's "Account information
entity"; its generator is not shown, so the rules are ours, stated next to each rule).

Accounts part k is generated from customers part k (same customers, own RNG stream), so it is as
deterministic and part-count independent as the customers.
"""
from __future__ import annotations

from datetime import date

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from include.mockgen import reference as ref
from include.mockgen.engine import (Cat, Derived, EntitySpec, Money, digits, group_weighted_choice, rng_for,
                                    uniform_dates, uniform_seconds, weight_matrix)
from include.mockgen.products import CATALOGUE, PRODUCT_INDEX, PRODUCT_TYPE_CODE, PRODUCT_TYPES
from include.mockgen.schema import ACCOUNTS

FIRST_ACCOUNT_ID = 100_000_000_000     # 12 digits: FIRST_ACCOUNT_ID + customer number * 3 + slot
ACCOUNT_STATUSES = ("Active", "Dormant", "Closed")
PRODUCT_IDS = tuple(p.product_id for p in CATALOGUE)
KIND = PRODUCT_TYPE_CODE
CARD, SAVINGS, CURRENT, DEPOSIT, PERSONAL_LOAN, HOME_LOAN = range(len(PRODUCT_TYPES))

# How many accounts a customer holds, by profile.
COUNT_WEIGHTS = {"minor": (1.0, 0.0, 0.0), "personal": (0.40, 0.40, 0.20), "business": (0.30, 0.40, 0.30)}

# Product weights per (profile, slot). Minors hold a junior savings account only; the first account
# of an adult is a savings account (Personal) or a current account (Corporate/Merchant).
_PROFILES = ("minor", "personal_first", "personal_more", "corporate_first", "merchant_first", "business_more")
_PRODUCT_WEIGHTS = weight_matrix(_PROFILES, PRODUCT_IDS, {
    "minor": {"PRD0010": 1.0},
    "personal_first": {"PRD0008": 0.75, "PRD0009": 0.25},
    "personal_more": {"PRD0001": 0.12, "PRD0002": 0.08, "PRD0003": 0.16, "PRD0004": 0.14, "PRD0005": 0.04,
                      "PRD0006": 0.10, "PRD0007": 0.02, "PRD0013": 0.12, "PRD0014": 0.06, "PRD0015": 0.10,
                      "PRD0016": 0.06},
    "corporate_first": {"PRD0011": 1.0},
    "merchant_first": {"PRD0012": 1.0},
    "business_more": {"PRD0001": 0.20, "PRD0002": 0.15, "PRD0005": 0.10, "PRD0013": 0.30, "PRD0015": 0.25},
})
# Not eligible (CIBIL below the product's minimum): a card falls back to the entry card, then
# anything still out of reach to a fixed deposit.
ENTRY_CARD, FALLBACK_PRODUCT = PRODUCT_INDEX["PRD0006"], PRODUCT_INDEX["PRD0013"]

# Credit limits (cards by affluence, loans: sanctioned amount) in INR: (low, high), rounded to 5,000.
CARD_LIMITS = {"High": (300_000, 1_000_000), "Low": (50_000, 150_000), "Medium": (100_000, 400_000)}
LOAN_LIMITS = {"Personal Loan": (100_000, 1_500_000), "Home Loan": (2_000_000, 15_000_000)}
# Median balances of deposit accounts by affluence (lognormal, sigma 1).
DEPOSIT_MEDIANS = {"High": 300_000, "Low": 15_000, "Medium": 60_000}


def _slot_profile(ctx) -> np.ndarray:
    first = ctx["_slot"] == 0
    ctype = ctx["_ctype"]
    return np.select(
        [ctx["_minor"], (ctype == 0) & first, ctype == 0, (ctype == 1) & first, (ctype == 2) & first],
        [0, 1, 2, 3, 4], default=5).astype(np.int32)


def _product(ctx, rng):
    """The product of the slot's profile; a card the customer's CIBIL score does not reach becomes
    the entry card, and what is still out of reach a fixed deposit."""
    product = group_weighted_choice(rng, _slot_profile(ctx), _PRODUCT_WEIGHTS)
    min_score = np.array([p.min_cibil_score for p in CATALOGUE])
    short = ctx["_cibil"] < min_score[product]
    product[short & (KIND[product] == CARD)] = ENTRY_CARD
    product[ctx["_cibil"] < min_score[product]] = FALLBACK_PRODUCT
    return product


def _open_date(ctx, rng):
    """The first account opens the day the customer was created; later ones any day up to the logical date."""
    created = ctx["_created_at"].astype("datetime64[D]")
    later = uniform_dates(rng, created, np.full(ctx.n, np.datetime64(ctx.logical_date, "D")), ctx.n)
    return np.where(ctx["_slot"] == 0, created, later)


def _created_at(ctx, rng):
    day = ctx["account_open_date"].astype("datetime64[s]")
    stamp = uniform_seconds(rng, day, day + np.timedelta64(86399, "s"), ctx.n)
    return np.maximum(stamp, ctx["_created_at"])


def _status(ctx, rng):
    """Active 85 %, Dormant 10 %, Closed 5 %; a deceased customer's accounts are Dormant or Closed."""
    u = rng.random(ctx.n)
    codes = np.where(u < 0.85, 0, np.where(u < 0.95, 1, 2))
    codes = np.where(ctx["_deceased"], np.where(u < 0.5, 1, 2), codes)
    return Cat(ACCOUNT_STATUSES, codes.astype(np.int32))


def _credit_limit(ctx, rng):
    """Cards: a limit in the affluence level's range; loans: the sanctioned amount; deposits: none."""
    kind = KIND[ctx["_product"]]
    # (type, affluence) -> range; affluence codes follow reference.AFFLUENCE
    lo_table = np.zeros((len(PRODUCT_TYPES), len(ref.AFFLUENCE)))
    hi_table = np.zeros_like(lo_table)
    for a, level in enumerate(ref.AFFLUENCE):
        lo_table[CARD, a], hi_table[CARD, a] = CARD_LIMITS[level]
        for loan, code in (("Personal Loan", PERSONAL_LOAN), ("Home Loan", HOME_LOAN)):
            lo_table[code, a], hi_table[code, a] = LOAN_LIMITS[loan]
    lo, hi = lo_table[kind, ctx["_affluence"]], hi_table[kind, ctx["_affluence"]]
    limit = np.round((lo + rng.random(ctx.n) * (hi - lo)) / 5000) * 5000
    return Money((limit * 100).astype(np.int64), valid=hi > 0)


def _balance(ctx, rng):
    """Cards: outstanding share of the limit (skewed low); loans: principal left; deposits:
    lognormal around the affluence median (current accounts 5x). Closed accounts: 0."""
    kind = KIND[ctx["_product"]]
    limit = ctx["credit_limit"].cents / 100.0
    u = rng.random(ctx.n)
    median = np.array([DEPOSIT_MEDIANS[a] for a in ref.AFFLUENCE])[ctx["_affluence"]] * np.where(
        kind == CURRENT, 5.0, 1.0)
    deposit = median * np.exp(rng.standard_normal(ctx.n))
    loan = (kind == PERSONAL_LOAN) | (kind == HOME_LOAN)
    balance = np.where(kind == CARD, limit * u * u, np.where(loan, limit * u, deposit))
    balance = np.where(ctx["account_status"].mask(("Closed",)), 0.0, balance)
    return Money(np.round(balance * 100).astype(np.int64))


ACCOUNT_SPEC = EntitySpec(ACCOUNTS, 0, [      # part size follows the customers' parts
    Derived("_number", fn=lambda ctx, rng: (ctx["_cust_id"] - 1_000_000_000) * 3 + ctx["_slot"] + FIRST_ACCOUNT_ID),
    Derived("account_id", ("_number",), fn=lambda ctx, rng: digits(ctx["_number"], 12)),
    Derived("cust_id", fn=lambda ctx, rng: digits(ctx["_cust_id"], 10)),
    Derived("_product", fn=_product),
    Derived("product_id", ("_product",), fn=lambda ctx, rng: Cat(PRODUCT_IDS, ctx["_product"])),
    Derived("account_open_date", fn=_open_date),
    Derived("account_status", fn=_status),
    Derived("credit_limit", ("_product",), fn=_credit_limit),
    Derived("current_balance", ("credit_limit", "account_status"), fn=_balance),
    Derived("currency_code", fn=lambda ctx, rng: Cat(("INR",), np.zeros(ctx.n, np.int8))),
    Derived("created_at", ("account_open_date",), fn=_created_at),
    Derived("modified_at", ("created_at",), fn=lambda ctx, rng: uniform_seconds(
        rng, ctx["created_at"], np.full(ctx.n, ctx.day_end), ctx.n)),
])


def generate_accounts_part(seed: int, logical_date: date, part: int, book: dict[str, np.ndarray]):
    """Accounts of the customers in ``book`` (one customers part): (pyarrow table, account book)."""
    rng = rng_for(seed, logical_date, "accounts", part, "_count")
    profile = np.where(book["minor"], 0, np.where(book["ctype"] == 0, 1, 2))
    counts = group_weighted_choice(rng, profile, np.array(list(COUNT_WEIGHTS.values()))) + 1
    owner = np.repeat(np.arange(len(counts)), counts)
    starts = np.cumsum(counts) - counts
    slot = np.arange(len(owner)) - np.repeat(starts, counts)
    inputs = {"_slot": slot, "_cust_id": book["cust_id"][owner], "_ctype": book["ctype"][owner],
              "_minor": book["minor"][owner], "_created_at": book["created_at"][owner],
              "_affluence": book["affluence"][owner], "_deceased": book["deceased"][owner],
              "_cibil": book["cibil"][owner]}
    ctx = ACCOUNT_SPEC.evaluate(seed, logical_date, part, len(owner), offset=0, inputs=inputs)
    return ACCOUNT_SPEC.materialise(ctx), account_book(ctx)


def account_book(ctx) -> dict[str, np.ndarray]:
    """What transactions and campaigns need per account: ids, owner, product, status, owner's
    affluence, credit limit and balance (INR)."""
    limit = ctx["credit_limit"]
    return {"account_id": ctx["_number"], "cust_id": ctx["_cust_id"], "product": ctx["_product"].astype(np.int8),
            "status": ctx["account_status"].codes.astype(np.int8), "affluence": ctx["_affluence"],
            "card_limit": np.where(limit.valid, limit.cents, 0).astype(np.float32) / 100,
            "card_balance": ctx["current_balance"].cents.astype(np.float32) / 100}


def account_book_from_tables(accounts: pa.Table, customers: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The account book from landed accounts (strings) and a customer book (for affluence); the
    latest version of each account counts, rows with unknown customers or products are skipped."""
    accounts = accounts.sort_by([("account_id", "ascending"), ("modified_at", "descending")])
    ids = np.asarray(accounts.column("account_id").to_numpy(zero_copy_only=False), dtype=object)
    keep = np.ones(len(ids), dtype=bool)
    keep[1:] = ids[1:] != ids[:-1]
    a = accounts.filter(pa.array(keep))
    col = lambda n: np.asarray(a.column(n).to_numpy(zero_copy_only=False), dtype=object)
    cust = col("cust_id").astype(np.int64)
    order = np.argsort(customers["cust_id"])
    sorted_ids = customers["cust_id"][order]
    pos = np.clip(np.searchsorted(sorted_ids, cust), 0, max(len(sorted_ids) - 1, 0))
    known = (sorted_ids[pos] == cust) if len(sorted_ids) else np.zeros(len(cust), bool)
    product = np.array([PRODUCT_INDEX.get(p, -1) for p in col("product_id")], dtype=np.int16)
    ok = known & (product >= 0)
    status = np.array([ACCOUNT_STATUSES.index(s) if s in ACCOUNT_STATUSES else 2 for s in col("account_status")], np.int8)
    def money(name: str) -> np.ndarray:
        text = a.column(name)
        number = pc.fill_null(pc.match_substring_regex(text, r"^-?[0-9]+([.][0-9]+)?$"), False)
        return pc.cast(pc.if_else(number, text, pa.scalar("0")), pa.float64()).to_numpy(zero_copy_only=False)

    return {"account_id": col("account_id").astype(np.int64)[ok], "cust_id": cust[ok], "product": product[ok].astype(np.int8),
            "status": status[ok], "affluence": customers["affluence"][order][pos][ok],
            "card_limit": money("credit_limit").astype(np.float32)[ok], "card_balance": money("current_balance").astype(np.float32)[ok]}
