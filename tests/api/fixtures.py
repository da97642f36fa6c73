"""Landing data for the data API tests: customers in three zones (North, South, West), each with
accounts and debit/credit transactions on three channels, landed through the project's Lander and
built by the project's dbt, like production. Built on tests/dbt/fixtures.py's valid rows."""
from __future__ import annotations

from tests.dbt import fixtures as base

DAY = base.DAY1
ZONES = {"North": [("Delhi", "Delhi", "Connaught Place"), ("Chandigarh", "Punjab", "Sector 17")],
         "South": [("Chennai", "Tamil Nadu", "T Nagar"), ("Bengaluru", "Karnataka", "Brigade Road")],
         "West": [("Mumbai", "Maharashtra", "Mumbai Fort"), ("Pune", "Maharashtra", "Shivaji Nagar")]}
CHANNELS = ("Mobile", "Web", "POS")
CUSTOMERS = 36


def zone_of(i: int) -> str:
    return list(ZONES)[i % 3]


def customers() -> list[dict]:
    rows = []
    for i in range(1, CUSTOMERS + 1):
        zone = zone_of(i)
        city, state, branch = ZONES[zone][(i // 3) % 2]
        rows.append(base.customer(i, zone=zone, city=city, state=state, branch_name=branch,
                                  cust_first_name=("Aarav", "Diya", "Kabir", "Meera")[i % 4],
                                  cust_dob=f"19{70 + i % 25}-0{1 + i % 9}-1{i % 10}"))
    return rows


def accounts() -> list[dict]:
    return [base.account(i, cust=i, prod=1 + i % 2) for i in range(1, CUSTOMERS + 1)]


def transactions() -> list[dict]:
    rows = []
    n = 0
    for acct in range(1, CUSTOMERS + 1):
        for k in range(9):   # on each channel: one credit, two debits
            n += 1
            rows.append(base.transaction(n, acct=acct, txn_type="Debit" if k % 3 else "Credit",
                                         channel=CHANNELS[(acct + k // 3) % 3], amount=f"{100 + 7 * n}.50",
                                         txn_status="Failed" if n % 17 == 0 else "Success"))
    return rows


def land(lander) -> None:
    base.land(lander, "customers", DAY, customers())
    base.land(lander, "products", DAY, base.products_day1()[:3])
    base.land(lander, "accounts", DAY, accounts())
    base.land(lander, "transactions", DAY, transactions())
