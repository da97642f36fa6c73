"""Products: a fixed catalogue of retail products (the seed's "Product entity"; its generator is
not shown, so the catalogue is ours). Deterministic and independent of the seed and the logical
date, with fixed created_at/modified_at, so re-landing it never adds a new version.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np

from include.mockgen.engine import Derived, EntitySpec, Money
from include.mockgen.schema import PRODUCTS


PRODUCT_TYPES = ("Credit Card", "Savings Account", "Current Account", "Fixed Deposit", "Personal Loan", "Home Loan")


@dataclass(frozen=True)
class Product:
    product_id: str
    product_name: str
    product_type: str
    card_network: str | None
    annual_fee: int              # INR
    interest_rate: float         # percent per year
    min_cibil_score: int
    launch_date: date
    product_status: str = "Active"

    @property
    def product_category(self) -> str:
        return {"Credit Card": "Cards", "Personal Loan": "Loans", "Home Loan": "Loans"}.get(self.product_type, "Deposits")


CATALOGUE: tuple[Product, ...] = (
    Product("PRD0001", "Platinum Rewards Credit Card", "Credit Card", "Visa", 2500, 42.0, 750, date(2014, 4, 1)),
    Product("PRD0002", "Travel Elite Credit Card", "Credit Card", "Mastercard", 5000, 40.8, 780, date(2016, 7, 15)),
    Product("PRD0003", "Everyday Cashback Credit Card", "Credit Card", "RuPay", 500, 43.2, 700, date(2018, 1, 10)),
    Product("PRD0004", "Shopping Plus Credit Card", "Credit Card", "Visa", 999, 43.2, 700, date(2019, 10, 2)),
    Product("PRD0005", "Signature Infinite Credit Card", "Credit Card", "Amex", 10000, 39.0, 800, date(2020, 3, 16)),
    Product("PRD0006", "Fuel Saver Credit Card", "Credit Card", "RuPay", 499, 43.2, 680, date(2021, 6, 1)),
    Product("PRD0007", "Student Starter Credit Card", "Credit Card", "Mastercard", 0, 44.4, 650, date(2012, 8, 20),
            "Retired"),
    Product("PRD0008", "Regular Savings Account", "Savings Account", None, 0, 3.0, 0, date(2010, 1, 1)),
    Product("PRD0009", "Premium Savings Account", "Savings Account", None, 1200, 3.5, 0, date(2015, 5, 5)),
    Product("PRD0010", "Junior Savings Account", "Savings Account", None, 0, 3.0, 0, date(2013, 11, 14)),
    Product("PRD0011", "Business Current Account", "Current Account", None, 3000, 0.0, 0, date(2010, 1, 1)),
    Product("PRD0012", "Merchant Current Account", "Current Account", None, 1800, 0.0, 0, date(2017, 9, 1)),
    Product("PRD0013", "Fixed Deposit 1 Year", "Fixed Deposit", None, 0, 6.8, 0, date(2011, 2, 1)),
    Product("PRD0014", "Tax Saver Fixed Deposit", "Fixed Deposit", None, 0, 7.0, 0, date(2016, 4, 1)),
    Product("PRD0015", "Personal Loan", "Personal Loan", None, 0, 11.5, 700, date(2012, 6, 1)),
    Product("PRD0016", "Home Loan", "Home Loan", None, 0, 8.6, 720, date(2011, 9, 1)),
)
PRODUCT_INDEX = {p.product_id: i for i, p in enumerate(CATALOGUE)}
# product index -> index into PRODUCT_TYPES (accounts and transactions work on these codes)
PRODUCT_TYPE_CODE = np.array([PRODUCT_TYPES.index(p.product_type) for p in CATALOGUE], dtype=np.int8)


def _field(get):
    def fn(ctx, rng):
        return [get(p) for p in CATALOGUE[ctx.offset:ctx.offset + ctx.n]]
    return fn


def _stamp(p: Product) -> np.datetime64:
    return np.datetime64(datetime.combine(p.launch_date, datetime.min.time()).replace(hour=9), "s")


def _money(get):
    return lambda ctx, rng: Money(np.array([round(get(p) * 100) for p in CATALOGUE[ctx.offset:ctx.offset + ctx.n]],
                                           dtype=np.int64))


PRODUCT_SPEC = EntitySpec(PRODUCTS, len(CATALOGUE), [
    Derived("product_id", fn=_field(lambda p: p.product_id)),
    Derived("product_name", fn=_field(lambda p: p.product_name)),
    Derived("product_type", fn=_field(lambda p: p.product_type)),
    Derived("product_category", fn=_field(lambda p: p.product_category)),
    Derived("card_network", fn=_field(lambda p: p.card_network)),
    Derived("annual_fee", fn=_money(lambda p: p.annual_fee)),
    Derived("interest_rate", fn=_money(lambda p: p.interest_rate)),
    Derived("min_cibil_score", fn=lambda ctx, rng: np.array(
        [p.min_cibil_score for p in CATALOGUE[ctx.offset:ctx.offset + ctx.n]], dtype=np.int32)),
    Derived("launch_date", fn=lambda ctx, rng: np.array(
        [np.datetime64(p.launch_date, "D") for p in CATALOGUE[ctx.offset:ctx.offset + ctx.n]], dtype="datetime64[D]")),
    Derived("product_status", fn=_field(lambda p: p.product_status)),
    Derived("created_at", fn=lambda ctx, rng: np.array(
        [_stamp(p) for p in CATALOGUE[ctx.offset:ctx.offset + ctx.n]], dtype="datetime64[s]")),
    Derived("modified_at", ("created_at",), fn=lambda ctx, rng: ctx["created_at"]),
])
