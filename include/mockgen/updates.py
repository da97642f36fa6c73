"""Customer updates: the seed's update tool, made non-interactive and safe.

The seed asks an operator for a customer id, builds SQL by string formatting (injection, decision
D9), lets them type any value for the attributes of the customer's type, and writes the row with
``modified_at = utcnow()``. Here:

* ``batch_updates``: for a logical date, a deterministic fraction of the customers gets 1-3
  attributes of its type's list changed to valid values (a new version, modified_at inside the day
  and after the previous version);
* ``single_update``: one customer, ``column=value`` pairs, validated against the allowed sets and
  formats; unknown ids, columns outside the type's list and invalid values raise ``UpdateError``.

Both work on the latest version of each customer (max modified_at over customers and
customer_updates landed up to the date) and never format values into a query. Rows are kept as
strings, exactly as landed, so an unchanged attribute lands byte-identical.
"""
from __future__ import annotations

import re
from collections import Counter
from datetime import date, datetime, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from include.mockgen import reference as ref
from include.mockgen.engine import rng_for
from include.mockgen.schema import CUSTOMERS

_DT = re.compile(r"/dt=(\d{4}-\d{2}-\d{2})/")
TS_FORMAT = "%Y-%m-%d %H:%M:%S"
EMAIL = re.compile(r"^[a-z0-9.]+@[a-z]+\.[a-z]{2,3}$")    # the seed's cleansing rule, anchored
UPDATE_FRACTION = 0.01


class UpdateError(ValueError):
    """A single-customer update that cannot be applied (message is meant for the operator)."""


# ------------------------------------------------------------------------------ reading landings

def landed_dates(lander, entity: str) -> list[date]:
    return sorted({date.fromisoformat(m.group(1)) for p in lander.landed_paths(entity) if (m := _DT.search("/" + p))})


def latest_versions(*tables: pa.Table) -> pa.Table:
    """One row per cust_id, the one with the greatest modified_at (the seed's dedup rule); rows
    without a 10-digit id are left out. Sorted by cust_id, so the result does not depend on the
    order the storage lists files in."""
    t = pa.concat_tables([x.select(CUSTOMERS.column_names) for x in tables])
    t = t.filter(pc.fill_null(pc.match_substring_regex(t["cust_id"], r"^\d{10}$"), False))
    t = t.sort_by([("cust_id", "ascending"), ("modified_at", "descending")])
    ids = t["cust_id"].to_numpy(zero_copy_only=False)
    first = np.ones(len(ids), dtype=bool)
    first[1:] = ids[1:] != ids[:-1]
    return t.filter(pa.array(first))


def current_customers(lander, through: date, updates_before: date | None = None) -> pa.Table:
    return latest_versions(lander.read("customers", through=through),
                           lander.read("customer_updates", through=through, before=updates_before))


# ------------------------------------------------------------------------------------- helpers

def _new_modified_at(rng, previous: str | None, logical_date: date) -> str:
    """Inside the logical day and after the previous version (one second after it when the previous
    version is already at the end of the day)."""
    start = datetime.combine(logical_date, datetime.min.time())
    end = start + timedelta(seconds=86399)
    prev = datetime.strptime(previous, TS_FORMAT) if previous else start - timedelta(seconds=1)
    low = max(start, prev + timedelta(seconds=1))
    if low >= end:
        return low.strftime(TS_FORMAT)
    return (low + timedelta(seconds=int(rng.integers(0, (end - low).total_seconds() + 1)))).strftime(TS_FORMAT)


def _location_of(city: str | None) -> tuple[str, str, str, str] | None:
    return next((loc for loc in ref.LOCATIONS if loc[0] == city), None)


def _set_location(row: dict, loc: tuple[str, str, str, str], suffix: str | None = None) -> None:
    row["city"], row["state"], row["pin"], row["country"] = loc
    row["country_code"] = ref.COUNTRY_CODES[loc[3]]
    old_suffix = (row.get("branch_name") or "").split(" ", 1)[-1] if row.get("branch_name") else None
    suffix = suffix or (old_suffix if old_suffix in ref.BRANCH_SUFFIXES else ref.BRANCH_SUFFIXES[0])
    # the home branch moves with the customer (not in the seed list: branch and zone are 004's)
    row["branch_name"] = f"{loc[0]} {suffix}"
    row["zone"] = ref.ZONE_BY_STATE.get(loc[1], "Overseas") if loc[3] == "India" else "Overseas"


def _other(rng, values, current, weights=None):
    options = [(v, w) for v, w in zip(values, weights or [1.0] * len(values)) if v != current]
    w = np.array([x[1] for x in options], dtype=float)
    return options[int(rng.choice(len(options), p=w / w.sum()))][0]


# ------------------------------------------------------------------------------ batch updates

def _change(rng, row: dict, group: str, logical_date: date) -> None:
    if group == "cust_segment":
        row[group] = _other(rng, ref.SEGMENTS, row[group], ref.SEGMENT_WEIGHTS)
    elif group == "customer_privelege":
        row[group] = _other(rng, ref.PRIVILEGES, row[group])
    elif group == "customer_risk_category":
        row[group] = _other(rng, ref.RISKS, row[group])
    elif group == "afflunce_level":
        row[group] = _other(rng, ref.AFFLUENCE, row[group], ref.AFFLUENCE_WEIGHTS)
    elif group == "customer_status":
        row[group] = _other(rng, ("Active", "Dormant"), row[group])
    elif group == "occupation":
        row[group] = _other(rng, ref.OCCUPATIONS, row[group])
    elif group == "marital_status":
        row[group] = _other(rng, ref.MARITAL_BY_TITLE[row["cust_title"] or ""], row[group])
    elif group == "mobile_number1":
        row[group] = f"{int(rng.integers(7, 10))}{int(rng.integers(0, 10**9)):09d}"
    elif group == "address":
        row["customer_addressline1"] = f"Flat {int(rng.integers(1, 1000))}, {rng.choice(ref.BUILDINGS)}"
        row["customer_addressline2"] = str(rng.choice(ref.STREETS))
        row["customer_addressline3"] = str(rng.choice(ref.LOCALITIES))
    elif group == "city":
        nat = "Indian" if row["customer_category"] == "Resident Indian" else row["nationality"]
        options = [ref.LOCATIONS[i] for i in ref.LOCATION_INDEX_BY_NATIONALITY.get(nat, ())
                   if ref.LOCATIONS[i][0] != row["city"]]
        if options:
            _set_location(row, options[int(rng.integers(0, len(options)))])
    elif group == "cibil":
        low = rng.random() < ref.CIBIL_LOW_SHARE
        lo, hi = ref.CIBIL_LOW if low else ref.CIBIL_HIGH
        row["cibil_score"] = str(int(rng.integers(lo, hi + 1)))
        row["cibil_check_date"] = logical_date.isoformat()


def _groups_for(row: dict) -> list[str]:
    """Attribute groups a batch may change: the seed's per-type lists, minus the ones whose change
    would contradict other columns (type, gender, title, flags, nationality, e-mail, country code:
    the seed lets an operator type anything; a batch only makes consistent changes). Related columns
    change together (address lines; city/state/pin/country/country code; CIBIL date and score)."""
    groups = ["cust_segment", "customer_privelege", "customer_risk_category", "afflunce_level", "mobile_number1",
              "address", "city", "cibil"]
    if row["customer_status"] != "Deceased" and row.get("minor_flag") != "Yes":
        groups.append("customer_status")
    if row["customer_type"] == "Personal" and row.get("minor_flag") != "Yes":
        groups.append("occupation")
        if len(ref.MARITAL_BY_TITLE.get(row["cust_title"] or "", ())) > 1:
            groups.append("marital_status")
    return groups


def batch_updates(current: pa.Table, seed: int, logical_date: date, fraction: float = UPDATE_FRACTION) -> pa.Table:
    """New versions of a deterministic ``fraction`` of ``current`` (latest versions, strings)."""
    rng = rng_for(seed, logical_date, "customer_updates", 0, "batch")
    n = current.num_rows
    k = min(n, int(round(n * fraction))) if fraction > 0 else 0
    if k == 0:
        return current.slice(0, 0)
    chosen = np.sort(rng.choice(n, size=k, replace=False))
    rows = current.take(pa.array(chosen)).to_pylist()
    for row in rows:
        groups = _groups_for(row)
        for g in rng.choice(groups, size=int(rng.integers(1, 4)), replace=False):
            _change(rng, row, str(g), logical_date)
        row["modified_at"] = _new_modified_at(rng, row["modified_at"], logical_date)
    return pa.Table.from_pylist(rows, schema=current.schema)


def bad_update_rows(current: pa.Table, updates: pa.Table, seed: int, logical_date: date, n: int):
    """``n`` deliberately bad customer versions for the day (see badrows): new versions of existing
    customers, then corrupted one kind each; a duplicate copies one of the day's updates."""
    from include.mockgen.badrows import corrupt
    rng = rng_for(seed, logical_date, "customer_updates.bad", 0, "pick")
    if current.num_rows == 0 or n == 0:
        return current.slice(0, 0), Counter()
    rows = current.take(pa.array(np.sort(rng.choice(current.num_rows, size=n, replace=n > current.num_rows)))).to_pylist()
    for row in rows:
        row["modified_at"] = _new_modified_at(rng, row["modified_at"], logical_date)
    fresh = pa.Table.from_pylist(rows, schema=current.schema)
    return corrupt("customers", seed, logical_date, fresh, updates if updates.num_rows else fresh)


# ------------------------------------------------------------------------------ single update

_ALLOWED = {
    "cust_segment": ref.SEGMENTS, "cust_title": ("Mr", "Mrs", "Miss", "Mx", "Dr", ""),
    "customer_category": ref.CATEGORIES, "customer_privelege": ref.PRIVILEGES, "customer_type": ref.CUSTOMER_TYPES,
    "gender": ref.GENDERS, "marital_status": ("Single", "Married", "Widowed", "I prefer not to say", ""),
    "minor_flag": ("Yes", "No"), "senior_citizen_flag": ("Yes", "No"), "nationality": ref.NATIONALITIES,
    "occupation": ref.OCCUPATIONS, "customer_risk_category": ref.RISKS, "afflunce_level": ref.AFFLUENCE,
    "customer_status": ref.STATUSES, "country": tuple(ref.COUNTRY_CODES),
    "country_code": tuple(dict.fromkeys(ref.COUNTRY_CODES.values())),
}


def _check_value(column: str, value: str, logical_date: date) -> None:
    if column in _ALLOWED:
        if value not in _ALLOWED[column]:
            raise UpdateError(f"invalid value {value!r} for {column}; allowed: "
                              f"{', '.join(repr(v) for v in _ALLOWED[column] if v)}")
    elif column == "email_addr":
        if len(value) > 50 or not EMAIL.match(value):
            raise UpdateError(f"invalid value {value!r} for email_addr: expected lower-case name@domain.tld, "
                              "at most 50 characters")
    elif column == "mobile_number1":
        if not re.fullmatch(r"\d{10}", value):
            raise UpdateError(f"invalid value {value!r} for mobile_number1: expected 10 digits")
    elif column.startswith("customer_addressline"):
        if not 0 < len(value) <= 50:
            raise UpdateError(f"invalid value for {column}: 1 to 50 characters")
    elif column in ("city", "state"):
        if not 0 < len(value) <= 30:
            raise UpdateError(f"invalid value for {column}: 1 to 30 characters")
    elif column == "pin":
        if not 0 < len(value) <= 10:
            raise UpdateError("invalid value for pin: 1 to 10 characters")
    elif column == "cibil_score":
        if not re.fullmatch(r"\d{3}", value) or not 300 <= int(value) <= 900:
            raise UpdateError(f"invalid value {value!r} for cibil_score: expected an integer 300-900")
    elif column == "cibil_check_date":
        try:
            checked = date.fromisoformat(value)
        except ValueError:
            raise UpdateError(f"invalid value {value!r} for cibil_check_date: expected YYYY-MM-DD") from None
        if len(value) != 10 or checked > logical_date:
            raise UpdateError(f"invalid value {value!r} for cibil_check_date: a YYYY-MM-DD date not after "
                              f"{logical_date.isoformat()}")


def _check_row(row: dict, changed: set[str]) -> None:
    """Cross-column rules of the seed's generator that a change must keep."""
    personal = row["customer_type"] == "Personal"
    minor = row.get("minor_flag") == "Yes"
    if personal and {"gender", "cust_title", "minor_flag"} & changed:
        allowed = ref.TITLE_BY_GENDER[row["gender"]]
        if minor and row["gender"] in ref.MINOR_TITLE_BY_GENDER:
            allowed = (ref.MINOR_TITLE_BY_GENDER[row["gender"]],)
        if (row["cust_title"] or "") not in allowed:
            raise UpdateError(f"cust_title {row['cust_title']!r} does not go with gender {row['gender']!r}"
                              f"{' (minor)' if minor else ''}; allowed: {', '.join(repr(a) for a in allowed)}")
    if personal and {"marital_status", "cust_title", "minor_flag", "gender"} & changed:
        allowed = ("Single",) if minor else ref.MARITAL_BY_TITLE[row["cust_title"] or ""]
        if (row["marital_status"] or "") not in allowed:
            raise UpdateError(f"marital_status {row['marital_status']!r} does not go with title "
                              f"{row['cust_title']!r}; allowed: {', '.join(repr(a) for a in allowed)}")
    if personal and row.get("minor_flag") == "Yes" and row.get("senior_citizen_flag") == "Yes":
        raise UpdateError("minor_flag and senior_citizen_flag cannot both be Yes")
    if {"city", "state", "pin", "country"} & changed:
        loc = (row["city"], row["state"], row["pin"], row["country"])
        if loc not in ref.LOCATIONS:
            raise UpdateError(f"unknown location {loc}: set city alone (state, pin, country follow) or a "
                              "city/state/pin/country combination of the generator's city list")
    if {"city", "state", "pin", "country", "customer_category", "nationality"} & changed:
        nat = "Indian" if row["customer_category"] == "Resident Indian" else row["nationality"]
        cities = [ref.LOCATIONS[i][0] for i in ref.LOCATION_INDEX_BY_NATIONALITY.get(nat, ())]
        if row["city"] not in cities:
            raise UpdateError(f"city {row['city']!r} does not go with a {row['customer_category']} "
                              f"{row['nationality']} customer; allowed: {', '.join(cities)}")
    if ref.COUNTRY_CODES.get(row["country"]) != row["country_code"]:
        raise UpdateError(f"country_code {row['country_code']!r} does not match country {row['country']!r} "
                          f"({ref.COUNTRY_CODES.get(row['country'])})")


def single_update(current: pa.Table, cust_id: str, changes: dict[str, str], logical_date: date, seed: int = 0) -> pa.Table:
    """A one-row table: the new version of ``cust_id`` with ``changes`` applied; raises UpdateError."""
    if not re.fullmatch(r"\d{10}", cust_id or ""):
        raise UpdateError(f"invalid customer id {cust_id!r}: expected 10 digits")
    hit = current.filter(pc.equal(current["cust_id"], cust_id))
    if hit.num_rows == 0:
        raise UpdateError(f"customer {cust_id} does not exist")
    row = hit.to_pylist()[0]
    allowed = ref.UPDATABLE_COLUMNS.get(row["customer_type"])
    if allowed is None:
        raise UpdateError(f"customer {cust_id} has an unknown customer_type {row['customer_type']!r}")
    if not changes:
        raise UpdateError("nothing to update: give at least one --set column=value")
    for column, value in changes.items():
        if column not in CUSTOMERS.column_names:
            raise UpdateError(f"unknown column {column!r}; a {row['customer_type']} customer allows: {', '.join(allowed)}")
        if column not in allowed:
            raise UpdateError(f"column {column!r} cannot be updated for a {row['customer_type']} customer; "
                              f"allowed: {', '.join(allowed)}")
        _check_value(column, value, logical_date)
    if "customer_type" in changes and (changes["customer_type"] == "Personal") != (row["customer_type"] == "Personal"):
        raise UpdateError(f"customer_type cannot change from {row['customer_type']} to {changes['customer_type']}: "
                          "Personal and Corporate/Merchant customers have different attributes")
    before = dict(row)
    if "city" in changes and not {"state", "pin", "country"} & set(changes):
        loc = _location_of(changes["city"])
        if loc is None:
            raise UpdateError(f"unknown city {changes['city']!r}; known: {', '.join(l[0] for l in ref.LOCATIONS)}")
        _set_location(row, loc)
    for column, value in changes.items():
        if column != "city" or {"state", "pin", "country"} & set(changes):
            row[column] = value or None
    if "country" in changes and "country_code" not in changes:
        row["country_code"] = ref.COUNTRY_CODES[row["country"]]
    changed = {c for c in row if row[c] != before[c]}
    _check_row(row, changed | set(changes))
    if not changed:
        raise UpdateError(f"nothing to update: customer {cust_id} already has these values")
    row["modified_at"] = _new_modified_at(rng_for(seed, logical_date, "customer_updates", 0, cust_id),
                                          row["modified_at"], logical_date)
    return pa.Table.from_pylist([row], schema=current.schema)


__all__ = ["UpdateError", "batch_updates", "bad_update_rows", "single_update", "current_customers", "latest_versions", 
           "landed_dates"]
