"""APIs from files: the semantic SQL dialect, parameters (bound, validated), definition errors."""
from __future__ import annotations

from pathlib import Path

import pytest

from include.api.errors import ApiError
from include.api.settings import PACKAGE_DIR
from include.api.sqlapis import ApiDefinitionError, Ref, load_definition, load_definitions, parse_sql

GROUPS = {"admin", "analyst", "viewer"}


def test_the_documents_sql_file_is_the_documents_query():
    (d,) = load_definitions(PACKAGE_DIR / "apis", 10000, GROUPS)
    assert d.url_path == "/debit_credit_ratio_api"
    assert d.description == "Get customer transaction debit to credit ratio analysis"
    assert d.template.measures == ("transactions.debit_to_credit_ratio",)
    assert d.template.dimensions == ("customers.zone", "customers.city", "customers.branch_name",
                                     "transactions.channel")
    body, values = d.bind({})
    assert body["filters"] == [] and values == {"zone": None, "channel": None}


def test_parameters_become_filter_values_never_sql_text():
    (d,) = load_definitions(PACKAGE_DIR / "apis", 10000, GROUPS)
    evil = "North' OR 1=1 --"
    body, _ = d.bind({"zone": [evil], "channel": ["Web", "POS"]})
    assert body["filters"] == [{"member": "customers.zone", "operator": "equals", "values": [evil]},
                               {"member": "transactions.channel", "operator": "in", "values": ["Web", "POS"]}]


def test_parameter_validation_refuses_bad_values_with_a_400():
    (d,) = load_definitions(PACKAGE_DIR / "apis", 10000, GROUPS)
    for params, code in (({"zone": ["a", "b"]}, "BAD_PARAMETER"), ({"zone": ["x" * 41]}, "BAD_PARAMETER"),
                         ({"region": ["North"]}, "BAD_PARAMETER"), ({"channel": ["w"] * 21}, "BAD_PARAMETER")):
        with pytest.raises(ApiError) as exc:
            d.bind(params)
        assert exc.value.status == 400 and exc.value.code == code


def test_the_dialect_reads_where_order_limit_and_aliases():
    t = parse_sql("""select customers.zone as zone, date_trunc('month', transactions.txn_ts),
                     measure(transactions.debit_amount) from customers cross join transactions
                     where customers.zone in ('North', :z) and transactions.txn_ts between :a and '2026-12-31'
                       and customers.city like 'Mum%' and transactions.channel is not null
                       and transactions.debit_amount >= 10
                     group by 1, 2 order by 3 desc, zone limit :n offset 5;""")
    assert t.dimensions == ("customers.zone",)
    assert t.time_dimensions == ({"dimension": "transactions.txn_ts", "granularity": "month"},)
    assert t.filters[0] == {"member": "customers.zone", "operator": "in", "values": ["North", Ref("z")]}
    assert t.filters[1]["operator"] == "inDateRange"
    assert t.filters[2] == {"member": "customers.city", "operator": "startsWith", "values": ["Mum"]}
    assert t.filters[3] == {"member": "transactions.channel", "operator": "set"}
    assert t.filters[4]["operator"] == "gte"
    assert t.order == (("transactions.debit_amount", "desc"), ("customers.zone", "asc"))
    assert t.limit == Ref("n") and t.offset == 5 and t.aliases == {"customers.zone": "zone"}


@pytest.mark.parametrize("sql, message", [
    ("select customers.zone from customers; drop table x", "unexpected"),
    ("select customers.zone, measure(transactions.x) from customers group by 1", "not in FROM"),
    ("select customers.zone, customers.city from customers group by 1", "GROUP BY must list"),
    ("select zone from customers", "<table>.<member>"),
    ("select customers.zone from customers where customers.zone = \"x\"", "unexpected text"),
    ("select customers.zone from customers order by 7", "ordinal 7"),
    ("select customers.zone from customers where customers.zone like 'a_b'", "LIKE supports"),
])
def test_sql_outside_the_dialect_is_refused_at_load_time(sql, message):
    with pytest.raises(ApiDefinitionError) as exc:
        parse_sql(sql)
    assert message in str(exc.value)


def _definition(tmp_path: Path, yaml_text: str, sql: str | None = "select customers.zone from customers") -> Path:
    (tmp_path / "x.yaml").write_text(yaml_text)
    if sql is not None:
        (tmp_path / "x.sql").write_text(sql)
    return tmp_path / "x.yaml"


@pytest.mark.parametrize("yaml_text, message", [
    ("urlPath: /v2/load\n", "outside /v2/"),
    ("urlPath: /x\nallowedGroups: [root]\n", "unknown group root"),
    ("urlPath: /x\nrowLimit: 0\n", "rowLimit must be a whole number >= 1"),
    ("urlPath: /x\nrequest: [{fieldName: a, type: blob}]\n", "type must be one of"),
    ("urlPath: /x\nrequest: [{fieldName: 'a b'}]\n", "fieldName must be"),
    ("urlPath: /x\nrequest: [{fieldName: a, fieldIn: header}]\n", "only query parameters"),
    ("urlPath: /x\nrequest: [{fieldName: n, type: integer, default: abc}]\n", "not a valid integer"),
    ("urlPath: /x\nurl: /y\n", "unknown field url"),
])
def test_definition_mistakes_name_the_file(tmp_path, yaml_text, message):
    with pytest.raises((ApiDefinitionError, ApiError)) as exc:
        load_definition(_definition(tmp_path, yaml_text), 10000, GROUPS)
    assert message in str(exc.value)


def test_a_row_limit_above_the_service_cap_is_capped(tmp_path):
    assert load_definition(_definition(tmp_path, "urlPath: /x\nrowLimit: 20000\n"), 10000, GROUPS).row_limit == 10000


def test_an_undeclared_parameter_in_the_sql_is_refused(tmp_path):
    path = _definition(tmp_path, "urlPath: /x\n", "select customers.zone from customers where customers.zone = :z")
    with pytest.raises(ApiDefinitionError, match="parameter :z is not declared"):
        load_definition(path, 10000, GROUPS)


def test_a_saved_query_definition_binds_like_sql(tmp_path):
    path = _definition(tmp_path, """urlPath: /by_zone
query:
  measures: [transactions.debit_amount]
  dimensions: [customers.zone]
  filters: [{member: customers.zone, operator: equals, values: [{param: zone}]}]
  limit: {param: n}
request:
  - {fieldName: zone, required: true}
  - {fieldName: n, type: integer, default: 10, min: 1, max: 100}
""", sql=None)
    d = load_definition(path, 10000, GROUPS)
    body, values = d.bind({"zone": ["South"]})
    assert body["filters"] == [{"member": "customers.zone", "operator": "equals", "values": ["South"]}]
    assert body["limit"] == 10 and values == {"zone": "South", "n": 10}
    with pytest.raises(ApiError, match="required"):
        d.bind({})
    with pytest.raises(ApiError, match="<= 100"):
        d.bind({"zone": ["x"], "n": ["1000"]})
