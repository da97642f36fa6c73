"""Small, hand-made landing data for the dbt tests: valid rows of every entity plus rows that
break one cleansing rule each, landed through the project's Lander (include/mockgen/landing.py).

Kept independent of the mock data generator so the dbt tests pin the cleansing rules to known
inputs: a row here either passes every rule or fails exactly the rules named in BAD_CUSTOMERS.
"""
from __future__ import annotations

from datetime import date

import pyarrow as pa

from include.mockgen.landing import Lander
from include.mockgen.schema import ENTITIES

DAY1, DAY2 = date(2026, 1, 5), date(2026, 1, 6)
FIRST_ID = 1_000_000_000


def cust_id(i: int) -> str:
    return str(FIRST_ID + i)


def customer(i: int, **overrides) -> dict:
    """A valid Personal customer; Corporate/Merchant when customer_type says so."""
    kind = overrides.get("customer_type", "Personal")
    personal = kind == "Personal"
    row = {
        "cust_id": cust_id(i),
        "cust_dob": "1985-03-0%d" % (1 + i % 9) if personal else ("2004-06-01" if i % 2 else None),
        "cust_first_name": "Aarav" if personal else None,
        "cust_last_name": "Sharma" if personal else "Traders",
        "cust_middle_name": ("Kumar" if i % 2 else None) if personal else None,
        "cust_segment": ("Urban", "Rural", "Semi")[i % 3],
        "cust_title": "Mr" if personal else None,
        "customer_category": "Resident Indian",
        "customer_privelege": "Yes" if i % 2 else "No",
        "customer_type": kind,
        "email_addr": f"aarav.sharma{i + 100}@gmail.com" if personal else f"traders{i + 100}@gmail.com",
        "gender": "Male" if personal else None,
        "marital_status": "Married" if personal else None,
        "minor_flag": "No" if personal else None,
        "mobile_number1": str(FIRST_ID + i + 100098143),
        "nationality": "Indian",
        "occupation": "Salaried" if personal else None,
        "senior_citizen_flag": "No" if personal else None,
        "sourcing_channel": "Branch",
        "customer_risk_category": "Low",
        "afflunce_level": "High",
        "customer_status": "Active",
        "customer_addressline1": "Flat 1, Lotus Towers",
        "customer_addressline2": "MG Road",
        "customer_addressline3": "Andheri",
        "city": ("Mumbai", "Delhi", "Pune")[i % 3],
        "state": ("Maharashtra", "Delhi", "Maharashtra")[i % 3],
        "country": "India",
        "pin": "400001",
        "created_at": "2020-01-01 10:00:00",
        "modified_at": "2026-01-05 09:00:00",
        "cibil_check_date": "2023-10-05",
        "cibil_score": "750",
        "country_code": "+91",
        "branch_name": "Mumbai Fort",
        "zone": "West",
    }
    row.update(overrides)
    return row


# id offset -> (overrides, the rule names the row must fail)
BAD_CUSTOMERS: dict[int, tuple[dict, list[str]]] = {
    900: ({"cust_id": "12345"}, ["cust_id_format"]),
    901: ({"cust_dob": "1985-02-30"}, ["cust_dob_is_date", "cust_dob_required_for_personal"]),
    902: ({"cust_first_name": "Aarav1"}, ["cust_first_name_valid"]),
    903: ({"cust_middle_name": "Kumar9"}, ["cust_middle_name_valid"]),
    904: ({"cibil_score": "abc"}, ["cibil_score_is_integer", "cibil_score_valid"]),
    905: ({"cibil_score": "1200"}, ["cibil_score_valid"]),
    906: ({"email_addr": "Not An Email"}, ["email_addr_valid"]),
    907: ({"modified_at": "yesterday"}, ["modified_at_is_timestamp", "modified_at_required"]),
    908: ({"customer_type": "Corporate", "gender": "Male"}, ["no_personal_attributes_for_non_personal"]),
    909: ({"country": "Atlantis"}, ["country_allowed"]),
}


def customers_day1() -> list[dict]:
    rows = [customer(i) for i in range(1, 41)]
    rows += [customer(i, customer_type="Corporate") for i in range(41, 46)]
    rows += [customer(i, customer_type="Merchant") for i in range(46, 51)]
    # seed spellings that staging standardises: Semi (segment), I Prefer not to say (gender, no title)
    rows.append(customer(51, gender="I Prefer not to say", cust_title=None, marital_status=None))
    rows += [customer(i, **o) for i, (o, _) in BAD_CUSTOMERS.items()]
    return rows


def customer_updates_day2() -> list[dict]:
    """A new version of customer 1 (moved from Delhi to Pune) and the same version of customer 2 again."""
    return [
        customer(1, city="Pune", state="Maharashtra", modified_at="2026-01-06 08:00:00"),
        customer(2),
    ]


def product(i: int, **overrides) -> dict:
    row = {
        "product_id": f"PRD{i:04d}", "product_name": f"Card {i}", "product_type": "Credit Card",
        "product_category": "Cards", "card_network": "Visa", "annual_fee": "499.00",
        "interest_rate": "36.00", "min_cibil_score": "650", "launch_date": "2021-04-01",
        "product_status": "Active", "created_at": "2021-04-01 00:00:00", "modified_at": "2021-04-01 00:00:00",
    }
    row.update(overrides)
    return row


def products_day1() -> list[dict]:
    return [product(1), product(2), product(3, product_type="Savings Account", product_category="Deposits",
                                              card_network=None, annual_fee="0.00", interest_rate="3.50"),
            product(4, annual_fee="lots")]


def account(i: int, cust: int, prod: int, **overrides) -> dict:
    row = {
        "account_id": f"{500000000000 + i}", "cust_id": cust_id(cust), "product_id": f"PRD{prod:04d}",
        "account_open_date": "2021-05-01", "account_status": "Active", "credit_limit": "100000.00",
        "current_balance": "2500.50", "currency_code": "INR", "created_at": "2021-05-01 10:00:00",
        "modified_at": "2026-01-05 10:00:00",
    }
    row.update(overrides)
    return row


def accounts_day1() -> list[dict]:
    rows = [account(i, cust=i, prod=1 + i % 3) for i in range(1, 31)]
    rows.append(account(31, cust=900, prod=1))            # its customer is quarantined
    rows.append(account(32, cust=1, prod=1, account_open_date="2021-13-01"))
    return rows


def transaction(i: int, acct: int, day: date = DAY1, **overrides) -> dict:
    row = {
        "txn_id": f"T{day:%Y%m%d}{i:010d}", "account_id": f"{500000000000 + acct}",
        "txn_ts": f"{day.isoformat()} 12:{i % 60:02d}:00", "amount": f"{100 + i}.25", "currency_code": "INR",
        "txn_type": "Debit" if i % 3 else "Credit", "txn_mode": "UPI", "channel": "Mobile",
        "txn_reason": "Food & Grocery", "merchant_name": "Big Bazaar", "txn_status": "Success",
    }
    row.update(overrides)
    return row


def transactions_day(day: date, n: int = 200) -> list[dict]:
    rows = [transaction(i, acct=1 + i % 30, day=day) for i in range(1, n + 1)]
    rows.append(transaction(n + 1, acct=1, day=day, amount="-5.00"))
    rows.append(transaction(n + 2, acct=999, day=day))
    return rows


CAMPAIGN = "XSELL-CC-2026-01"


def campaign_event(i: int, cust: int, stage: str, at: str, day: date = DAY1, **overrides) -> dict:
    """Event ``i`` of ``day``: customer ``cust`` reached ``stage`` at ``at`` (HH:MM on ``day``)."""
    row = {"event_id": f"E{day:%Y%m%d}{i:010d}", "cust_id": cust_id(cust), "campaign_id": CAMPAIGN,
           "campaign_name": "Credit card cross-sell January 2026", "product_id": "PRD0001", "stage": stage,
           "stage_ts": f"{day.isoformat()} {at}:00", "channel": "Mobile App"}
    row.update(overrides)
    return row


STAGES = ("Customer Reached", "Explored Product", "Started to Apply", "Engagement", "Completed Application", "KYC",
          "Onboarded")
# event number on DAY1 -> the rules it must fail ([] = accepted)
CAMPAIGN_EVENTS_DAY1: dict[int, tuple[dict, list[str]]] = {
    **{1 + k: (campaign_event(1 + k, 1, stage, f"{8 + k:02d}:00"), []) for k, stage in enumerate(STAGES)},
    10: (campaign_event(10, 2, "Customer Reached", "08:00"), []),
    11: (campaign_event(11, 2, "explored product", "09:00", channel=" web "), []),     # standardised spellings
    12: (campaign_event(12, 3, "Customer Reached", "08:00"), []),
    13: (campaign_event(13, 9, "Customer Reached", "08:00"), []),
    14: (campaign_event(14, 9, "Explored Product", "08:05"), []),
    20: (campaign_event(20, 6, "Started to Apply", "12:00"), ["stages_in_order"]),        # nothing before it
    21: (campaign_event(21, 7, "Customer Reached", "10:00"), []),
    22: (campaign_event(22, 7, "Explored Product", "09:00"), ["stages_in_order"]),        # before its reach
    23: (campaign_event(23, 8, "Customer Reached", "08:00"), []),
    24: (campaign_event(24, 8, "Customer Reached", "09:00"), ["stage_not_repeated"]),
    25: (campaign_event(25, 10, "Customer Reached", "08:00", channel="Pigeon"), ["campaign_channel_allowed"]),
    26: (campaign_event(26, 10, "Explored Product", "10:00"), ["stages_in_order"]),       # its reach is rejected
    27: (campaign_event(27, 11, "Explored Product", "10:00"), ["stages_in_order"]),       # its reach lands late
    28: (campaign_event(28, 999, "Customer Reached", "08:00"), ["cust_id_known"]),
    29: (campaign_event(29, 4, "Customer Reached", "08:00", product_id="PRD0099"), ["product_id_known"]),
    30: (campaign_event(30, 5, "Approved", "08:00"), ["stage_allowed"]),
    31: (campaign_event(31, 13, "Customer Reached", "08:00", stage_ts="2026-01-04 23:00:00"),
         ["stage_ts_within_logical_day"]),
    32: (campaign_event(32, 14, "Customer Reached", "08:00", event_id=None), ["event_id_format"]),
    33: (campaign_event(33, 15, "Customer Reached", "08:00", stage_ts="noon"),
         ["stage_ts_is_timestamp", "stage_ts_required"]),
}
# DAY2's own events, and the late delivery of DAY1's file with one more event (customer 11's reach)
CAMPAIGN_EVENTS_DAY2: dict[int, tuple[dict, list[str]]] = {
    1: (campaign_event(1, 9, "Started to Apply", "10:00", day=DAY2), []),               # continues day 1
    2: (campaign_event(2, 8, "Customer Reached", "10:00", day=DAY2), ["stage_not_repeated"]),
    3: (campaign_event(3, 3, "Explored Product", "11:00", day=DAY2), []),
}
LATE_DAY1_EVENT = (campaign_event(40, 11, "Customer Reached", "09:00"), [])


def to_table(entity: str, rows: list[dict]) -> pa.Table:
    names = ENTITIES[entity].column_names
    return pa.table({n: pa.array([r.get(n) for r in rows], pa.string()) for n in names})


def land(lander: Lander, entity: str, day: date, rows: list[dict]) -> None:
    lander.land(entity, day, [to_table(entity, rows)])


def land_day1(lander: Lander) -> None:
    land(lander, "customers", DAY1, customers_day1())
    land(lander, "products", DAY1, products_day1())
    land(lander, "accounts", DAY1, accounts_day1())
    land(lander, "transactions", DAY1, transactions_day(DAY1))
    land(lander, "campaign_events", DAY1, [row for row, _ in CAMPAIGN_EVENTS_DAY1.values()])


def land_day2(lander: Lander) -> None:
    land(lander, "customer_updates", DAY2, customer_updates_day2())
    land(lander, "transactions", DAY2, transactions_day(DAY2, n=50))
    land(lander, "campaign_events", DAY2, [row for row, _ in CAMPAIGN_EVENTS_DAY2.values()])
    # the source re-delivers day 1's events with one it had missed: the journey it completes is re-checked
    land(lander, "campaign_events", DAY1, [row for row, _ in CAMPAIGN_EVENTS_DAY1.values()] + [LATE_DAY1_EVENT[0]])
