"""Deliberately bad rows (the ``--bad-rows N`` knob), for testing cleansing and quality checks.

These come on top of the rows the seed's own rules reject as its generator produces them
(``Semi`` segment, ``I Prefer not to say``, Corporate/Merchant without personal attributes, the
``D’Alia`` apostrophe): those are part of the normal output and need no knob.

N rows are spread round-robin over the kinds of an entity, deterministic for (seed, date). They are
appended as the last part of the entity's landing (customers, transactions; on later days
customer_updates get the customer kinds, built from existing customers' latest versions).
"""
from __future__ import annotations

from collections import Counter
from datetime import date

import pyarrow as pa

from include.mockgen.engine import rng_for

CUSTOMER_KINDS = ("bad_email", "digits_in_name", "cibil_out_of_range", "unknown_segment", "duplicate_version",
                  "blank_id")
TRANSACTION_KINDS = ("unknown_account", "blank_id", "non_positive_amount", "unknown_txn_type")
CAMPAIGN_EVENT_KINDS = ("unknown_customer", "unknown_product", "unknown_stage", "stage_out_of_order",
                        "outside_logical_day", "repeated_stage", "blank_id")
KINDS = {"customers": CUSTOMER_KINDS, "transactions": TRANSACTION_KINDS, "campaign_events": CAMPAIGN_EVENT_KINDS}


def _kinds(entity: str, n: int) -> list[str]:
    kinds = KINDS[entity]
    return [kinds[i % len(kinds)] for i in range(n)]


def corrupt(entity: str, seed: int, logical_date: date, fresh: pa.Table, existing: pa.Table) -> tuple[pa.Table, Counter]:
    """``fresh`` (N newly generated valid rows) made bad, one kind per row; ``existing`` supplies the
    rows a duplicate version copies. Returns the bad rows and how many of each kind."""
    rng = rng_for(seed, logical_date, f"{entity}.bad", 0, "corrupt")
    rows = fresh.to_pylist()
    dupes = existing.to_pylist()
    kinds = _kinds(entity, len(rows))
    for i, (row, kind) in enumerate(zip(rows, kinds)):
        if kind == "bad_email":
            row["email_addr"] = row["email_addr"].replace("@", "#", 1).upper()
        elif kind == "digits_in_name":
            row["cust_last_name"] = f"{row['cust_last_name']}{rng.integers(0, 10)}"
            if row["cust_first_name"]:
                row["cust_first_name"] = f"{row['cust_first_name']}{rng.integers(10, 100)}"
        elif kind == "cibil_out_of_range":
            score = int(rng.choice([0, 120, 299, 901, 999, 1200]))
            row["cibil_score"] = str(score) if pa.types.is_string(fresh.schema.field("cibil_score").type) else score
        elif kind == "unknown_segment":
            row["cust_segment"] = "Metro"
        elif kind == "duplicate_version":
            rows[i] = dict(dupes[int(rng.integers(0, len(dupes)))])
        elif kind == "blank_id":
            row["cust_id" if entity == "customers" else "txn_id"] = None
        elif kind == "unknown_account":
            row["account_id"] = f"{999_000_000_000 + int(rng.integers(0, 999_999_999)):012d}"
        elif kind == "non_positive_amount":
            row["amount"] = -row["amount"] if rng.random() < 0.5 else row["amount"] * 0
        elif kind == "unknown_txn_type":
            row["txn_type"] = str(rng.choice(["Chargeback", "DR", "debit", "X"]))
    return pa.Table.from_pylist(rows, schema=fresh.schema), Counter(kinds)


def corrupt_campaign_events(seed: int, logical_date: date, events: pa.Table, n: int) -> tuple[pa.Table, Counter]:
    """``n`` bad campaign events for the day, each failing one rule: copies of the day's events
    (``events``, the valid ones) with new event ids after theirs. Except ``repeated_stage`` (a
    second event for a stage the journey already reached), each starts a journey of last year's
    campaign of the month, so no other rule fires: a reach from an unknown customer or with an
    unknown product, a stage outside the list, a KYC without the stages before it, a reach stamped
    two days before the logical day, a blank id."""
    from datetime import datetime, time, timedelta

    rng = rng_for(seed, logical_date, "campaign_events.bad", 0, "corrupt")
    start = datetime.combine(logical_date, time())
    template = {"event_id": None, "cust_id": "1000000000", "campaign_id": None, "campaign_name": "Credit card cross-sell",
                "product_id": "PRD0003", "stage": "Customer Reached", "stage_ts": start + timedelta(hours=12),
                "channel": "Email"}
    valid = events.to_pylist() or [template]
    old = logical_date.replace(year=logical_date.year - 1, day=1)
    kinds = _kinds("campaign_events", n)
    rows = []
    for i, kind in enumerate(kinds):
        row = dict(valid[int(rng.integers(0, len(valid)))])
        row["event_id"] = f"E{logical_date:%Y%m%d}{events.num_rows + i:010d}"
        if kind != "repeated_stage":
            row.update(campaign_id=f"XSELL-CC-{old:%Y-%m}", campaign_name=f"Credit card cross-sell {old:%B %Y}",
                       stage="Customer Reached")
        if kind == "unknown_customer":
            row["cust_id"] = f"{9_000_000_000 + int(rng.integers(0, 999_999_999)):010d}"
        elif kind == "unknown_product":
            row["product_id"] = "PRD9999"
        elif kind == "unknown_stage":
            row["stage"] = str(rng.choice(["Approved", "Reached", "Card Activated"]))
        elif kind == "stage_out_of_order":
            row["stage"] = "KYC"
        elif kind == "outside_logical_day":
            row["stage_ts"] = row["stage_ts"] - timedelta(days=2)
        elif kind == "repeated_stage":
            row["stage_ts"] = min(row["stage_ts"] + timedelta(minutes=5), start + timedelta(seconds=86399))
            if row is template or not events.num_rows:
                row["stage"] = "KYC"      # nothing landed today to repeat: fail the order rule instead
        elif kind == "blank_id":
            row["event_id"] = None
        rows.append(row)
    return pa.Table.from_pylist(rows, schema=events.schema), Counter(kinds)


def empty_counts(entity: str) -> Counter:
    return Counter({k: 0 for k in KINDS.get(entity, ())})


__all__ = ["corrupt", "corrupt_campaign_events", "KINDS", "CUSTOMER_KINDS", "TRANSACTION_KINDS",
           "CAMPAIGN_EVENT_KINDS", "empty_counts"]
