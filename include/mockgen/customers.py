"""Customers: the seed's customer attribute helper as a declarative, vectorised spec.

Every rule below names the seed function it reproduces. Where we differ from the seed, the rule's
comment says so and why.
"""
from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from include.mockgen import reference as ref
from include.mockgen.engine import (Cat, Choice, Derived, EntitySpec, MapChoice, Override, digits, exact_shares,
                                    group_choice, uniform_dates, uniform_seconds, weighted_codes)
from include.mockgen.schema import CUSTOMERS

FIRST_ID = 1_000_000_000          # seed: 10-digit ids; e-mail uses id - 1000000000 + 100
PHONE_OFFSET = 100_098_143        # seed generate_phone_number: int(customer_id) + 100098143
CUSTOMER_PART_SIZE = 250_000
PERSONAL = ("Personal",)
CREATED_YEARS_BACK = 10           # created_at within the 10 years before the logical date


def years_before(d: date, years: int) -> date:
    """``d`` minus whole years (29 February -> 28 February)."""
    try:
        return d.replace(year=d.year - years)
    except ValueError:
        return d.replace(year=d.year - years, day=28)


def shifted(window: tuple[date, date], logical_date: date) -> tuple[date, date]:
    """A seed date window moved so that the seed's "today" (2023-11-11) becomes the logical date."""
    delta = logical_date - ref.SEED_TODAY
    return window[0] + delta, window[1] + delta


def _personal(ctx) -> np.ndarray:
    return ctx["customer_type"].mask(PERSONAL)


# --- identity -------------------------------------------------------------------------------

def _id(ctx, rng):
    return np.arange(ctx.offset, ctx.offset + ctx.n, dtype=np.int64) + FIRST_ID


def _cust_id(ctx, rng):
    return digits(ctx["_id"], 10)


def _phone(ctx, rng):
    return digits(ctx["_id"] + PHONE_OFFSET, 10)


# --- age (seed generate_dates_of_birth_with_derived_values) ------------------------------------

def _age_bucket(ctx, rng):
    """Exactly int(n * share) Personal customers per age bucket (remainder to minors, as the seed
    does), shuffled within the part; -1 for Corporate and Merchant."""
    personal = _personal(ctx)
    out = np.full(ctx.n, -1, dtype=np.int32)
    out[personal] = exact_shares(rng, [b[0] for b in ref.AGE_BUCKETS], int(personal.sum()), remainder_to=0)
    return out


def _dob(ctx, rng):
    """Personal: a date of birth giving an age inside the bucket on the logical date (Faker's
    date_of_birth, both ends included). Corporate/Merchant: the seed's generate_random_date_list
    (incorporation date for INCORPORATION_DATE_SHARE of them, shifted to the logical date)."""
    d = ctx.logical_date
    bucket = ctx["_age_bucket"]
    lo = np.array([np.datetime64(years_before(d, mx + 1) + timedelta(days=1)) for _, _, mx, _, _ in ref.AGE_BUCKETS])
    hi = np.array([np.datetime64(years_before(d, mn)) for _, mn, _, _, _ in ref.AGE_BUCKETS])
    b = np.maximum(bucket, 0)
    dob = uniform_dates(rng, lo[b], hi[b], ctx.n)
    business = bucket < 0
    m = int(business.sum())
    has_date = exact_shares(rng, [ref.INCORPORATION_DATE_SHARE, 1 - ref.INCORPORATION_DATE_SHARE], m, remainder_to=1) == 0
    incorporated = uniform_dates(rng, *shifted(ref.INCORPORATION_WINDOW, d), m)
    incorporated[~has_date] = np.datetime64("NaT")
    dob[business] = incorporated
    return dob


def _flag(bucket_index: int):
    def fn(ctx, rng):
        return Cat(("Yes", "No"), np.where(ctx["_age_bucket"] == bucket_index, 0, 1).astype(np.int32))
    return fn


# --- location (seed get_city_state_pincode, country_codes_dict) + seed 004's branch and zone --

def _location(ctx, rng):
    """Resident Indian -> an Indian city; Non Resident -> a city of the nationality (seed)."""
    resident = ctx["customer_category"].mask(("Resident Indian",))
    nationality: Cat = ctx["nationality"]
    groups = np.where(resident, ref.NATIONALITIES.index("Indian"), nationality.codes)
    return group_choice(rng, groups, [ref.LOCATION_INDEX_BY_NATIONALITY[n] for n in nationality.values])


def _location_field(fn):
    values = tuple(fn(loc) for loc in ref.LOCATIONS)
    return lambda ctx, rng: Cat(values, ctx["_location"])


def _zone(loc) -> str:
    return ref.ZONE_BY_STATE.get(loc[1], "Overseas") if loc[3] == "India" else "Overseas"


_BRANCHES = tuple(f"{loc[0]} {s}" for loc in ref.LOCATIONS for s in ref.BRANCH_SUFFIXES)


def _branch(ctx, rng):
    suffix = weighted_codes(rng, ref.BRANCH_SUFFIX_WEIGHTS, ctx.n)
    return Cat(_BRANCHES, ctx["_location"] * len(ref.BRANCH_SUFFIXES) + suffix)


_LINE1 = tuple(f"Flat {no}, {b}" for no in range(1, 1000) for b in ref.BUILDINGS)


def _addressline1(ctx, rng):
    return Cat(_LINE1, rng.integers(0, len(_LINE1), ctx.n, dtype=np.int32))


# --- contact (seed generate_email_ids, generate_phone_number) -------------------------------

def _email(ctx, rng):
    """Personal: first.last<id-1000000000+100>@gmail.com (seed). Corporate/Merchant have no first
    name: last<n>@gmail.com with the trading name (our rule; the seed's base script is not shown)."""
    first: Cat = ctx["cust_first_name"]
    prefix = Cat(tuple("" if v is None else v.lower() + "." for v in first.values), first.codes).to_arrow()
    last: Cat = ctx["cust_last_name"]
    last_lower = Cat(tuple(v.lower() for v in last.values), last.codes).to_arrow()
    number = pc.cast(pa.array(ctx["_id"] - FIRST_ID + 100), pa.string())
    return pc.binary_join_element_wise(prefix, last_lower, number, "@gmail.com", "")


# --- dates ------------------------------------------------------------------------------------

def _created_at(ctx, rng):
    """Within the CREATED_YEARS_BACK years before the logical date; not before age 10 (Personal),
    not before incorporation (Corporate/Merchant with a date). The seed leaves created_at to its
    source system; we need it for account open dates and version order."""
    floor = np.datetime64(years_before(ctx.logical_date, CREATED_YEARS_BACK), "s")
    dob = ctx["cust_dob"]
    personal = _personal(ctx)
    age10 = (dob + np.timedelta64(3653, "D")).astype("datetime64[s]")     # 10 years hold 2 or 3 leap days
    earliest = np.where(personal, age10, dob.astype("datetime64[s]"))
    earliest = np.where(np.isnat(earliest) | (earliest < floor), floor, earliest)
    earliest = np.minimum(earliest, ctx.day_start)
    return uniform_seconds(rng, earliest, np.full(ctx.n, ctx.day_end), ctx.n)


def _modified_at(ctx, rng):
    return uniform_seconds(rng, ctx["created_at"], np.full(ctx.n, ctx.day_end), ctx.n)


def _cibil_check_date(ctx, rng):
    """Seed generate_cibil_check_date: 2023-10-01..2023-11-11, shifted to end on the logical date."""
    return uniform_dates(rng, *shifted(ref.CIBIL_WINDOW, ctx.logical_date), ctx.n)


def cibil_scores(rng, n: int) -> np.ndarray:
    """Seed generate_cibil_score_list: exactly int(n * 3 %) in 310-650, the rest 651-900, shuffled."""
    low = exact_shares(rng, [ref.CIBIL_LOW_SHARE, 1 - ref.CIBIL_LOW_SHARE], n, remainder_to=1) == 0
    return np.where(low, rng.integers(ref.CIBIL_LOW[0], ref.CIBIL_LOW[1] + 1, n),
                    rng.integers(ref.CIBIL_HIGH[0], ref.CIBIL_HIGH[1] + 1, n)).astype(np.int32)


MINOR = ("minor_flag", "Yes")

CUSTOMER_RULES = [
    Derived("_id", fn=_id),
    Derived("cust_id", ("_id",), fn=_cust_id),
    # not in the seed: the type mix (reference.CUSTOMER_TYPE_WEIGHTS)
    Choice("customer_type", values=ref.CUSTOMER_TYPES, weights=ref.CUSTOMER_TYPE_WEIGHTS),
    Derived("_age_bucket", ("customer_type",), fn=_age_bucket),
    Derived("cust_dob", ("_age_bucket",), fn=_dob),
    Derived("minor_flag", ("_age_bucket",), fn=_flag(0), only_for=("customer_type", PERSONAL)),
    Derived("senior_citizen_flag", ("_age_bucket",), fn=_flag(4), only_for=("customer_type", PERSONAL)),
    Choice("gender", values=ref.GENDERS, weights=ref.GENDER_WEIGHTS, only_for=("customer_type", PERSONAL)),
    MapChoice("cust_title", source="gender", mapping=ref.TITLE_BY_GENDER,
              overrides=(Override(*MINOR, by_source=ref.MINOR_TITLE_BY_GENDER),),
              only_for=("customer_type", PERSONAL)),
    MapChoice("marital_status", source="cust_title", mapping=ref.MARITAL_BY_TITLE,
              overrides=(Override(*MINOR, value="Single"),), only_for=("customer_type", PERSONAL)),
    # seed generate_names: male/female lists by gender, both lists for the other genders
    MapChoice("cust_first_name", source="gender", only_for=("customer_type", PERSONAL), mapping={
        g: ref.FIRST_NAMES_MALE if g == "Male" else ref.FIRST_NAMES_FEMALE if g == "Female" else ref.FIRST_NAMES_ANY
        for g in ref.GENDERS}),
    # seed: random.randint(1, 10) > 5 -> a male first name as middle name (50 %)
    Choice("cust_middle_name", values=ref.FIRST_NAMES_MALE, present=0.5, only_for=("customer_type", PERSONAL)),
    Choice("cust_last_name", values=ref.LAST_NAMES),
    Choice("cust_segment", values=ref.SEGMENTS, weights=ref.SEGMENT_WEIGHTS),
    Choice("customer_category", values=ref.CATEGORIES, weights=ref.CATEGORY_WEIGHTS),
    Choice("customer_privelege", values=ref.PRIVILEGES, weights=ref.PRIVILEGE_WEIGHTS),
    Derived("email_addr", ("_id", "cust_first_name", "cust_last_name", "customer_type"), fn=_email),
    Derived("mobile_number1", ("_id",), fn=_phone),
    Choice("nationality", values=ref.NATIONALITIES, weights=ref.NATIONALITY_WEIGHTS),
    Choice("occupation", values=ref.OCCUPATIONS, weights=ref.OCCUPATION_WEIGHTS,
           overrides=(Override(*MINOR, value="Non Salaried"),), only_for=("customer_type", PERSONAL)),
    Choice("sourcing_channel", values=ref.SOURCING, weights=ref.SOURCING_WEIGHTS),
    Choice("customer_risk_category", values=ref.RISKS, weights=ref.RISK_WEIGHTS),
    Choice("afflunce_level", values=ref.AFFLUENCE, weights=ref.AFFLUENCE_WEIGHTS),
    Choice("customer_status", values=ref.STATUSES, weights=ref.STATUS_WEIGHTS,
           overrides=(Override(*MINOR, value="Active"),)),
    Derived("customer_addressline1", fn=_addressline1),
    Choice("customer_addressline2", values=ref.STREETS),
    Choice("customer_addressline3", values=ref.LOCALITIES),
    Derived("_location", ("customer_category", "nationality"), fn=_location),
    Derived("city", ("_location",), fn=_location_field(lambda loc: loc[0])),
    Derived("state", ("_location",), fn=_location_field(lambda loc: loc[1])),
    Derived("pin", ("_location",), fn=_location_field(lambda loc: loc[2])),
    Derived("country", ("_location",), fn=_location_field(lambda loc: loc[3])),
    Derived("country_code", ("_location",), fn=_location_field(lambda loc: ref.COUNTRY_CODES[loc[3]])),
    Derived("created_at", ("cust_dob", "customer_type"), fn=_created_at),
    Derived("modified_at", ("created_at",), fn=_modified_at),
    Derived("cibil_check_date", fn=_cibil_check_date),
    Derived("cibil_score", fn=lambda ctx, rng: cibil_scores(rng, ctx.n)),
    Derived("branch_name", ("_location",), fn=_branch),
    Derived("zone", ("_location",), fn=_location_field(_zone)),
]

CUSTOMER_SPEC = EntitySpec(CUSTOMERS, CUSTOMER_PART_SIZE, CUSTOMER_RULES)


def customer_book(ctx) -> dict[str, np.ndarray]:
    """The few per-customer values accounts and transactions need, as compact numpy arrays
    (types and affluence as codes into reference.CUSTOMER_TYPES / reference.AFFLUENCE)."""
    ctype: Cat = ctx["customer_type"]
    affluence: Cat = ctx["afflunce_level"]
    return {
        "cust_id": ctx["_id"],
        "ctype": np.array([ref.CUSTOMER_TYPES.index(v) for v in ctype.values], np.int8)[ctype.codes],
        "minor": ctx["minor_flag"].mask(("Yes",)),
        "created_at": ctx["created_at"],
        "affluence": np.array([ref.AFFLUENCE.index(v) for v in affluence.values], np.int8)[affluence.codes],
        "deceased": ctx["customer_status"].mask(("Deceased",)),
        "cibil": ctx["cibil_score"],
    }


def customer_book_from_table(table: pa.Table) -> dict[str, np.ndarray]:
    """The same book from landed rows (strings, as ``Lander.read`` returns them); rows without a
    well-formed id or type are skipped (the deliberately bad rows)."""
    ids = table.column("cust_id").to_numpy(zero_copy_only=False)
    ctype = table.column("customer_type").to_numpy(zero_copy_only=False)
    ok = np.array([isinstance(i, str) and len(i) == 10 and i.isdigit() for i in ids], dtype=bool) & np.isin(
        ctype, ref.CUSTOMER_TYPES)
    t = table.filter(pa.array(ok))
    col = lambda name: np.asarray(t.column(name).to_numpy(zero_copy_only=False), dtype=object)
    affluence = col("afflunce_level")
    cibil = pc.cast(t.column("cibil_score"), pa.int32(), safe=False).fill_null(700).to_numpy(zero_copy_only=False)
    return {
        "cust_id": col("cust_id").astype(np.int64),
        "ctype": np.array([ref.CUSTOMER_TYPES.index(v) for v in col("customer_type")], np.int8),
        "minor": col("minor_flag") == "Yes",
        "created_at": np.array(col("created_at"), dtype="datetime64[s]"),
        "affluence": np.array([ref.AFFLUENCE.index(v) if v in ref.AFFLUENCE else 2 for v in affluence], np.int8),
        "deceased": col("customer_status") == "Deceased",
        "cibil": cibil.astype(np.int32),
    }
