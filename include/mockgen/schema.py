"""The landing contract: every entity's CSV columns, in file order, with type and meaning.

This is the one place the raw column names live. The generator writes exactly these columns and
the dbt sources declare exactly these columns (a test keeps the two in step). Column tags (PII,
DOB) are declared once, in the dbt YAML, not here.

Names follow the seed (document A of docs/reference-design.md), misspellings included
(``customer_privelege``, ``afflunce_level``): the raw contract keeps the source system's names and
the dbt staging layer renames them (decision D8).

Types are the logical types of the CSV text: ``string``, ``date`` (``YYYY-MM-DD``),
``timestamp`` (``YYYY-MM-DD HH:MM:SS``, UTC), ``int``, ``decimal`` (2 places). A missing value
is an empty field.
"""
from __future__ import annotations

from dataclasses import dataclass, field

@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str


@dataclass(frozen=True)
class Entity:
    name: str           # landing folder: landing/<name>/dt=YYYY-MM-DD/part-NNNNN.csv
    key: tuple[str, ...]  # business key; with ``version_column`` it identifies one landed version
    version_column: str | None
    grain: str
    columns: tuple[Column, ...] = field(default_factory=tuple)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


_CUSTOMER_COLUMNS = (
    Column("cust_id", "string", "Customer id: 10 digits, from 1000000000 upwards."),
    Column("cust_dob", "date", "Date of birth (Personal); date of incorporation for part of the "
           "Corporate and Merchant customers, empty for the rest."),
    Column("cust_first_name", "string", "First name (Personal only)."),
    Column("cust_last_name", "string", "Last name (Personal); trading name (Corporate, Merchant)."),
    Column("cust_middle_name", "string", "Middle name, present for about half of Personal customers."),
    Column("cust_segment", "string", "Urban, Rural or Semi (the seed generator's spelling of Semi-Urban)."),
    Column("cust_title", "string", "Mr, Mrs, Miss, Mx, Dr, or empty (Personal only)."),
    Column("customer_category", "string", "Non Resident or Resident Indian."),
    Column("customer_privelege", "string", "Privileged customer: Yes or No (seed spelling)."),
    Column("customer_type", "string", "Personal, Corporate or Merchant."),
    Column("email_addr", "string", "E-mail address built from the names and the id."),
    Column("gender", "string", "Male, Female, Non Binary, Transgender, Intersex, I Prefer not to say "
           "(Personal only)."),
    Column("marital_status", "string", "Single, Married, Widowed, I prefer not to say, or empty (Personal only)."),
    Column("minor_flag", "string", "Yes when younger than 18 (Personal only)."),
    Column("mobile_number1", "string", "Mobile number, 10 digits, derived from the id."),
    Column("nationality", "string", "Australian, Brazilian, Canadian, European, Indian, Indonesian, "
           "Norwegian, Singaporean or American."),
    Column("occupation", "string", "Salaried or Non Salaried (Personal only)."),
    Column("senior_citizen_flag", "string", "Yes when 60 or older (Personal only)."),
    Column("sourcing_channel", "string", "Branch, Partner or Online."),
    Column("customer_risk_category", "string", "High, Medium or Low."),
    Column("afflunce_level", "string", "Affluence level High, Medium or Low (seed spelling)."),
    Column("customer_status", "string", "Active, Dormant or Deceased."),
    Column("customer_addressline1", "string", "Address line 1 (house, building)."),
    Column("customer_addressline2", "string", "Address line 2 (street)."),
    Column("customer_addressline3", "string", "Address line 3 (locality)."),
    Column("city", "string", "City of residence."),
    Column("state", "string", "State or region of the city."),
    Column("country", "string", "Country of the city."),
    Column("pin", "string", "Postal code of the city (kept as text: leading zeros, Canadian and Dutch codes)."),
    Column("created_at", "timestamp", "When the customer was created in the source system (UTC)."),
    Column("modified_at", "timestamp", "When this version of the customer was written (UTC); "
           "a later modified_at is a newer version."),
    Column("cibil_check_date", "date", "Date of the last CIBIL credit check."),
    Column("cibil_score", "int", "CIBIL credit score, 300-900."),
    Column("country_code", "string", "International dialling code of the country, e.g. +91."),
    Column("branch_name", "string", "Home branch of the customer (seed 004's customers.branch_name)."),
    Column("zone", "string", "Sales zone of the home branch: North, South, East, West, Central (India) or Overseas."),
)

CUSTOMERS = Entity(
    "customers", ("cust_id",), "modified_at",
    "One row per customer version landed on a day: the initial load of the customer base.",
    _CUSTOMER_COLUMNS,
)

# Same columns as customers: each row is a new version of an existing customer (seed update tool).
CUSTOMER_UPDATES = Entity(
    "customer_updates", ("cust_id",), "modified_at",
    "One row per changed customer version landed on a day (the seed's update tool, batch form).",
    _CUSTOMER_COLUMNS,
)

PRODUCTS = Entity(
    "products", ("product_id",), "modified_at",
    "One row per retail product version (credit cards, deposits, loans).",
    (
        Column("product_id", "string", "Product id, e.g. PRD0001."),
        Column("product_name", "string", "Marketing name of the product."),
        Column("product_type", "string", "Credit Card, Savings Account, Current Account, Fixed Deposit, "
               "Personal Loan or Home Loan."),
        Column("product_category", "string", "Cards, Deposits or Loans."),
        Column("card_network", "string", "Visa, Mastercard, RuPay or Amex for cards; empty otherwise."),
        Column("annual_fee", "decimal", "Annual fee in INR."),
        Column("interest_rate", "decimal", "Yearly interest rate in percent (paid on deposits, charged on cards and loans)."),
        Column("min_cibil_score", "int", "Lowest CIBIL score eligible for the product."),
        Column("launch_date", "date", "Date the product was launched."),
        Column("product_status", "string", "Active or Retired."),
        Column("created_at", "timestamp", "When the product was created in the source system (UTC)."),
        Column("modified_at", "timestamp", "When this version of the product was written (UTC)."),
    ),
)

ACCOUNTS = Entity(
    "accounts", ("account_id",), "modified_at",
    "One row per account version: a customer holding a product.",
    (
        Column("account_id", "string", "Account id: 12 digits."),
        Column("cust_id", "string", "Customer holding the account (customers.cust_id)."),
        Column("product_id", "string", "Product of the account (products.product_id)."),
        Column("account_open_date", "date", "Date the account was opened (not before the customer was created)."),
        Column("account_status", "string", "Active, Dormant or Closed."),
        Column("credit_limit", "decimal", "Credit limit in INR for cards and loans; empty for deposits."),
        Column("current_balance", "decimal", "Balance in INR at modified_at (outstanding amount for cards and loans)."),
        Column("currency_code", "string", "ISO 4217 currency of the account (INR)."),
        Column("created_at", "timestamp", "When the account was created in the source system (UTC)."),
        Column("modified_at", "timestamp", "When this version of the account was written (UTC)."),
    ),
)

TRANSACTIONS = Entity(
    "transactions", ("txn_id",), None,
    "One row per transaction; transactions are immutable, so txn_id alone identifies a row.",
    (
        Column("txn_id", "string", "Transaction id: T + logical date (YYYYMMDD) + 10 digits."),
        Column("account_id", "string", "Account debited or credited (accounts.account_id)."),
        Column("txn_ts", "timestamp", "When the transaction happened (UTC), within the logical day."),
        Column("amount", "decimal", "Amount in the account currency, positive."),
        Column("currency_code", "string", "ISO 4217 currency (INR)."),
        Column("txn_type", "string", "Debit or Credit."),
        Column("txn_mode", "string", "UPI, QR, Card, NetBanking, NEFT, IMPS, ATM or Cheque."),
        Column("channel", "string", "Mobile, Web, POS, ATM or Branch."),
        Column("txn_reason", "string", "Exam, Food & Grocery, Travel, Ecom, Bills & Utilities, Health, "
               "Entertainment, Fuel, Salary, Refund or Transfer."),
        Column("merchant_name", "string", "Merchant or counterparty; empty for ATM and transfers."),
        Column("txn_status", "string", "Success, Failed or Reversed."),
    ),
)

CAMPAIGN_EVENTS = Entity(
    "campaign_events", ("event_id",), None,
    "One row per campaign event: a customer reaching a stage of a credit-card cross-sell campaign; events are "
    "immutable, so event_id alone identifies a row.",
    (
        Column("event_id", "string", "Event id: E + logical date (YYYYMMDD) + 10 digits."),
        Column("cust_id", "string", "Customer the campaign reached (customers.cust_id)."),
        Column("campaign_id", "string", "Campaign id, XSELL-CC-YYYY-MM: one credit-card cross-sell campaign per "
               "calendar month."),
        Column("campaign_name", "string", "Name of the campaign."),
        Column("product_id", "string", "Product offered (products.product_id), a credit card."),
        Column("stage", "string", "Customer Reached, Explored Product, Started to Apply, Engagement, Completed "
               "Application, KYC or Onboarded (in this order)."),
        Column("stage_ts", "timestamp", "When the customer reached the stage (UTC), within the logical day."),
        Column("channel", "string", "Email, SMS, Mobile App, Web, Branch or Call Centre."),
    ),
)

ENTITIES: dict[str, Entity] = {e.name: e for e in (CUSTOMERS, CUSTOMER_UPDATES, PRODUCTS, ACCOUNTS, TRANSACTIONS,
                                                   CAMPAIGN_EVENTS)}
