"""Transactions of one logical day over an account book (the seed's "Transaction entity" and the
dashboards' modes, reasons, channels and debit/credit; the generator is ours).

Skew: each customer has an activity weight that is a stable function of (seed, cust_id), Pareto
distributed (alpha 1.3), so the same few customers transact far more than most on every day and
Low/Medium/High spend segments emerge. Amounts scale with the owner's affluence.
"""
from __future__ import annotations

from datetime import date

import numpy as np

from include.mockgen import reference as ref
from include.mockgen.engine import (Cat, Derived, EntitySpec, Money, digits, group_choice, group_weighted_choice,
                                    stable_uniform, weight_matrix, weighted_codes, weighted_rows)
from include.mockgen.products import PRODUCT_TYPE_CODE, PRODUCT_TYPES
from include.mockgen.schema import TRANSACTIONS

TXN_PART_SIZE = 1_000_000
ACTIVITY_ALPHA, ACTIVITY_CAP = 1.3, 1000.0

MODES = ("UPI", "QR", "Card", "NetBanking", "NEFT", "IMPS", "ATM", "Cheque")
CHANNELS = ("Mobile", "Web", "POS", "ATM", "Branch")
REASONS = ("Exam", "Food & Grocery", "Travel", "Ecom", "Bills & Utilities", "Health", "Entertainment", "Fuel",
           "Salary", "Refund", "Transfer")
TXN_TYPES = ("Debit", "Credit")
TXN_STATUSES, TXN_STATUS_WEIGHTS = ("Success", "Failed", "Reversed"), (0.96, 0.03, 0.01)

# How often an account of a product type transacts, relative to a savings account.
TYPE_ACTIVITY = {"Credit Card": 1.0, "Savings Account": 1.0, "Current Account": 3.0, "Fixed Deposit": 0.02,
                 "Personal Loan": 0.05, "Home Loan": 0.05}
STATUS_ACTIVITY = (1.0, 0.02, 0.0)      # Active, Dormant, Closed (closed accounts never transact)

MODE_BY_PRODUCT_TYPE = weight_matrix(PRODUCT_TYPES, MODES, {
    "Credit Card": {"Card": 0.85, "UPI": 0.10, "QR": 0.05},
    "Savings Account": {"UPI": 0.38, "QR": 0.14, "Card": 0.16, "NetBanking": 0.08, "NEFT": 0.08, "IMPS": 0.07,
                        "ATM": 0.06, "Cheque": 0.03},
    "Current Account": {"NEFT": 0.25, "IMPS": 0.15, "NetBanking": 0.20, "UPI": 0.15, "QR": 0.10, "Cheque": 0.10,
                        "Card": 0.05},
    "Fixed Deposit": {"NEFT": 0.5, "NetBanking": 0.5},
    "Personal Loan": {"NEFT": 0.5, "NetBanking": 0.3, "Cheque": 0.2},
    "Home Loan": {"NEFT": 0.5, "NetBanking": 0.3, "Cheque": 0.2},
})
# Channel follows the mode: UPI/QR -> Mobile, Card -> POS/Web, NetBanking -> Web, ATM -> ATM, Cheque -> Branch.
CHANNEL_BY_MODE = weight_matrix(MODES, CHANNELS, {
    "UPI": {"Mobile": 1}, "QR": {"Mobile": 1}, "Card": {"POS": 0.6, "Web": 0.4}, "NetBanking": {"Web": 1},
    "NEFT": {"Web": 0.6, "Mobile": 0.2, "Branch": 0.2}, "IMPS": {"Mobile": 0.7, "Web": 0.3}, "ATM": {"ATM": 1},
    "Cheque": {"Branch": 1},
})
REASON_BY_MODE = weight_matrix(MODES, REASONS, {
    "UPI": {"Food & Grocery": 0.30, "Ecom": 0.12, "Travel": 0.10, "Bills & Utilities": 0.15, "Entertainment": 0.08,
            "Health": 0.07, "Fuel": 0.08, "Exam": 0.03, "Transfer": 0.07},
    "QR": {"Food & Grocery": 0.45, "Fuel": 0.15, "Health": 0.10, "Entertainment": 0.10, "Travel": 0.10, "Ecom": 0.10},
    "Card": {"Food & Grocery": 0.22, "Ecom": 0.25, "Travel": 0.15, "Entertainment": 0.10, "Fuel": 0.10,
             "Health": 0.06, "Bills & Utilities": 0.06, "Exam": 0.02, "Refund": 0.04},
    "NetBanking": {"Bills & Utilities": 0.35, "Exam": 0.10, "Ecom": 0.15, "Travel": 0.10, "Transfer": 0.20,
                   "Health": 0.10},
    "NEFT": {"Salary": 0.35, "Transfer": 0.50, "Exam": 0.05, "Bills & Utilities": 0.10},
    "IMPS": {"Transfer": 0.80, "Refund": 0.10, "Salary": 0.10},
    "ATM": {"Transfer": 1.0},
    "Cheque": {"Transfer": 0.6, "Exam": 0.2, "Bills & Utilities": 0.2},
})
MERCHANTS_BY_REASON = {
    "Exam": ("National Testing Agency", "UPSC", "IELTS India", "Coursera", "BYJU'S"),
    "Food & Grocery": ("BigBasket", "DMart", "Swiggy", "Zomato", "Reliance Fresh", "Blinkit", "More Supermarket"),
    "Travel": ("IRCTC", "MakeMyTrip", "IndiGo", "Uber", "Ola", "Air India", "redBus"),
    "Ecom": ("Amazon", "Flipkart", "Myntra", "Meesho", "Nykaa", "Ajio"),
    "Bills & Utilities": ("Airtel", "Jio", "Tata Power", "BESCOM", "Mahanagar Gas", "ACT Fibernet"),
    "Health": ("Apollo Pharmacy", "Tata 1mg", "Practo", "MedPlus"),
    "Entertainment": ("BookMyShow", "Netflix", "PVR INOX", "Spotify", "Disney+ Hotstar"),
    "Fuel": ("Indian Oil", "HP Petrol Pump", "Bharat Petroleum", "Shell"),
    "Salary": ("Infosys Ltd", "Tata Consultancy Services", "Wipro Ltd", "HDFC Payroll", "Reliance Industries"),
    "Refund": ("Amazon", "Flipkart", "MakeMyTrip", "Swiggy"),
    "Transfer": (None,),
}
MEDIAN_AMOUNT = {"Exam": 2500, "Food & Grocery": 450, "Travel": 4500, "Ecom": 1800, "Bills & Utilities": 1500,
                 "Health": 1200, "Entertainment": 700, "Fuel": 2000, "Salary": 60000, "Refund": 900, "Transfer": 8000}
AFFLUENCE_FACTOR = {"High": 2.2, "Low": 0.6, "Medium": 1.0}
# Businesses move more money; deposits and loan repayments are larger than card spends.
PRODUCT_TYPE_FACTOR = {"Credit Card": 1.2, "Savings Account": 1.0, "Current Account": 3.0, "Fixed Deposit": 5.0,
                       "Personal Loan": 2.0, "Home Loan": 6.0}
# Transactions per hour of the day (UTC), relative: quiet nights, busy evenings.
HOUR_WEIGHTS = (1, 0.6, 0.4, 0.3, 0.3, 0.5, 1, 2, 3, 4, 5, 5, 6, 5, 5, 5, 5, 6, 7, 8, 8, 6, 4, 2)

_PRODUCT_TYPE_CODE = PRODUCT_TYPE_CODE


def activity(seed: int, cust_ids: np.ndarray) -> np.ndarray:
    """A customer's relative transaction activity: Pareto(alpha 1.3) from a hash of (seed, cust_id),
    the same on every day."""
    u = stable_uniform(seed, cust_ids, "activity")
    return np.minimum(u ** (-1.0 / ACTIVITY_ALPHA), ACTIVITY_CAP)


def account_weights(seed: int, book: dict[str, np.ndarray]) -> np.ndarray:
    kind = np.array([TYPE_ACTIVITY[t] for t in PRODUCT_TYPES])[_PRODUCT_TYPE_CODE[book["product"]]]
    return activity(seed, book["cust_id"]) * kind * np.asarray(STATUS_ACTIVITY)[book["status"]]


def _account(ctx, rng):
    return weighted_rows(rng, ctx["_cum_weights"], ctx.n)


def _txn_id(ctx, rng):
    """T + YYYYMMDD + 10 digits: the row number within the day, so ids are unique per day."""
    prefix = b"T" + ctx.logical_date.strftime("%Y%m%d").encode()
    return digits(np.arange(ctx.offset, ctx.offset + ctx.n, dtype=np.int64), 10, prefix=prefix)


def _ts(ctx, rng):
    hour = weighted_codes(rng, HOUR_WEIGHTS, ctx.n).astype(np.int64)
    seconds = hour * 3600 + rng.integers(0, 3600, ctx.n)
    return ctx.day_start + seconds.astype("timedelta64[s]")


def _mode(ctx, rng):
    ptype = _PRODUCT_TYPE_CODE[ctx["_book"]["product"][ctx["_acct"]]]
    return Cat(MODES, group_weighted_choice(rng, ptype, MODE_BY_PRODUCT_TYPE))


def _channel(ctx, rng):
    return Cat(CHANNELS, group_weighted_choice(rng, ctx["txn_mode"].codes, CHANNEL_BY_MODE))


def _reason(ctx, rng):
    """By mode; Salary is only paid into savings and current accounts (else a Transfer)."""
    reason = group_weighted_choice(rng, ctx["txn_mode"].codes, REASON_BY_MODE)
    ptype = _PRODUCT_TYPE_CODE[ctx["_book"]["product"][ctx["_acct"]]]
    salary_ok = (ptype == PRODUCT_TYPES.index("Savings Account")) | (ptype == PRODUCT_TYPES.index("Current Account"))
    reason[(reason == REASONS.index("Salary")) & ~salary_ok] = REASONS.index("Transfer")
    return Cat(REASONS, reason)


def _txn_type(ctx, rng):
    """Salary and Refund are credits, a Transfer is a credit 40 % of the time, the rest debits."""
    reason = ctx["txn_reason"].codes
    credit = np.isin(reason, [REASONS.index("Salary"), REASONS.index("Refund")]) | (
        (reason == REASONS.index("Transfer")) & (rng.random(ctx.n) < 0.4))
    return Cat(TXN_TYPES, credit.astype(np.int32))


_MERCHANTS = tuple(dict.fromkeys(m for ms in MERCHANTS_BY_REASON.values() for m in ms))
_MERCHANT_OPTIONS = [[_MERCHANTS.index(m) for m in MERCHANTS_BY_REASON[r]] for r in REASONS]


def _merchant(ctx, rng):
    return Cat(_MERCHANTS, group_choice(rng, ctx["txn_reason"].codes, _MERCHANT_OPTIONS))


def _amount(ctx, rng):
    """Lognormal (sigma 0.9) around the reason's median, times the owner's affluence factor and the
    account's product type factor."""
    median = np.array([MEDIAN_AMOUNT[r] for r in REASONS], dtype=np.float64)[ctx["txn_reason"].codes]
    factor = np.array([AFFLUENCE_FACTOR[a] for a in ref.AFFLUENCE])[ctx["_book"]["affluence"][ctx["_acct"]]]
    ptype = _PRODUCT_TYPE_CODE[ctx["_book"]["product"][ctx["_acct"]]]
    factor = factor * np.array([PRODUCT_TYPE_FACTOR[t] for t in PRODUCT_TYPES])[ptype]
    amount = median * factor * np.exp(0.9 * rng.standard_normal(ctx.n))
    return Money(np.maximum(np.round(amount * 100), 100).astype(np.int64))


TRANSACTION_SPEC = EntitySpec(TRANSACTIONS, TXN_PART_SIZE, [
    Derived("_acct", fn=_account),
    Derived("txn_id", fn=_txn_id),
    Derived("account_id", ("_acct",), fn=lambda ctx, rng: digits(ctx["_book"]["account_id"][ctx["_acct"]], 12)),
    Derived("txn_ts", fn=_ts),
    Derived("txn_mode", ("_acct",), fn=_mode),
    Derived("channel", ("txn_mode",), fn=_channel),
    Derived("txn_reason", ("txn_mode", "_acct"), fn=_reason),
    Derived("txn_type", ("txn_reason",), fn=_txn_type),
    Derived("merchant_name", ("txn_reason",), fn=_merchant),
    Derived("amount", ("txn_reason", "_acct"), fn=_amount),
    Derived("currency_code", fn=lambda ctx, rng: Cat(("INR",), np.zeros(ctx.n, np.int8))),
    Derived("txn_status", fn=lambda ctx, rng: Cat(TXN_STATUSES, weighted_codes(rng, TXN_STATUS_WEIGHTS, ctx.n))),
])


def transaction_parts(seed: int, logical_date: date, rows: int, book: dict[str, np.ndarray]):
    """Transaction tables of the day, one per part (TXN_PART_SIZE rows)."""
    weights = account_weights(seed, book)
    if rows and not weights.sum() > 0:
        raise ValueError("no active accounts to generate transactions for")
    inputs = {"_book": book, "_cum_weights": np.cumsum(weights)}
    for part, n in enumerate(TRANSACTION_SPEC.part_sizes(rows)):
        ctx = TRANSACTION_SPEC.evaluate(seed, logical_date, part, n, inputs=inputs)
        yield TRANSACTION_SPEC.materialise(ctx)
