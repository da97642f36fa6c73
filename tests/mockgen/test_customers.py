"""Every distribution and mapping rule of the seed's customer attribute helper, on one generated
part (fixed seed; shares within statistical tolerances, exact counts where the seed is exact)."""
from __future__ import annotations

import re
from collections import Counter
from datetime import date, timedelta

import numpy as np
import pytest

from include.mockgen import reference as ref
from include.mockgen.customers import CUSTOMER_SPEC, FIRST_ID, PHONE_OFFSET, years_before
from include.mockgen.schema import CUSTOMERS

D = date(2026, 11, 20)
N = 40_000
TOL = 0.015     # ~5 standard errors of a share at n = 36k


@pytest.fixture(scope="module")
def rows() -> list[dict]:
    table = CUSTOMER_SPEC.materialise(CUSTOMER_SPEC.evaluate(7, D, 0, N))
    assert table.column_names == CUSTOMERS.column_names
    return table.to_pylist()


@pytest.fixture(scope="module")
def personal(rows):
    return [r for r in rows if r["customer_type"] == "Personal"]


@pytest.fixture(scope="module")
def business(rows):
    return [r for r in rows if r["customer_type"] != "Personal"]


def shares(rows, column) -> dict:
    counts = Counter(r[column] for r in rows)
    return {k: v / len(rows) for k, v in counts.items()}


def expected(values, weights) -> dict:
    total = sum(weights)
    return {v: w / total for v, w in zip(values, weights)}


def assert_shares(rows, column, values, weights):
    got = shares(rows, column)
    assert set(got) == set(values)
    for value, p in expected(values, weights).items():
        assert got[value] == pytest.approx(p, abs=TOL), (column, value)


def age(dob: date) -> int:
    return D.year - dob.year - ((D.month, D.day) < (dob.month, dob.day))


def test_customer_type_mix_is_90_5_5(rows):
    assert_shares(rows, "customer_type", ref.CUSTOMER_TYPES, ref.CUSTOMER_TYPE_WEIGHTS)


def test_age_buckets_have_the_seeds_exact_counts_with_the_remainder_to_minors(personal):
    n = len(personal)
    ages = Counter()
    for r in personal:
        a = age(r["cust_dob"])
        ages["minor" if a < 18 else "18-45" if a <= 45 else "45-59" if a < 60 else "senior"] += 1
    # ages 30 and 45 belong to two seed buckets each, so compare bucket unions
    assert ages["senior"] == int(n * 0.15)
    assert ages["45-59"] + ages["18-45"] == int(n * 0.10) + int(n * 0.30) + int(n * 0.35)
    assert ages["minor"] == n - int(n * 0.15) - int(n * 0.10) - int(n * 0.30) - int(n * 0.35)
    assert min(age(r["cust_dob"]) for r in personal) == 10
    assert max(age(r["cust_dob"]) for r in personal) == 100


def test_minor_and_senior_flags_follow_the_age_on_the_logical_date(personal):
    for r in personal:
        a = age(r["cust_dob"])
        assert r["minor_flag"] == ("Yes" if a < 18 else "No")
        assert r["senior_citizen_flag"] == ("Yes" if a >= 60 else "No")


def test_gender_keeps_the_seeds_relative_weights(personal):
    assert_shares(personal, "gender", ref.GENDERS, ref.GENDER_WEIGHTS)


def test_title_follows_gender_and_minors_are_mr_or_miss(personal):
    for r in personal:
        if r["minor_flag"] == "Yes" and r["gender"] in ("Male", "Female"):
            assert r["cust_title"] == {"Male": "Mr", "Female": "Miss"}[r["gender"]]
        else:
            assert r["cust_title"] in ref.TITLE_BY_GENDER[r["gender"]]
    adult_female = [r for r in personal if r["gender"] == "Female" and r["minor_flag"] == "No"]
    for title in ("Miss", "Mrs", "Dr"):
        assert shares(adult_female, "cust_title")[title] == pytest.approx(1 / 3, abs=0.03)


def test_marital_status_follows_title_and_minors_are_single(personal):
    for r in personal:
        if r["minor_flag"] == "Yes":
            assert r["marital_status"] == "Single"
        else:
            assert r["marital_status"] in ref.MARITAL_BY_TITLE[r["cust_title"]]


def test_first_names_come_from_the_en_in_list_of_the_gender(personal):
    for r in personal:
        pool = {"Male": ref.FIRST_NAMES_MALE, "Female": ref.FIRST_NAMES_FEMALE}.get(r["gender"], ref.FIRST_NAMES_ANY)
        assert r["cust_first_name"] in pool
        assert r["cust_last_name"] in ref.LAST_NAMES


def test_half_of_personal_customers_have_a_male_middle_name(personal):
    with_middle = [r for r in personal if r["cust_middle_name"]]
    assert len(with_middle) / len(personal) == pytest.approx(0.5, abs=TOL)
    assert all(r["cust_middle_name"] in ref.FIRST_NAMES_MALE for r in with_middle)


def test_email_and_phone_are_derived_from_names_and_id_as_in_the_seed(rows):
    for r in rows:
        n = int(r["cust_id"]) - FIRST_ID + 100
        if r["customer_type"] == "Personal":
            assert r["email_addr"] == f"{r['cust_first_name'].lower()}.{r['cust_last_name'].lower()}{n}@gmail.com"
        else:
            assert r["email_addr"] == f"{r['cust_last_name'].lower()}{n}@gmail.com"
        assert r["mobile_number1"] == str(int(r["cust_id"]) + PHONE_OFFSET)
        assert re.fullmatch(r"\d{10}", r["cust_id"]) and re.fullmatch(r"\d{10}", r["mobile_number1"])


def test_rows_the_seeds_own_rules_reject_occur_as_its_generator_produces_them(rows):
    # Regression: the typographic apostrophe of Faker's "D’Alia" fails the seed's name and e-mail regexes
    alia = [r for r in rows if r["cust_last_name"] == "D’Alia"]
    assert alia and not re.match(r"^[a-z0-9.]+@[a-z]+\.[a-z]{2,3}", alia[0]["email_addr"])
    assert "Semi" in {r["cust_segment"] for r in rows}
    assert "I Prefer not to say" in {r["gender"] for r in rows}


@pytest.mark.parametrize("column, values, weights", [
    ("cust_segment", ref.SEGMENTS, ref.SEGMENT_WEIGHTS),
    ("customer_category", ref.CATEGORIES, ref.CATEGORY_WEIGHTS),
    ("customer_privelege", ref.PRIVILEGES, ref.PRIVILEGE_WEIGHTS),
    ("nationality", ref.NATIONALITIES, ref.NATIONALITY_WEIGHTS),
    ("sourcing_channel", ref.SOURCING, ref.SOURCING_WEIGHTS),
    ("customer_risk_category", ref.RISKS, ref.RISK_WEIGHTS),
    ("afflunce_level", ref.AFFLUENCE, ref.AFFLUENCE_WEIGHTS),
])
def test_weighted_attributes_keep_the_seeds_relative_weights(rows, column, values, weights):
    assert_shares(rows, column, values, weights)


def test_minors_are_non_salaried_and_active_and_adults_follow_the_weights(personal):
    minors = [r for r in personal if r["minor_flag"] == "Yes"]
    adults = [r for r in personal if r["minor_flag"] == "No"]
    assert {r["occupation"] for r in minors} == {"Non Salaried"}
    assert {r["customer_status"] for r in minors} == {"Active"}
    assert_shares(adults, "occupation", ref.OCCUPATIONS, ref.OCCUPATION_WEIGHTS)
    assert_shares(adults, "customer_status", ref.STATUSES, ref.STATUS_WEIGHTS)


def test_city_state_pin_come_from_category_and_nationality(rows):
    for r in rows:
        loc = (r["city"], r["state"], r["pin"], r["country"])
        nationality = "Indian" if r["customer_category"] == "Resident Indian" else r["nationality"]
        assert loc in ref.CITIES_BY_NATIONALITY[nationality]
        assert r["country_code"] == ref.COUNTRY_CODES[r["country"]]


def test_branch_is_in_the_city_and_zone_follows_the_state(rows):
    for r in rows:
        assert r["branch_name"].startswith(r["city"] + " ")
        assert r["branch_name"][len(r["city"]) + 1:] in ref.BRANCH_SUFFIXES
        assert r["zone"] == (ref.ZONE_BY_STATE[r["state"]] if r["country"] == "India" else "Overseas")
    assert {r["zone"] for r in rows} == {"North", "South", "East", "West", "Central", "Overseas"}


def test_address_lines_fit_the_seeds_50_character_limit(rows):
    for r in rows:
        for k in (1, 2, 3):
            assert 0 < len(r[f"customer_addressline{k}"]) <= 50


def test_cibil_check_dates_are_the_seed_window_shifted_to_the_logical_date(rows):
    dates = {r["cibil_check_date"] for r in rows}
    assert min(dates) == D - timedelta(days=41) and max(dates) == D


def test_cibil_scores_split_exactly_3_percent_low(rows):
    scores = np.array([r["cibil_score"] for r in rows])
    assert ((scores >= 310) & (scores <= 650)).sum() == int(len(rows) * 0.03)
    assert scores.min() >= 310 and scores.max() <= 900


def test_corporate_and_merchant_customers_have_no_personal_attributes(business):
    for r in business:
        for column in ("cust_first_name", "cust_middle_name", "cust_title", "gender", "marital_status",
                       "minor_flag", "senior_citizen_flag", "occupation"):
            assert r[column] is None, column
        assert r["cust_last_name"] in ref.LAST_NAMES


def test_part_of_corporate_and_merchant_customers_have_an_incorporation_date(business):
    dated = [r for r in business if r["cust_dob"] is not None]
    assert len(dated) == int(len(business) * ref.INCORPORATION_DATE_SHARE)
    delta = D - ref.SEED_TODAY
    assert all(ref.INCORPORATION_WINDOW[0] + delta <= r["cust_dob"] <= ref.INCORPORATION_WINDOW[1] + delta
               for r in dated)


def test_created_at_is_after_age_10_and_before_modified_at_within_the_logical_day(rows):
    end = D.isoformat() + " 23:59:59"
    floor = years_before(D, 10)
    for r in rows:
        assert r["created_at"] <= r["modified_at"]
        assert r["modified_at"].strftime("%Y-%m-%d %H:%M:%S") <= end
        assert r["created_at"].date() >= floor
        if r["customer_type"] == "Personal":
            assert r["created_at"].date() >= min(r["cust_dob"] + timedelta(days=3652), D)


def test_name_lists_are_fakers_own():
    """reference.py reads Faker's en_IN lists from the pinned Faker's source without importing
    Faker (half a second per landing process): they must be exactly what Faker's Provider has."""
    from faker.providers.person.en_IN import Provider

    from include.mockgen import reference

    assert reference.FIRST_NAMES_MALE == tuple(Provider.first_names_male)
    assert reference.FIRST_NAMES_FEMALE == tuple(Provider.first_names_female)
    assert reference.LAST_NAMES == tuple(Provider.last_names)
    assert len(reference.LAST_NAMES) > 100


def test_landing_does_not_import_faker():
    import subprocess
    import sys
    from pathlib import Path

    code = ("import sys; import include.mockgen.runner, include.mockgen.landing; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'faker'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         cwd=Path(__file__).resolve().parents[2])
    assert out.stdout.strip() == "[]"
