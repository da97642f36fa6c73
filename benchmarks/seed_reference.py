"""The source document's mock-customer generator, reimplemented row by row for the same-job
benchmark (benchmarks/bench_mockgen.py --only same-job). Not used by the product.

The document publishes the helper functions of its generator (``customer_attribute_helper``:
one ``random.choices`` / Faker call per attribute per customer) and describes the script that
calls them: generate the customers' attributes, organise them into a pandas DataFrame, write it
with ``DataFrame.to_csv`` (see write_csv) and upload the file to the landing container and again to the history
container. Its Trino look-ups (the next customer id) are replaced by a constant start id. The
helpers below keep the document's lists, probabilities and per-row calls; what the document
leaves out (the address lines, created/modified timestamps) is filled the same per-row way
(one ``random`` draw per value). Only Personal customers, the document's main script, 30 columns.

Because each row is built by Python calls into ``random`` and Faker, its cost per customer is fixed
by the interpreter: this is the baseline the vectorised generator (include/mockgen) is compared to.
"""
from __future__ import annotations

import random
import shutil
import sys
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

# The document's value tables, as include/mockgen/reference.py keeps them (one copy of the seed's data)
from include.mockgen.reference import BUILDINGS, CITIES_BY_NATIONALITY as CITIES, COUNTRY_CODES, LOCALITIES, STREETS  # noqa: E402

TITLES = {"Male": ["Mr", "Dr"], "Female": ["Miss", "Mrs", "Dr"], "Non Binary": ["Mx"], "Transgender": ["Mx"],
          "Intersex": ["Mx"], "I Prefer not to say": [""]}
MARITAL = {"Mr": ["Single", "Married"], "Mrs": ["Married"], "Dr": ["Single", "Married"],
           "Mx": ["I prefer not to say"], "": [""], "Miss": ["Single", "Widowed"]}
AGE_BANDS = ((0.10, 10, 17), (0.30, 18, 30), (0.35, 30, 45), (0.10, 45, 59), (0.15, 60, 100))


def dates_of_birth(fake, n):
    dob, minor, senior = [""] * n, ["No"] * n, ["No"] * n
    i = 0
    for share, lo, hi in AGE_BANDS:
        for _ in range(int(n * share)):
            dob[i] = fake.date_of_birth(minimum_age=lo, maximum_age=hi).strftime("%Y-%m-%d")
            minor[i] = "Yes" if hi == 17 else "No"
            senior[i] = "Yes" if lo == 60 else "No"
            i += 1
    while i < n:
        dob[i] = fake.date_of_birth(minimum_age=10, maximum_age=17).strftime("%Y-%m-%d")
        minor[i] = "Yes"
        i += 1
    return dob, minor, senior


def pick(values, weights):
    return random.choices(values, weights)[0]


def gender():
    return pick(["Male", "Female", "Non Binary", "Transgender", "Intersex", "I Prefer not to say"],
                [0.60, 0.60, 0.1, 0.1, 0.1, 0.1])


def title(g, minor):
    if minor == "Yes" and g == "Male":
        return "Mr"
    if minor == "Yes" and g == "Female":
        return "Miss"
    return random.choice(TITLES[g]) if g in TITLES else ""


def names(fake_in, genders):
    first, middle, last = [], [], []
    for g in genders:
        if g == "Male":
            first.append(fake_in.first_name_male().strip(" "))
        elif g == "Female":
            first.append(fake_in.first_name_female().strip(" "))
        else:
            first.append(fake_in.first_name().strip(" "))
        middle.append(fake_in.first_name_male().strip(" ") if random.randint(1, 10) > 5 else "")
        last.append(fake_in.last_name().strip(" "))
    return first, middle, last


def marital(t, minor):
    if minor == "Yes":
        return "Single"
    return random.choice(MARITAL[t]) if t in MARITAL else ""


def cibil_dates(n):
    start, days = datetime(2023, 10, 1), (datetime(2023, 11, 11) - datetime(2023, 10, 1)).days
    out = [(start + timedelta(days=random.randint(0, days))).strftime("%Y-%m-%d") for _ in range(n)]
    random.shuffle(out)
    return out


def cibil_scores(n):
    low = int(n * 0.03)
    out = [random.randint(310, 650) for _ in range(low)] + [random.randint(651, 900) for _ in range(n - low)]
    random.shuffle(out)
    return out


def personal_customers(n: int, seed: int = 42, first_id: int = 1_000_000_000) -> dict[str, list]:
    """The document's Personal customers, column by column, each value from its own call."""
    from faker import Faker

    random.seed(seed)
    Faker.seed(seed)
    fake, fake_in = Faker(), Faker("en_IN")
    ids = [str(first_id + i) for i in range(n)]
    dob, minor, senior = dates_of_birth(fake, n)
    genders = [gender() for _ in range(n)]
    titles = [title(g, m) for g, m in zip(genders, minor)]
    first, middle, last = names(fake_in, genders)
    category = [pick(["Non Resident", "Resident Indian"], [0.50, 0.60]) for _ in range(n)]
    nationality = [pick(["Australian", "Brazilian", "Canadian", "European", "Indian", "Indonesian", "Norwegian",
                         "Singaporean", "American"], [0.1, 0.2, 0.2, 0.2, 0.5, 0.2, 0.2, 0.2, 0.5]) for _ in range(n)]
    places = [random.choice(CITIES["Indian"] if c == "Resident Indian" else CITIES[nat])
              for c, nat in zip(category, nationality)]
    now = datetime(2026, 11, 20)
    frame = {
        "cust_id": ids,
        "cust_dob": dob,
        "cust_first_name": first,
        "cust_last_name": last,
        "cust_middle_name": middle,
        "cust_segment": [pick(["Urban", "Rural", "Semi"], [0.50, 0.30, 0.20]) for _ in range(n)],
        "cust_title": titles,
        "customer_category": category,
        "customer_privelege": [pick(["Yes", "No"], [0.5, 0.5]) for _ in range(n)],
        "customer_type": ["Personal"] * n,
        "email_addr": [f"{f.lower()}.{la.lower()}{int(i) - 1000000000 + 100}@gmail.com"
                       for f, la, i in zip(first, last, ids)],
        "gender": genders,
        "marital_status": [marital(t, m) for t, m in zip(titles, minor)],
        "minor_flag": minor,
        "mobile_number1": [int(i) + 100098143 for i in ids],
        "nationality": nationality,
        "occupation": ["Non Salaried" if m == "Yes" else pick(["Salaried", "Non Salaried"], [0.7, 0.3]) for m in minor],
        "senior_citizen_flag": senior,
        "sourcing_channel": [pick(["Branch", "Partner", "Online"], [0.4, 0.2, 0.4]) for _ in range(n)],
        "customer_risk_category": [pick(["High", "Low", "Medium"], [0.3, 0.3, 0.3]) for _ in range(n)],
        "afflunce_level": [pick(["High", "Low", "Medium"], [0.3, 0.4, 0.5]) for _ in range(n)],
        "customer_status": ["Active" if m == "Yes" else pick(["Active", "Dormant", "Deceased"], [0.8, 0.1, 0.1])
                            for m in minor],
        # not in the document's helpers: one cheap draw per line (a Faker address would cost more)
        "customer_addressline1": [f"{random.randint(1, 999)}, {random.choice(BUILDINGS)}" for _ in range(n)],
        "customer_addressline2": [random.choice(STREETS) for _ in range(n)],
        "customer_addressline3": [random.choice(LOCALITIES) for _ in range(n)],
        "city": [p[0] for p in places],
        "state": [p[1] for p in places],
        "country": [p[3] for p in places],
        "pin": [p[2] for p in places],
        "created_at": [now - timedelta(seconds=random.randint(0, 3 * 365 * 86400)) for _ in range(n)],
    }
    frame["country_code"] = [COUNTRY_CODES[c] for c in frame["country"]]
    frame["cibil_check_date"] = cibil_dates(n)
    frame["cibil_score"] = cibil_scores(n)
    return frame


def write_csv(columns: dict[str, list], path: Path) -> str:
    """The document writes with pandas ``DataFrame.to_csv`` (index included); pandas is not in the
    project's venv, so without it the rows go through the standard library's csv writer, one row at
    a time, like to_csv's own writer loop. Returns which writer was used."""
    try:
        import pandas as pd
    except ImportError:
        import csv

        with path.open("w", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow(["", *columns])
            writer.writerows(zip(range(len(columns["cust_id"])), *columns.values()))
        return "csv.writer"
    pd.DataFrame(columns).to_csv(path)
    return "pandas.to_csv"


def run(n: int, out_dir: str | Path) -> int:
    """The document's whole job: generate, write the CSV, upload it to landing and to history (here
    two copies of the file in ``out_dir``, the local stand-in for the containers). Prints the CSV
    writer used; returns the bytes of the file."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    local = out / "customer_mockdata.csv"
    writer = write_csv(personal_customers(n), local)
    for container in ("landing", "history"):
        (out / container).mkdir(parents=True, exist_ok=True)
        shutil.copyfile(local, out / container / "customer_mockdata.csv")
    print(writer)
    return local.stat().st_size


if __name__ == "__main__":   # python benchmarks/seed_reference.py ROWS OUT_DIR
    print(run(int(sys.argv[1]), sys.argv[2]))
