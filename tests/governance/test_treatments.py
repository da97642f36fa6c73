"""Treatments: the Python functions (data API) give exactly what the DuckDB expressions (views) give."""
from __future__ import annotations

from datetime import date, datetime

import duckdb
import pytest

from include.governance.errors import GovernanceError
from include.governance.treatments import DATE_PRECISIONS, Treatment, bucket_date, hash_value

SHA256 = Treatment("hash", algo="sha256")


def duck(sql: str, *params):
    return duckdb.connect().execute(sql, list(params)).fetchone()[0]


def test_hashing_the_same_input_twice_gives_the_same_hash():
    assert hash_value("Asha") == hash_value("Asha") == SHA256.apply("Asha")
    assert hash_value("Asha") != hash_value("asha")


def test_hashing_null_stays_null_in_python_and_in_duckdb():
    assert hash_value(None) is None and SHA256.apply(None) is None
    assert duck(f"select {SHA256.sql('x', 'VARCHAR')} from (select cast(null as varchar) as x)") is None


@pytest.mark.parametrize("value, duck_type", [
    ("Asha", "varchar"), ("", "varchar"), ("Ré Ñoño 名", "varchar"), ("asha.rao@example.com", "varchar"),
    (9876543210, "bigint"), (date(1990, 5, 17), "date"),
    (datetime(2024, 1, 1, 10, 0, 0), "timestamp"), (datetime(2024, 1, 1, 10, 0, 0, 120000), "timestamp"),
])
def test_python_hash_equals_duckdb_sha256_of_the_varchar_cast(value, duck_type):
    # Regression: the data API hashes in Python; it must match the views' hashes byte for byte
    sql = f"select {SHA256.sql('x', duck_type.upper())} from (select cast(? as {duck_type}) as x)"
    assert hash_value(value) == duck(sql, value)


def test_hashing_an_unsupported_type_fails_loudly_rather_than_hashing_a_different_text():
    with pytest.raises(TypeError):
        hash_value(1.5)


@pytest.mark.parametrize("precision", DATE_PRECISIONS)
@pytest.mark.parametrize("day", [date(1990, 5, 17), date(1985, 12, 31), date(2000, 1, 1), date(2024, 2, 29)])
def test_python_date_bucket_equals_duckdb_date_trunc(precision, day):
    treatment = Treatment("bucket_date", precision=precision)
    sql = f"select {treatment.sql('d', 'DATE')} from (select cast(? as date) as d)"
    assert treatment.apply(day) == duck(sql, day)


def test_quarter_bucket_maps_a_date_of_birth_to_the_first_day_of_its_quarter():
    assert bucket_date(date(1990, 5, 17), "quarter") == date(1990, 4, 1)
    assert bucket_date(date(1985, 12, 31), "quarter") == date(1985, 10, 1)
    assert bucket_date(None, "quarter") is None


def test_redact_gives_null_of_the_column_type():
    assert Treatment("redact").apply("Asha") is None
    assert duck(f"select typeof({Treatment('redact').sql('d', 'DATE')}) from (select date '1990-05-17' as d)") == "DATE"


def test_bucketing_a_text_column_is_a_clear_error():
    with pytest.raises(GovernanceError, match="bucket_date needs a DATE or TIMESTAMP column; cust_dob is VARCHAR"):
        Treatment("bucket_date", precision="quarter").sql("cust_dob", "VARCHAR")
