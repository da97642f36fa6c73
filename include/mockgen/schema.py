"""The landing contract: every entity's CSV columns, in file order, with type and meaning.

This is the one place the raw column names live. The generator writes exactly these columns and
the dbt sources declare exactly these columns (a test keeps the two in step). Column tags (PII,
DOB) are declared once, in the dbt YAML, not here.

Names follow the seed (document A of docs/reference-design.md), misspellings included
(``customer_privelege``, ``afflunce_level``): the raw contract keeps the source system's names and
the dbt staging layer renames them (decision D8).

Types are the logical types of the CSV text: ``string``, ``date`` (``YYYY-MM-DD``),
``timestamp`` (``YYYY-MM-DD HH:MM:SS``, UTC), ``int``, ``decimal`` (2 places). A missing value
is an empty field. What the warehouse accepts for each type, exactly, is written in
``TYPE_FORMATS`` below; staging converts strictly (dbt macro ``strict_cast``) and names a rule for
every value it cannot hold exactly (``<column>_is_<type>``, ``<column>_max_2_decimals``).

This declaration is the one place each entity's rules come from. dbt reads it through the
generated ``dbt_project/models/raw/_landing__sources.yml`` (``python -m include.mockgen.schema``
writes it; tests/dbt/test_contract.py keeps the two equal): the landing ledger checks every file's
header against ``columns``, staging derives the strict casts from ``type`` and the standardisation
from ``allowed``, and the validation derives one ``<column>_allowed`` rule per enumerated column,
the timestamp rules and the ``conflicting_version`` rule. A new entity or column gets all of them
by being declared here.
"""
from __future__ import annotations

import sys
from dataclasses import dataclass, field

# The accepted text of each logical type (a regular expression over the whole value, after
# surrounding blanks are removed). Anything else is rejected by a named staging rule, never
# rounded, truncated or re-interpreted.
TYPE_FORMATS: dict[str, str] = {
    "int": r"^[+-]?[0-9]+$",
    "decimal": r"^[+-]?[0-9]+([.][0-9]+)?$",
    "date": r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$",
    # the contract's `YYYY-MM-DD HH:MM:SS` (UTC); also ISO 8601's `T` separator, up to 6 fraction
    # digits (microseconds, what the warehouse holds) and an explicit UTC offset (`Z`, `+05:30`,
    # `-0400`), converted exactly to UTC. Offsets beyond +-14:00 and more fraction digits are rejected.
    "timestamp": (r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T]([01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9]([.][0-9]{1,6})?"
                  r"(Z|[+-][0-9]{2}:?[0-9]{2})?$"),
}
DECIMAL_PLACES = 2
# How far a timestamp may lie outside its logical day (UTC) before the day's file is said to carry
# a value from another day: clock skew between the source system and UTC, not late data.
LOGICAL_DAY_TOLERANCE_MINUTES = 15
# Control characters no text value may hold (C0 including tab, CR and LF; DEL; C1), as an RE2
# character class: staging rejects such a value with rule <column>_no_control_characters.
CONTROL_CHARACTERS = r"[\x00-\x1f\x7f-\x{9f}]"


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    description: str
    # enumerated values, in their served spelling: staging maps any case of them (and the dbt
    # value_aliases) to this spelling, and the validation rule <column>_allowed accepts exactly these
    allowed: tuple[str, ...] = ()
    # the name staging gives the column when the landing name is misspelt (D8)
    rename: str | None = None
    # an identifier: kept as landed (not trimmed), so a padded id fails its format rule
    identifier: bool = False
    # an event time that must fall within the file's logical day (+- LOGICAL_DAY_TOLERANCE_MINUTES);
    # every other timestamp must only not lie after the end of that day
    within_logical_day: bool = False
    # decimal(precision, DECIMAL_PLACES) for decimals
    precision: int = 14

    @property
    def staged_name(self) -> str:
        return self.rename or self.name


@dataclass(frozen=True)
class Entity:
    name: str           # landing folder: landing/<name>/dt=YYYY-MM-DD/part-NNNNN.csv
    key: tuple[str, ...]  # business key; with ``version_column`` it identifies one landed version
    version_column: str | None
    grain: str
    columns: tuple[Column, ...] = field(default_factory=tuple)
    seed_source: str | None = None   # the seed's dataset this entity stands for, when there is one

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)


_CUSTOMER_COLUMNS = (
    Column("cust_id", "string", "Customer id: 10 digits, from 1000000000 upwards.",
           identifier=True),
    Column("cust_dob", "date", "Date of birth (Personal); date of incorporation for part of the "
           "Corporate and Merchant customers, empty for the rest."),
    Column("cust_first_name", "string", "First name (Personal only)."),
    Column("cust_last_name", "string", "Last name (Personal); trading name (Corporate, Merchant)."),
    Column("cust_middle_name", "string", "Middle name, present for about half of Personal customers."),
    Column("cust_segment", "string", "Urban, Rural or Semi (the seed generator's spelling of Semi-Urban).",
           allowed=("Urban", "Rural", "Semi-Urban")),
    Column("cust_title", "string", "Mr, Mrs, Miss, Mx, Dr, or empty (Personal only).",
           allowed=("Mr", "Miss", "Mrs", "Mx", "Dr")),
    Column("customer_category", "string", "Non Resident or Resident Indian.",
           allowed=("Non Resident", "Resident Indian")),
    Column("customer_privelege", "string", "Privileged customer: Yes or No (seed spelling).",
           allowed=("Yes", "No"), rename="customer_privilege"),
    Column("customer_type", "string", "Personal, Corporate or Merchant.",
           allowed=("Personal", "Corporate", "Merchant")),
    Column("email_addr", "string", "E-mail address built from the names and the id."),
    Column("gender", "string", "Male, Female, Non Binary, Transgender, Intersex, I Prefer not to say "
           "(Personal only).",
           allowed=("Male", "Female", "Non Binary", "Transgender", "Intersex", "I prefer not to say")),
    Column("marital_status", "string", "Single, Married, Widowed, I prefer not to say, or empty (Personal only).",
           allowed=("Single", "Married", "Widowed", "I prefer not to say")),
    Column("minor_flag", "string", "Yes when younger than 18 (Personal only).",
           allowed=("Yes", "No")),
    Column("mobile_number1", "string", "Mobile number, 10 digits, derived from the id."),
    Column("nationality", "string", "Australian, Brazilian, Canadian, European, Indian, Indonesian, "
           "Norwegian, Singaporean or American.",
           allowed=("Australian", "Brazilian", "Canadian", "European", "Indian", "Indonesian", "Norwegian",
                    "Singaporean", "American")),
    Column("occupation", "string", "Salaried or Non Salaried (Personal only).",
           allowed=("Salaried", "Non Salaried")),
    Column("senior_citizen_flag", "string", "Yes when 60 or older (Personal only).",
           allowed=("Yes", "No")),
    Column("sourcing_channel", "string", "Branch, Partner or Online.",
           allowed=("Branch", "Partner", "Online")),
    Column("customer_risk_category", "string", "High, Medium or Low.",
           allowed=("High", "Medium", "Low")),
    Column("afflunce_level", "string", "Affluence level High, Medium or Low (seed spelling).",
           allowed=("High", "Medium", "Low"), rename="affluence_level"),
    Column("customer_status", "string", "Active, Dormant or Deceased.",
           allowed=("Active", "Dormant", "Deceased")),
    Column("customer_addressline1", "string", "Address line 1 (house, building)."),
    Column("customer_addressline2", "string", "Address line 2 (street)."),
    Column("customer_addressline3", "string", "Address line 3 (locality)."),
    Column("city", "string", "City of residence."),
    Column("state", "string", "State or region of the city."),
    Column("country", "string", "Country of the city.",
           allowed=("France", "Italy", "Spain", "Germany", "Netherlands", "Australia", "Brazil", "Canada",
                    "India", "Indonesia", "Norway", "Singapore", "United States")),
    Column("pin", "string", "Postal code of the city (kept as text: leading zeros, Canadian and Dutch codes)."),
    Column("created_at", "timestamp", "When the customer was created in the source system (UTC)."),
    Column("modified_at", "timestamp", "When this version of the customer was written (UTC); "
           "a later modified_at is a newer version."),
    Column("cibil_check_date", "date", "Date of the last CIBIL credit check."),
    Column("cibil_score", "int", "CIBIL credit score, 300-900."),
    Column("country_code", "string", "International dialling code of the country, e.g. +91."),
    Column("branch_name", "string", "Home branch of the customer (seed 004's customers.branch_name)."),
    Column("zone", "string", "Sales zone of the home branch: North, South, East, West, Central (India) or Overseas.",
           allowed=("North", "South", "East", "West", "Central", "Overseas")),
)

CUSTOMERS = Entity(
    "customers", ("cust_id",), "modified_at",
    "One row per customer version landed on a day: the initial load of the customer base.",
    _CUSTOMER_COLUMNS, seed_source="dataos://twdepot:finance_service/customer_overview (CSV)",
)

# Same columns as customers: each row is a new version of an existing customer (seed update tool).
CUSTOMER_UPDATES = Entity(
    "customer_updates", ("cust_id",), "modified_at",
    "One row per changed customer version landed on a day (the seed's update tool, batch form).",
    _CUSTOMER_COLUMNS, seed_source="dataos://twdepot:finance_service/customer_overview (CSV)",
)

PRODUCTS = Entity(
    "products", ("product_id",), "modified_at",
    "One row per retail product version (credit cards, deposits, loans).",
    (
        Column("product_id", "string", "Product id, e.g. PRD0001.",
               identifier=True),
        Column("product_name", "string", "Marketing name of the product."),
        Column("product_type", "string", "Credit Card, Savings Account, Current Account, Fixed Deposit, "
               "Personal Loan or Home Loan.",
               allowed=("Credit Card", "Savings Account", "Current Account", "Fixed Deposit", "Personal Loan",
                        "Home Loan")),
        Column("product_category", "string", "Cards, Deposits or Loans.",
               allowed=("Cards", "Deposits", "Loans")),
        Column("card_network", "string", "Visa, Mastercard, RuPay or Amex for cards; empty otherwise.",
               allowed=("Visa", "Mastercard", "RuPay", "Amex")),
        Column("annual_fee", "decimal", "Annual fee in INR."),
        Column("interest_rate", "decimal", "Yearly interest rate in percent (paid on deposits, charged on cards and loans).",
               precision=7),
        Column("min_cibil_score", "int", "Lowest CIBIL score eligible for the product."),
        Column("launch_date", "date", "Date the product was launched."),
        Column("product_status", "string", "Active or Retired.",
               allowed=("Active", "Retired")),
        Column("created_at", "timestamp", "When the product was created in the source system (UTC)."),
        Column("modified_at", "timestamp", "When this version of the product was written (UTC)."),
    ),
)

ACCOUNTS = Entity(
    "accounts", ("account_id",), "modified_at",
    "One row per account version: a customer holding a product.",
    (
        Column("account_id", "string", "Account id: 12 digits.",
               identifier=True),
        Column("cust_id", "string", "Customer holding the account (customers.cust_id).",
               identifier=True),
        Column("product_id", "string", "Product of the account (products.product_id).",
               identifier=True),
        Column("account_open_date", "date", "Date the account was opened (not before the customer was created)."),
        Column("account_status", "string", "Active, Dormant or Closed.",
               allowed=("Active", "Dormant", "Closed")),
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
        Column("txn_id", "string", "Transaction id: T + logical date (YYYYMMDD) + 10 digits.",
               identifier=True),
        Column("account_id", "string", "Account debited or credited (accounts.account_id).",
               identifier=True),
        Column("txn_ts", "timestamp", "When the transaction happened (UTC), within the logical day.",
               within_logical_day=True),
        Column("amount", "decimal", "Amount in the account currency, positive."),
        Column("currency_code", "string", "ISO 4217 currency (INR)."),
        Column("txn_type", "string", "Debit or Credit.",
               allowed=("Debit", "Credit")),
        Column("txn_mode", "string", "UPI, QR, Card, NetBanking, NEFT, IMPS, ATM or Cheque.",
               allowed=("UPI", "QR", "Card", "NetBanking", "NEFT", "IMPS", "ATM", "Cheque")),
        Column("channel", "string", "Mobile, Web, POS, ATM or Branch.",
               allowed=("Mobile", "Web", "POS", "ATM", "Branch")),
        Column("txn_reason", "string", "Exam, Food & Grocery, Travel, Ecom, Bills & Utilities, Health, "
               "Entertainment, Fuel, Salary, Refund or Transfer.",
               allowed=("Exam", "Food & Grocery", "Travel", "Ecom", "Bills & Utilities", "Health", "Entertainment",
                        "Fuel", "Salary", "Refund", "Transfer")),
        Column("merchant_name", "string", "Merchant or counterparty; empty for ATM and transfers."),
        Column("txn_status", "string", "Success, Failed or Reversed.",
               allowed=("Success", "Failed", "Reversed")),
    ),
)

CAMPAIGN_EVENTS = Entity(
    "campaign_events", ("event_id",), None,
    "One row per campaign event: a customer reaching a stage of a credit-card cross-sell campaign; events are "
    "immutable, so event_id alone identifies a row.",
    (
        Column("event_id", "string", "Event id: E + logical date (YYYYMMDD) + 10 digits.",
               identifier=True),
        Column("cust_id", "string", "Customer the campaign reached (customers.cust_id).",
               identifier=True),
        Column("campaign_id", "string", "Campaign id, XSELL-CC-YYYY-MM: one credit-card cross-sell campaign per "
               "calendar month."),
        Column("campaign_name", "string", "Name of the campaign."),
        Column("product_id", "string", "Product offered (products.product_id), a credit card.",
               identifier=True),
        # in the funnel's order: int_campaign_events_validated numbers the stages from this list
        Column("stage", "string", "Customer Reached, Explored Product, Started to Apply, Engagement, Completed "
               "Application, KYC or Onboarded (in this order).",
               allowed=("Customer Reached", "Explored Product", "Started to Apply", "Engagement",
                        "Completed Application", "KYC", "Onboarded")),
        Column("stage_ts", "timestamp", "When the customer reached the stage (UTC), within the logical day.",
               within_logical_day=True),
        # staged as campaign_channel: contact channels, not the transactions' channels (one allowed
        # list per staged name)
        Column("channel", "string", "Email, SMS, Mobile App, Web, Branch or Call Centre.",
               allowed=("Email", "SMS", "Mobile App", "Web", "Branch", "Call Centre"), rename="campaign_channel"),
    ),
)

ENTITIES: dict[str, Entity] = {e.name: e for e in (CUSTOMERS, CUSTOMER_UPDATES, PRODUCTS, ACCOUNTS, TRANSACTIONS,
                                                   CAMPAIGN_EVENTS)}


def allowed_values() -> dict[str, tuple[str, ...]]:
    """Staged column name -> its allowed values, over every entity (a column shared by entities has
    one list: two different lists for one name raise)."""
    out: dict[str, tuple[str, ...]] = {}
    for entity in ENTITIES.values():
        for column in entity.columns:
            if column.allowed:
                if out.setdefault(column.staged_name, column.allowed) != column.allowed:
                    raise ValueError(f"column {column.staged_name} has two different allowed lists")
    return out


_SOURCE_DESCRIPTION = (
    "The landing container: one folder per entity, one `dt=YYYY-MM-DD` folder per logical date, CSV part files "
    "with a header row and a `_manifest.json` (include/mockgen/landing.py). Column names are the landing contract "
    "(include/mockgen/schema.py), the seed's misspellings included. Every file is registered and checked in "
    "landing_inspection (header by name, UTF-8, CSV structure, manifest rows and sha256) before its rows are "
    "read; every value is read as text so that no value is lost or rejected at read time: typing happens in "
    "staging and malformed values go to the quarantine models with a reason.")


def _column_meta(column: Column) -> dict:
    meta: dict = {"contract_type": column.type}
    if column.allowed:
        meta["allowed_values"] = list(column.allowed)
    if column.rename:
        meta["staged_as"] = column.rename
    if column.identifier:
        meta["identifier"] = True
    if column.within_logical_day:
        meta["within_logical_day"] = True
    if column.type == "decimal":
        meta["precision"] = column.precision
    return meta


def dbt_sources() -> dict:
    """The dbt source `landing` for every entity, as written to dbt_project/models/raw/_landing__sources.yml:
    columns in file order with their description (docs, lineage and freshness; the rules come from
    ``dbt_declaration``)."""
    tables = []
    for entity in ENTITIES.values():
        location = (f"read_csv('{{{{ var(\"landing_root\") }}}}/{entity.name}/*/*.csv', header=true, all_varchar=true, "
                    "filename=true, hive_partitioning=true, hive_types_autocast=false)")
        tables.append({
            "name": entity.name,
            "description": entity.grain + (f" Seed: {entity.seed_source}." if entity.seed_source else ""),
            "meta": {"external_location": location},
            # when the source last landed a file (a blob listing, no file read): fsdp_latest_modified,
            # dbt_project/plugins/fsdp_blob.py; dbt source freshness runs in every fsdp_daily run
            "config": {"loaded_at_query": (f"select fsdp_latest_modified('{{{{ var(\"landing_root\") }}}}/"
                                           f"{entity.name}/*/*.csv')")},
            # every column is read as text (all_varchar): declared, so the catalog shows it (not UNKNOWN)
            "columns": [{"name": c.name, "data_type": "varchar", "description": f"{c.description} Landed as text ({c.type})."}
                        for c in entity.columns],
        })
    return {"version": 2, "sources": [{
        "name": "landing", "description": _SOURCE_DESCRIPTION,
        "freshness": {"warn_after": {"count": 1, "period": "day"}, "error_after": {"count": 3, "period": "day"}},
        "tables": tables,
    }]}


def dbt_declaration() -> dict:
    """What the dbt macros derive rules from, as one literal (macros/generated/landing_declaration.sql):
    the policy constants and, per entity, key, version column and columns with their meta."""
    return {
        "type_formats": TYPE_FORMATS, "decimal_places": DECIMAL_PLACES,
        "logical_day_tolerance_minutes": LOGICAL_DAY_TOLERANCE_MINUTES, "control_characters": CONTROL_CHARACTERS,
        "entities": {e.name: {"key": list(e.key), "version_column": e.version_column,
                              "columns": [dict(name=c.name, **_column_meta(c)) for c in e.columns]}
                     for e in ENTITIES.values()},
    }


def _jinja_literal(value, indent: int = 0) -> str:
    """``value`` as a Jinja literal: dicts of dicts one key per line, other values on one line."""
    pad = "    " * (indent + 1)
    if isinstance(value, dict) and any(isinstance(v, dict) for v in value.values()) or (
            isinstance(value, dict) and indent == 0):
        items = [f"{pad}{_jinja_literal(k)}: {_jinja_literal(v, indent + 1)}" for k, v in value.items()]
        return "{\n" + ",\n".join(items) + "\n" + "    " * indent + "}"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{_jinja_literal(k)}: {_jinja_literal(v, indent + 1)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)) and any(isinstance(v, dict) for v in value):
        return "[\n" + ",\n".join(pad + _jinja_literal(v, indent + 1) for v in value) + "\n" + "    " * indent + "]"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_jinja_literal(v, indent + 1) for v in value) + "]"
    if value is True or value is False:
        return "true" if value else "false"
    if value is None:
        return "none"
    return repr(value)


def dbt_declaration_macro() -> str:
    return ("{# Generated from include/mockgen/schema.py (python -m include.mockgen.schema); do not edit:\n"
            "   tests/dbt/test_contract.py fails when the two differ. The landing contract as the dbt macros\n"
            "   read it (macros/landing_contract.sql); a literal, so unit tests and parsing see it too. #}\n"
            "{% macro landing_declaration() -%}\n{{ return(" + _jinja_literal(dbt_declaration())
            + ") }}\n{%- endmacro %}\n")


SOURCES_HEADER = ("# Generated from include/mockgen/schema.py (python -m include.mockgen.schema); do not edit:\n"
                  "# tests/dbt/test_contract.py fails when the two differ.\n")


def dbt_sources_yaml() -> str:
    import yaml

    return SOURCES_HEADER + yaml.safe_dump(dbt_sources(), sort_keys=False, width=116, allow_unicode=True, default_flow_style=None)


def generated_files() -> dict:
    """dbt project file -> its content generated from this declaration."""
    from pathlib import Path

    project = Path(__file__).resolve().parents[2] / "dbt_project"
    return {project / "models" / "raw" / "_landing__sources.yml": dbt_sources_yaml(),
            project / "macros" / "generated" / "landing_declaration.sql": dbt_declaration_macro()}


if __name__ == "__main__":  # python -m include.mockgen.schema [--check]: (re)write or check the dbt files
    files = generated_files()
    if sys.argv[1:] == ["--check"]:
        stale = [str(p) for p, text in files.items() if not p.exists() or p.read_text() != text]
        sys.exit(f"differ from include/mockgen/schema.py: {', '.join(stale)}" if stale else 0)
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        print(path)
