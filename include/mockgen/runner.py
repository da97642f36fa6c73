"""Runs that land entities: ``generate`` (chosen entities, explicit sizes), ``daily`` (what a day of
the pipeline needs) and ``update_one`` (the single-customer update). The CLI and the Airflow tasks
call these; they only talk to storage through ``Lander``.

Memory stays bounded by one part: customer parts (250k rows) and transaction parts (1M rows) are
generated, landed and dropped one at a time; only compact per-customer and per-account numpy
"books" (a few tens of bytes per row) live across parts.
"""
from __future__ import annotations

import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable, Iterator

import numpy as np
import pyarrow as pa

from include.mockgen import badrows
from include.mockgen.accounts import account_book_from_tables, generate_accounts_part
from include.mockgen.campaigns import campaign_events, landed_state
from include.mockgen.customers import CUSTOMER_SPEC, customer_book, customer_book_from_table
from include.mockgen.engine import rng_for, to_contract_types
from include.mockgen.products import CATALOGUE, PRODUCT_SPEC
from include.mockgen.schema import CUSTOMER_UPDATES
from include.mockgen.transactions import TRANSACTION_SPEC, account_weights, transaction_parts
from include.mockgen.updates import (UPDATE_FRACTION, bad_update_rows, batch_updates, current_customers,
                                     landed_dates, single_update)

ENTITY_ORDER = ("products", "customers", "accounts", "transactions", "campaign_events")
TXN_PER_CUSTOMER = 10          # initial load: transactions of the day per customer
DAILY_TXN_RATE = 1.0           # later days: transactions per active account per day


@dataclass
class Summary:
    """What a run landed: per entity rows, bytes, parts; bad rows per kind; wall seconds."""
    logical_date: date
    landed: dict = field(default_factory=dict)        # entity -> LandedEntity
    bad_rows: dict = field(default_factory=dict)      # entity -> Counter(kind -> rows)
    seconds: float = 0.0
    notes: list = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"{'entity':<18}{'rows':>12}{'bytes':>15}{'parts':>7}"]
        for name, res in self.landed.items():
            out.append(f"{name:<18}{res.rows:>12,}{res.bytes:>15,}{res.parts:>7}")
        for name, kinds in self.bad_rows.items():
            if sum(kinds.values()):
                out.append(f"bad {name}: " + ", ".join(f"{k} {v}" for k, v in kinds.items()))
        out.extend(self.notes)
        total = sum(r.rows for r in self.landed.values())
        out.append(f"total {total:,} rows, {sum(r.bytes for r in self.landed.values()):,} bytes in {self.seconds:.1f} s"
                   f" ({total / max(self.seconds, 1e-9):,.0f} rows/s), logical date {self.logical_date.isoformat()}")
        return out


class _Progress:
    """A tqdm bar over parts on stderr, only for long runs (more than one part to write)."""

    def __init__(self, total: int, enabled: bool):
        self.bar = None
        if enabled and total > 1:
            from tqdm import tqdm
            self.bar = tqdm(total=total, unit="part", desc="mockgen", leave=False)

    def step(self, what: str) -> None:
        if self.bar:
            self.bar.set_postfix_str(what)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar:
            self.bar.close()


def _ticking(parts: Iterable[pa.Table], progress: _Progress, entity: str) -> Iterator[pa.Table]:
    for i, table in enumerate(parts):
        yield table
        progress.step(f"{entity} {i}")


# --------------------------------------------------------------------------------- generation

def customer_parts(seed: int, logical_date: date, rows: int, books: list, bad_rows: int = 0,
                   bad_counts: Counter | None = None) -> Iterator[pa.Table]:
    """Customer tables, one per part; appends each part's customer book to ``books``; with
    ``bad_rows`` a last part of deliberately bad rows."""
    head = None
    for part, n in enumerate(CUSTOMER_SPEC.part_sizes(rows)):
        ctx = CUSTOMER_SPEC.evaluate(seed, logical_date, part, n)
        books.append(customer_book(ctx))
        table = CUSTOMER_SPEC.materialise(ctx)
        if head is None:
            head = table.slice(0, max(1, min(bad_rows, 1000)))
        yield table
    if bad_rows:
        fresh = CUSTOMER_SPEC.materialise(CUSTOMER_SPEC.evaluate(seed, logical_date, 0, bad_rows, offset=rows,
                                                                 stream="customers.bad"))
        bad, counts = badrows.corrupt("customers", seed, logical_date, fresh, head if head is not None else fresh)
        if bad_counts is not None:
            bad_counts.update(counts)
        yield bad


def account_parts(seed: int, logical_date: date, customer_books: list, account_books: list) -> Iterator[pa.Table]:
    for part, book in enumerate(customer_books):
        table, abook = generate_accounts_part(seed, logical_date, part, book)
        account_books.append(abook)
        yield table


def _merge(books: list[dict]) -> dict[str, np.ndarray]:
    return {k: np.concatenate([b[k] for b in books]) for k in books[0]} if books else {}


def txn_parts(seed: int, logical_date: date, rows: int, account_book: dict, bad_rows: int = 0,
              bad_counts: Counter | None = None) -> Iterator[pa.Table]:
    yield from transaction_parts(seed, logical_date, rows, account_book)
    if bad_rows:
        inputs = {"_book": account_book, "_cum_weights": np.cumsum(account_weights(seed, account_book))}
        fresh = TRANSACTION_SPEC.materialise(TRANSACTION_SPEC.evaluate(
            seed, logical_date, 0, bad_rows, offset=rows, inputs=inputs, stream="transactions.bad"))
        bad, counts = badrows.corrupt("transactions", seed, logical_date, fresh, fresh)
        if bad_counts is not None:
            bad_counts.update(counts)
        yield bad


def campaign_bad_rows(bad_rows: int, events: int, customers: int) -> int:
    """Bad campaign events in the proportion ``bad_rows`` has to the customer base: a campaign
    reaches a few customers a day, so ``bad_rows`` of them would be most of the day's events (25 on
    the 12 events of a 500-customer day: 67 % rejected, a quality warning on every quick-start run).
    ``--bad-rows 25`` on 500 customers gives none, ``--bad-rows 100`` two, 25 on 100k customers ~12."""
    return min(bad_rows, bad_rows * events // customers) if customers > 0 else 0


def _land_campaign_events(lander, seed: int, logical_date: date, customer_book: dict, account_book: dict,
                          state: dict | None, bad_rows: int):
    """Land the day's campaign events (plus ``bad_rows`` deliberately bad ones); (landed, bad counts)."""
    table = campaign_events(seed, logical_date, customer_book, account_book, state)
    parts, counts = [table], badrows.empty_counts("campaign_events")
    bad_rows = campaign_bad_rows(bad_rows, table.num_rows, len(customer_book.get("cust_id", ())))
    if bad_rows:
        bad, counts = badrows.corrupt_campaign_events(seed, logical_date, table, bad_rows)
        parts.append(bad)
    return lander.land("campaign_events", logical_date, parts), counts


def generate(lander, logical_date: date, *, seed: int = 42, customers: int = 10_000,
             transactions: int | None = None, entities: Iterable[str] = ENTITY_ORDER, bad_rows: int = 0,
             progress: bool = False) -> Summary:
    """Land the chosen entities for ``logical_date``: ``customers`` customers, their accounts, and
    ``transactions`` transactions of the day (default TXN_PER_CUSTOMER per customer).

    Accounts and transactions need the customers (and accounts) generated before them; those are
    generated in memory even when not landed."""
    started = time.perf_counter()
    wanted = [e for e in ENTITY_ORDER if e in set(entities)]
    unknown = set(entities) - set(ENTITY_ORDER)
    if unknown:
        raise ValueError(f"unknown entity {sorted(unknown)[0]!r}; choose from {', '.join(ENTITY_ORDER)}")
    if customers < 1 and {"customers", "accounts", "transactions", "campaign_events"} & set(wanted):
        raise ValueError("--customers must be at least 1")
    transactions = customers * TXN_PER_CUSTOMER if transactions is None else transactions
    summary = Summary(logical_date)
    n_cparts = len(CUSTOMER_SPEC.part_sizes(customers))
    total = (("products" in wanted) + n_cparts * (("customers" in wanted) + ("accounts" in wanted))
             + ("transactions" in wanted) * len(TRANSACTION_SPEC.part_sizes(transactions))
             + ("campaign_events" in wanted))
    bar = _Progress(total, progress)
    try:
        if "products" in wanted:
            ctx = PRODUCT_SPEC.evaluate(seed, logical_date, 0, len(CATALOGUE))
            summary.landed["products"] = lander.land("products", logical_date,
                                                     _ticking([PRODUCT_SPEC.materialise(ctx)], bar, "products"))
        cbooks: list = []
        if {"customers", "accounts", "transactions", "campaign_events"} & set(wanted):
            counts = badrows.empty_counts("customers")
            parts = customer_parts(seed, logical_date, customers, cbooks, bad_rows if "customers" in wanted else 0, counts)
            if "customers" in wanted:
                summary.landed["customers"] = lander.land("customers", logical_date, _ticking(parts, bar, "customers"))
                if bad_rows:
                    summary.bad_rows["customers"] = counts
            else:
                for _ in parts:
                    pass
        abooks: list = []
        if {"accounts", "transactions", "campaign_events"} & set(wanted):
            parts = account_parts(seed, logical_date, cbooks, abooks)
            if "accounts" in wanted:
                summary.landed["accounts"] = lander.land("accounts", logical_date, _ticking(parts, bar, "accounts"))
            else:
                for _ in parts:
                    pass
        customer_book_all = _merge(cbooks)
        cbooks.clear()
        account_book = _merge(abooks)
        abooks.clear()
        if "transactions" in wanted:
            counts = badrows.empty_counts("transactions")
            parts = txn_parts(seed, logical_date, transactions, account_book, bad_rows, counts)
            summary.landed["transactions"] = lander.land("transactions", logical_date,
                                                         _ticking(parts, bar, "transactions"))
            if bad_rows:
                summary.bad_rows["transactions"] = counts
        if "campaign_events" in wanted:
            # the first day: no journey is in flight (state=None)
            summary.landed["campaign_events"], counts = _land_campaign_events(
                lander, seed, logical_date, customer_book_all, account_book, None, bad_rows)
            bar.step("campaign_events")
            if bad_rows:
                summary.bad_rows["campaign_events"] = counts
    finally:
        bar.close()
    summary.seconds = time.perf_counter() - started
    return summary


# ------------------------------------------------------------------------------------- daily

def daily(lander, logical_date: date, *, seed: int = 42, customers: int = 10_000,
          update_fraction: float = UPDATE_FRACTION, txn_rate: float = DAILY_TXN_RATE, bad_rows: int = 0,
          progress: bool = False) -> Summary:
    """What day ``logical_date`` of the pipeline lands.

    No customers landed before this date: the initial load (products, ``customers`` customers,
    accounts, TXN_PER_CUSTOMER transactions per customer). Otherwise: customer_updates (a
    ``update_fraction`` of the customers) and the day's transactions over the landed accounts
    (Poisson with mean ``txn_rate`` per active account, spread by customer activity). Re-running
    a date gives the same files: a day only reads what landed before it."""
    earlier = [d for d in landed_dates(lander, "customers") if d < logical_date]
    if not earlier:
        summary = generate(lander, logical_date, seed=seed, customers=customers, bad_rows=bad_rows, progress=progress)
        summary.notes.append("initial load (no customers landed before this date)")
        return summary
    started = time.perf_counter()
    summary = Summary(logical_date)
    current = current_customers(lander, through=logical_date, updates_before=logical_date)
    updates = batch_updates(current, seed, logical_date, update_fraction)
    parts = [to_contract_types(updates, CUSTOMER_UPDATES)]
    if bad_rows:
        bad, summary.bad_rows["customer_updates"] = bad_update_rows(current, updates, seed, logical_date, bad_rows)
        parts.append(to_contract_types(bad, CUSTOMER_UPDATES))
    summary.landed["customer_updates"] = lander.land("customer_updates", logical_date, parts)
    book = customer_book_from_table(current)
    accounts = account_book_from_tables(lander.read("accounts", through=logical_date), book)
    active = int((accounts["status"] == 0).sum())
    # Poisson around the rate, so days differ in volume (deterministic for the seed and date)
    rows = int(rng_for(seed, logical_date, "transactions", 0, "_volume").poisson(active * txn_rate))
    counts = badrows.empty_counts("transactions")
    bar = _Progress(len(TRANSACTION_SPEC.part_sizes(rows)), progress)
    try:
        parts = txn_parts(seed, logical_date, rows, accounts, bad_rows, counts)
        summary.landed["transactions"] = lander.land("transactions", logical_date, _ticking(parts, bar, "transactions"))
    finally:
        bar.close()
    if bad_rows:
        summary.bad_rows["transactions"] = counts
    summary.landed["campaign_events"], counts = _land_campaign_events(
        lander, seed, logical_date, book, accounts, landed_state(lander, logical_date), bad_rows)
    if bad_rows:
        summary.bad_rows["campaign_events"] = counts
    summary.notes.append(f"daily: {updates.num_rows} customer updates, {rows} transactions over {active} active accounts")
    summary.seconds = time.perf_counter() - started
    return summary


# ----------------------------------------------------------------------------- single update

def update_one(lander, logical_date: date, cust_id: str, changes: dict[str, str], *, seed: int = 42) -> Summary:
    """Land a new version of one customer under customer_updates for ``logical_date``, keeping the
    rows already landed for that date (a landing replaces the date's files)."""
    started = time.perf_counter()
    current = current_customers(lander, through=logical_date)
    row = single_update(current, cust_id, changes, logical_date, seed)
    same_day = lander.read("customer_updates", on=logical_date)
    summary = Summary(logical_date)
    summary.landed["customer_updates"] = lander.land(
        "customer_updates", logical_date, [to_contract_types(pa.concat_tables([same_day, row]), CUSTOMER_UPDATES)])
    summary.notes.append(f"customer {cust_id}: new version at {row['modified_at'][0].as_py()}")
    summary.seconds = time.perf_counter() - started
    return summary


__all__ = ["generate", "daily", "update_one", "Summary", "ENTITY_ORDER"]
