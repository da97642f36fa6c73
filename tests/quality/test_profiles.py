"""Column profiles (the seed's profile job): statistics per column, the seed's filtered profile,
and no customer's personal data in what is stored."""
from __future__ import annotations

import statistics

import duckdb
import pytest

from include.quality import profiles


@pytest.fixture
def con():
    c = duckdb.connect()
    c.execute("""create table customers as select * from (values
        ('1', 'Semi-Urban', 'United States', 'Salaried', 'Chicago', 700, 'Asha', date '1990-01-01'),
        ('2', 'Semi-Urban', 'United States', 'Salaried', 'Chicago', 800, 'Ravi', date '1985-01-01'),
        ('3', 'Urban', 'United States', 'Salaried', 'Chicago', 600, 'Meera', date '1970-01-01'),
        ('4', 'Semi-Urban', 'India', 'Salaried', 'Mumbai', null, 'Kabir', null),
        ('5', 'Rural', 'India', null, 'Pune', 900, 'Diya', date '2000-01-01'),
        ('6', 'Rural', 'India', null, 'Pune', 500, 'Diya', date '2001-01-01'),
        ('7', 'Rural', 'India', null, 'Pune', 500, 'Diya', date '2002-01-01'),
        ('8', 'Rural', 'India', null, 'Pune', 500, 'Diya', date '2003-01-01'),
        ('9', 'Rural', 'India', null, 'Pune', 500, 'Diya', date '2004-01-01'),
        ('10', 'Rural', 'India', null, 'Pune', 500, 'Diya', date '2005-01-01')
    ) as t(cust_id, cust_segment, country, occupation, city, cibil_score, cust_first_name, cust_dob)""")
    yield c
    c.close()


def _by_column(rows):
    return {r.column_name: r for r in rows}


def test_profile_has_null_share_distinct_count_range_moments_and_quantiles(con):
    rows = _by_column(profiles.profile_table(con, "customers", sensitive=frozenset()))

    score = rows["cibil_score"]
    values = [700, 800, 600, 900, 500, 500, 500, 500, 500]
    assert (score.row_count, score.null_count, score.null_pct, score.distinct_count) == (10, 1, 10.0, 5)
    assert (score.min, score.max) == ("500", "900")
    assert score.mean == pytest.approx(statistics.mean(values))
    assert score.stddev == pytest.approx(statistics.stdev(values))
    assert set(score.quantiles) == {"p25", "p50", "p75"}
    assert score.quantiles["p50"] == 500
    occupation = rows["occupation"]
    assert occupation.null_pct == 60.0
    assert occupation.min is None and (occupation.min_length, occupation.max_length) == (8, 8)


def test_top_values_only_for_values_many_rows_share(con):
    rows = _by_column(profiles.profile_table(con, "customers", sensitive=frozenset()))

    assert rows["cust_segment"].top_values == [{"value": "Rural", "count": 6}]
    # Diya is shared by 6 rows (>= TOP_VALUES_MIN_COUNT); the names seen once are never listed
    assert rows["cust_first_name"].top_values == [{"value": "Diya", "count": 6}]
    assert rows["cust_id"].top_values == []


def test_masked_columns_get_no_values_at_all(con):
    rows = _by_column(profiles.profile_table(con, "customers", sensitive=frozenset({"cust_first_name", "cust_dob"})))

    assert rows["cust_first_name"].top_values == []
    assert rows["cust_dob"].min is None and rows["cust_dob"].max is None
    assert rows["cust_dob"].null_count == 1      # counts are still profiled


def test_masked_columns_come_from_the_dbt_tags():
    tagged = profiles.sensitive_columns()["customer_overview_dp"]

    assert {"cust_dob", "email_addr", "mobile_number1", "cust_first_name"} <= tagged
    assert "cust_segment" not in tagged


def test_the_seeds_filtered_profile_maps_semi_to_semi_urban(con):
    rows = profiles.profile_table(con, "customers", profiles.SEED_PROFILE_FILTER)

    assert {r.profile for r in rows} == {"filtered"}
    assert rows[0].row_count == 2                # customers 1 and 2
    assert "'Semi-Urban'" in rows[0].row_filter and "'Chicago'" in rows[0].row_filter


def test_profile_tables_adds_the_filtered_profile_where_the_filter_fits(con):
    con.execute("create table accounts as select 'A1' as account_id")

    rows = profiles.profile_tables(con, ["customers", "accounts"], {"cust_segment": "Semi"})

    assert {(r.dataset, r.profile) for r in rows} == {("customers", "full"), ("customers", "filtered"),
                                                      ("accounts", "full")}


def test_filter_values_are_data_not_sql(con):
    rows = profiles.profile_table(con, "customers", {"city": "x' or '1'='1"})

    assert rows[0].row_count == 0


def test_an_unknown_filter_column_is_an_error(con):
    with pytest.raises(ValueError, match="not in customers: segment"):
        profiles.profile_table(con, "customers", {"segment": "Semi"})


def test_a_filter_that_fits_no_table_is_an_error(con):
    with pytest.raises(ValueError, match="not all in any of customers"):
        profiles.profile_tables(con, ["customers"], {"segment": "Semi"})
