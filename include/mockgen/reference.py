"""Reference data of the generator: the seed's value lists, weights and mappings, plus our additions.

Everything marked "seed" is copied from the customer attribute helper in
the seed, document A of docs/reference-design.md (same values, same spelling, same relative weights: ``random.choices``
normalises its weights, so ``(0.6, 0.6, 0.1, ...)`` is kept as written and normalised by the engine;
decision D7). Everything else is ours and says why it exists.
"""
from __future__ import annotations

import ast
import importlib.util
from datetime import date
from pathlib import Path


def _faker_en_in_names() -> dict[str, tuple[str, ...]]:
    """Faker's en_IN name lists (``faker.providers.person.en_IN.Provider``), read from the pinned
    Faker's source without importing Faker: its package import costs about 0.5 s (locale tables),
    paid by every process that lands data; find_spec locates the package without running it. The
    lists are the literal tuples of the Provider class (tests/mockgen compares them with Faker's)."""
    spec = importlib.util.find_spec("faker")
    if spec is None or not spec.origin:
        raise ImportError("faker is not installed (requirements.txt pins it)")
    source = Path(spec.origin).parent / "providers" / "person" / "en_IN" / "__init__.py"
    wanted = {"first_names_male", "first_names_female", "last_names"}
    found: dict[str, tuple[str, ...]] = {}
    for node in ast.parse(source.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.ClassDef) and node.name == "Provider":
            for stmt in node.body:
                if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(stmt.targets[0], ast.Name)
                        and stmt.targets[0].id in wanted):
                    found[stmt.targets[0].id] = tuple(ast.literal_eval(stmt.value))
    if set(found) != wanted:
        raise ImportError(f"{source}: expected the literal lists {sorted(wanted)} in class Provider, found "
                          f"{sorted(found)} (a Faker upgrade changed the file: update _faker_en_in_names)")
    return found


_EN_IN = _faker_en_in_names()

# The seed's "today": its absolute dates (CIBIL window, incorporation dates) are shifted by
# (logical date - SEED_TODAY) so the data never looks stale.
SEED_TODAY = date(2023, 11, 11)
CIBIL_WINDOW = (date(2023, 10, 1), date(2023, 11, 11))          # seed generate_cibil_check_date
INCORPORATION_WINDOW = (date(2000, 1, 1), date(2023, 8, 31))    # seed generate_random_date_list

# seed generate_names uses Faker('en_IN'): first_name_male / first_name_female / first_name (the
# two lists together) / last_name, uniform. Names are kept exactly as Faker has them: one last name
# (D’Alia) has a typographic apostrophe, so a few rows fail the seed's own name/e-mail rules, as
# the seed's generator produced them.
FIRST_NAMES_MALE: tuple[str, ...] = _EN_IN["first_names_male"]
FIRST_NAMES_FEMALE: tuple[str, ...] = _EN_IN["first_names_female"]
FIRST_NAMES_ANY: tuple[str, ...] = FIRST_NAMES_MALE + FIRST_NAMES_FEMALE
LAST_NAMES: tuple[str, ...] = _EN_IN["last_names"]

# seed generate_dates_of_birth_with_derived_values: (share, min age, max age, minor, senior);
# Faker's date_of_birth(minimum_age, maximum_age) includes both ends. The remainder of the
# int(n * share) counts goes to minors, as in the seed.
AGE_BUCKETS = (
    (0.10, 10, 17, "Yes", "No"),
    (0.30, 18, 30, "No", "No"),
    (0.35, 30, 45, "No", "No"),
    (0.10, 45, 59, "No", "No"),
    (0.15, 60, 100, "No", "Yes"),
)

GENDERS = ("Male", "Female", "Non Binary", "Transgender", "Intersex", "I Prefer not to say")   # seed
GENDER_WEIGHTS = (0.60, 0.60, 0.1, 0.1, 0.1, 0.1)                                             # seed

# seed title_mappings ('' = no title, landed as an empty field) and the minors' special case
TITLE_BY_GENDER = {
    "Male": ("Mr", "Dr"), "Female": ("Miss", "Mrs", "Dr"), "Non Binary": ("Mx",),
    "Transgender": ("Mx",), "Intersex": ("Mx",), "I Prefer not to say": ("",),
}
MINOR_TITLE_BY_GENDER = {"Male": "Mr", "Female": "Miss"}

# seed marital_status_mapping; minors are always Single (seed generate_marital_status)
MARITAL_BY_TITLE = {
    "Mr": ("Single", "Married"), "Mrs": ("Married",), "Dr": ("Single", "Married"),
    "Mx": ("I prefer not to say",), "": ("",), "Miss": ("Single", "Widowed"),
}

SEGMENTS, SEGMENT_WEIGHTS = ("Urban", "Rural", "Semi"), (0.50, 0.30, 0.20)                    # seed
CATEGORIES, CATEGORY_WEIGHTS = ("Non Resident", "Resident Indian"), (0.50, 0.60)              # seed
PRIVILEGES, PRIVILEGE_WEIGHTS = ("Yes", "No"), (0.50, 0.50)                                   # seed
NATIONALITIES = ("Australian", "Brazilian", "Canadian", "European", "Indian", "Indonesian",
                 "Norwegian", "Singaporean", "American")                                       # seed
NATIONALITY_WEIGHTS = (0.1, 0.2, 0.2, 0.2, 0.5, 0.2, 0.2, 0.2, 0.5)                            # seed
OCCUPATIONS, OCCUPATION_WEIGHTS = ("Salaried", "Non Salaried"), (0.70, 0.30)                  # seed
SOURCING, SOURCING_WEIGHTS = ("Branch", "Partner", "Online"), (0.40, 0.20, 0.40)              # seed
STATUSES, STATUS_WEIGHTS = ("Active", "Dormant", "Deceased"), (0.80, 0.10, 0.10)              # seed
RISKS, RISK_WEIGHTS = ("High", "Low", "Medium"), (0.30, 0.30, 0.30)                           # seed
AFFLUENCE, AFFLUENCE_WEIGHTS = ("High", "Low", "Medium"), (0.30, 0.40, 0.50)                  # seed

# Not in the seed (its generator script for the customer base is not shown): the mix of types.
CUSTOMER_TYPES, CUSTOMER_TYPE_WEIGHTS = ("Personal", "Corporate", "Merchant"), (0.90, 0.05, 0.05)
# seed generate_random_date_list(num_customers, date_percentage): the share of Corporate and
# Merchant customers with a date of incorporation is the caller's choice; we take 60 %.
INCORPORATION_DATE_SHARE = 0.60

CIBIL_LOW_SHARE, CIBIL_LOW, CIBIL_HIGH = 0.03, (310, 650), (651, 900)                         # seed

COUNTRY_CODES = {                                                                               # seed
    "India": "+91", "Norway": "+47", "Australia": "+61", "Brazil": "+55", "United States": "+1",
    "France": "+33", "Germany": "+49", "Spain": "+34", "Indonesia": "+62", "Canada": "+1",
    "Singapore": "+65", "Netherlands": "+31", "Italy": "+39",
}

# seed country_cities_states_mapping: nationality -> (city, state, pin, country)
CITIES_BY_NATIONALITY: dict[str, tuple[tuple[str, str, str, str], ...]] = {
    "Australian": (("Sydney", "New South Wales", "2000", "Australia"), ("Melbourne", "Victoria", "3000", "Australia"),
                   ("Brisbane", "Queensland", "4000", "Australia"), ("Perth", "Western Australia", "6000", "Australia"),
                   ("Adelaide", "South Australia", "5000", "Australia")),
    "Brazilian": (("Rio de Janeiro", "Rio de Janeiro", "20000", "Brazil"), ("Sao Paulo", "Sao Paulo", "01000", "Brazil"),
                  ("Brasília", "Federal District", "70000", "Brazil"), ("Salvador", "Bahia", "40000", "Brazil"),
                  ("Fortaleza", "Ceará", "60000", "Brazil")),
    "American": (("New York City", "New York", "10001", "United States"), ("Los Angeles", "California", "90001", "United States"),
                 ("Chicago", "Illinois", "60601", "United States"), ("Houston", "Texas", "77001", "United States"),
                 ("Miami", "Florida", "33101", "United States")),
    "Canadian": (("Toronto", "Ontario", "M5V 1J9", "Canada"), ("Vancouver", "British Columbia", "V6B 1E2", "Canada"),
                 ("Montreal", "Quebec", "H2X 1J1", "Canada"), ("Calgary", "Alberta", "T2P 0R5", "Canada"),
                 ("Ottawa", "Ontario", "K1P 1J1", "Canada")),
    "European": (("Paris", "Île-de-France", "75001", "France"), ("Rome", "Lazio", "00100", "Italy"),
                 ("Madrid", "Madrid", "28001", "Spain"), ("Berlin", "Berlin", "10115", "Germany"),
                 ("Amsterdam", "North Holland", "1012 JS", "Netherlands")),
    "Indonesian": (("Jakarta", "Jakarta", "10110", "Indonesia"), ("Surabaya", "East Java", "60111", "Indonesia"),
                   ("Bandung", "West Java", "40111", "Indonesia"), ("Medan", "North Sumatra", "20111", "Indonesia"),
                   ("Makassar", "South Sulawesi", "90111", "Indonesia")),
    "Norwegian": (("Oslo", "Oslo", "0010", "Norway"), ("Bergen", "Vestland", "5015", "Norway"),
                  ("Trondheim", "Trondelag", "7010", "Norway"), ("Stavanger", "Rogaland", "4006", "Norway"),
                  ("Tromsø", "Troms og Finnmark", "9008", "Norway")),
    "Singaporean": (("Singapore", "Singapore", "049317", "Singapore"), ("Bedok", "Singapore", "469001", "Singapore"),
                    ("Jurong East", "Singapore", "609731", "Singapore"), ("Tampines", "Singapore", "529653", "Singapore"),
                    ("Woodlands", "Singapore", "738099", "Singapore")),
    "Indian": (("Mumbai", "Maharashtra", "400001", "India"), ("Delhi", "Delhi", "110001", "India"),
               ("Bangalore", "Karnataka", "560001", "India"), ("Kolkata", "West Bengal", "700001", "India"),
               ("Chennai", "Tamil Nadu", "600001", "India"), ("Hyderabad", "Telangana", "500001", "India"),
               ("Pune", "Maharashtra", "411001", "India"), ("Chandigarh", "Chandigarh", "160001", "India"),
               ("Jaipur", "Rajasthan", "302001", "India"), ("Ahmedabad", "Gujarat", "380001", "India"),
               ("Kochi", "Kerala", "682001", "India"), ("Lucknow", "Uttar Pradesh", "226001", "India"),
               ("Bhopal", "Madhya Pradesh", "462001", "India"), ("Patna", "Bihar", "800001", "India"),
               ("Coimbatore", "Tamil Nadu", "641001", "India")),
}
# One flat list of locations: a customer's location is an index into it (city, state, pin, country).
LOCATIONS: tuple[tuple[str, str, str, str], ...] = tuple(t for ts in CITIES_BY_NATIONALITY.values() for t in ts)
LOCATION_INDEX_BY_NATIONALITY: dict[str, tuple[int, ...]] = {}
_i = 0
for _nat, _ts in CITIES_BY_NATIONALITY.items():
    LOCATION_INDEX_BY_NATIONALITY[_nat] = tuple(range(_i, _i + len(_ts)))
    _i += len(_ts)

# Seed 004's dimensions: a home branch and a sales zone per customer. Zones of the Indian states
# of the seed's city list; every other country is "Overseas".
ZONE_BY_STATE = {
    "Maharashtra": "West", "Gujarat": "West", "Rajasthan": "West", "Delhi": "North", "Chandigarh": "North",
    "Uttar Pradesh": "North", "Karnataka": "South", "Tamil Nadu": "South", "Telangana": "South",
    "Kerala": "South", "West Bengal": "East", "Bihar": "East", "Madhya Pradesh": "Central",
}
BRANCH_SUFFIXES, BRANCH_SUFFIX_WEIGHTS = ("Main", "City Centre", "Station Road", "Market", "Airport Road"), (
    0.35, 0.25, 0.15, 0.15, 0.10)

# Address lines (the seed's cleansing allows 50 characters each): small pools, composed per row.
BUILDINGS = ("Sai Residency", "Lotus Apartments", "Green Park Towers", "Shanti Niwas", "Royal Enclave",
             "Sunrise Heights", "Palm Grove", "Lake View Residency", "Silver Oak Villa", "Harbour Court")
STREETS = ("MG Road", "Station Road", "Church Street", "Park Avenue", "Main Street", "High Street",
           "Nehru Marg", "Gandhi Road", "Ring Road", "Market Street", "Hill Road", "Lake Road")
LOCALITIES = ("Near City Hospital", "Opp. Central Mall", "Behind Bus Depot", "Near Railway Station",
              "Old Town", "New Town", "Sector 5", "Riverside", "Civil Lines", "University Area")

# Attributes an update may change, per customer type: the seed update tool's two lists, mapped to
# the landing's column names. The seed turns a label into a column with '_'.join(label.lower().split()),
# which gives 'email_address' and 'affluence_level' for columns actually named email_addr and
# afflunce_level (its updates of those two went to new, unread columns); we map them to the real columns.
SEED_LABEL_TO_COLUMN = {"Email address": "email_addr", "Affluence Level": "afflunce_level"}
PERSONAL_UPDATE_LABELS = (
    "Cust Segment", "Cust Title", "Customer Category", "Customer Privelege", "Customer Type", "Email address",
    "Gender", "Marital Status", "Minor Flag", "Mobile Number1", "Nationality", "Occupation",
    "Senior Citizen Flag", "Customer Risk Category", "Affluence Level", "Customer Status",
    "Customer AddressLine1", "Customer AddressLine2", "Customer AddressLine3", "City", "State", "Country",
    "Pin", "Country Code", "Cibil Check Date", "Cibil Score",
)
MERCHANT_CORPORATE_UPDATE_LABELS = (
    "Cust Segment", "Customer Category", "Customer Privelege", "Customer Type", "Email address",
    "Mobile Number1", "Nationality", "Customer Risk Category", "Affluence Level", "Customer Status",
    "Customer AddressLine1", "Customer AddressLine2", "Customer AddressLine3", "City", "State", "Country",
    "Pin", "Country Code", "Cibil Check Date", "Cibil Score",
)


def _column(label: str) -> str:
    return SEED_LABEL_TO_COLUMN.get(label, "_".join(label.lower().split()))


UPDATABLE_COLUMNS = {
    "Personal": tuple(_column(x) for x in PERSONAL_UPDATE_LABELS),
    "Corporate": tuple(_column(x) for x in MERCHANT_CORPORATE_UPDATE_LABELS),
    "Merchant": tuple(_column(x) for x in MERCHANT_CORPORATE_UPDATE_LABELS),
}
