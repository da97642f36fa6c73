"""Row filters, masking and member scope, tested as an attacker would: an analyst of one zone
probing other zones by every means the API offers; the full masking matrix (role x tagged column);
masked and hidden members reached through filters, ordering, /v2/sql, GraphQL and introspection;
injection in filters, members and parameters. A clear 4xx, never a 500, never a leak."""
from __future__ import annotations

import json
import random

import pytest

from include.governance.engine import decide
from include.governance.manifest import all_column_tags
from include.governance.policy import load_policy_set
from tests.api.conftest import clear_sql

pytestmark = [pytest.mark.azurite, pytest.mark.integration]

RATIO = "transactions.debit_to_credit_ratio"
DEBIT = "transactions.debit_amount"
TAGGED = {"customers.cust_first_name": "cust_first_name", "customers.cust_last_name": "cust_last_name",
          "customers.email_addr": "email_addr", "customers.mobile_number1": "mobile_number1",
          "customers.cust_dob": "cust_dob"}
GROUP_TAGS = {"admin": ["roles:id:pii-reader"], "analyst": ["roles:id:dob-bucketing"], "role-public": [],
              "role-restricted": ["roles:id:restricted-acess"], "role-bucketing": ["roles:id:dob-bucketing"],
              "role-pii": ["roles:id:pii-reader"]}


def north_debits(built, extra: str = "true") -> float:
    return float(clear_sql(built, f"""
        select sum(t.amount) from fs_accelerator.transaction_dp t join fs_accelerator.account_dp a using (account_id)
        join fs_accelerator.customer_overview_dp c using (cust_id)
        where c.zone = 'North' and t.txn_type = 'Debit' and t.txn_status = 'Success' and {extra}""")[0][0] or 0)


@pytest.fixture
def analyst(client):
    return client.auth("analyst", zone="North")


# ---- an analyst of one zone -------------------------------------------------------------------

def test_the_analyst_sees_only_its_zone_whatever_it_selects(client, analyst, built):
    by_zone = client.load({"measures": [DEBIT], "dimensions": ["customers.zone"]}, analyst).json()
    assert [r["customers.zone"] for r in by_zone["data"]] == ["North"]
    assert by_zone["meta"]["segments"] == ["own_zone"]
    total = client.load({"measures": [DEBIT]}, analyst).json()["data"]
    assert total[0][DEBIT] == pytest.approx(north_debits(built))
    by_channel = client.load({"measures": [DEBIT], "dimensions": ["transactions.channel"]}, analyst).json()["data"]
    assert sum(r[DEBIT] for r in by_channel) == pytest.approx(north_debits(built))
    cities = client.load({"measures": [DEBIT], "dimensions": ["customers.city"]}, analyst).json()["data"]
    assert {r["customers.city"] for r in cities} == {"Delhi", "Chandigarh"}


@pytest.mark.parametrize("flt", [
    {"member": "customers.zone", "operator": "equals", "values": ["South"]},
    {"member": "customers.zone", "operator": "notEquals", "values": ["North"]},
    {"member": "customers.zone", "operator": "in", "values": ["South", "West"]},
    {"member": "customers.city", "operator": "equals", "values": ["Chennai"]},
    {"member": "customers.branch_name", "operator": "contains", "values": ["Fort"]},
    {"member": "customers.zone", "operator": "equals", "values": ["North' OR '1'='1"]},
])
def test_no_filter_reaches_another_zone(client, analyst, flt):
    resp = client.load({"measures": [DEBIT], "dimensions": ["customers.zone"], "filters": [flt]}, analyst)
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"] == [] or [r["customers.zone"] for r in resp.json()["data"]] == ["North"]
    assert all(r["customers.zone"] == "North" for r in resp.json()["data"])


def test_other_zones_stay_out_of_graphql_the_sql_file_api_and_sql(client, analyst, built):
    gql = client.graphql('{ load(query: {measures: ["transactions.debit_amount"], dimensions: ["customers.zone"], '
                         'filters: [{member: "customers.zone", operator: "notEquals", values: ["North"]}]}) '
                         '{ data } }', analyst)
    assert gql.status_code == 200 and gql.json()["data"]["load"]["data"] == []
    api = client.get("/debit_credit_ratio_api", headers=analyst).json()["data"]
    assert {r["customers.zone"] for r in api} == {"North"}
    south = client.get("/debit_credit_ratio_api", params={"zone": "South"}, headers=analyst).json()["data"]
    assert south == []
    sql = client.post("/v2/sql", json={"query": {"measures": [DEBIT]}}, headers=analyst).json()
    assert sql["meta"]["segments"] == ["own_zone"] and "North" in json.dumps(sql["sql"]["sql"][1])
    assert "South" not in json.dumps(sql) and "West" not in json.dumps(sql)


def test_the_cache_never_serves_another_scope(client, analyst, built):
    q = {"measures": [DEBIT], "dimensions": ["customers.zone"]}
    everyone = client.load(q, client.auth("admin")).json()["data"]
    assert len(everyone) == 3
    again = client.load(q, analyst).json()
    assert [r["customers.zone"] for r in again["data"]] == ["North"]
    other = client.load(q, client.auth("analyst", sub="bob", zone="South")).json()["data"]
    assert [r["customers.zone"] for r in other] == ["South"]


@pytest.mark.parametrize("claims", [{}, {"zone": ""}, {"zone": ["North", "South"]}, {"zone": {"in": ["South"]}}])
def test_an_analyst_without_a_usable_zone_claim_gets_nothing(client, claims):
    resp = client.load({"measures": [DEBIT]}, client.auth("analyst", **claims))
    assert resp.status_code == 403 and resp.json()["error"]["code"] == "MISSING_CLAIM"


def test_an_api_key_carries_the_zone_like_a_token(api, client):
    key = api.cli("apikey", "create", "--group", "analyst", "--name", "north-app", "--attr", "zone=North").stdout.strip()
    data = client.load({"measures": [DEBIT], "dimensions": ["customers.zone"]},
                       {"Authorization": f"Bearer {key}"}).json()["data"]
    assert [r["customers.zone"] for r in data] == ["North"]


# ---- the masking matrix -----------------------------------------------------------------------

@pytest.fixture(scope="module")
def policy_set(built):
    return load_policy_set(all_column_tags(built.manifest()))


@pytest.fixture(scope="module")
def clear_customers(built):
    """cust_id -> zone and the clear value of every tagged column, from the warehouse."""
    cols = list(TAGGED.values())
    rows = clear_sql(built, f"select cust_id, zone, {', '.join(cols)} from fs_accelerator.customer_overview_dp")
    return {r[0]: {"zone": r[1], **dict(zip(cols, r[2:]))} for r in rows}


def _text(value):
    return None if value is None else str(value)[:10] if hasattr(value, "isoformat") else str(value)


@pytest.mark.parametrize("group", list(GROUP_TAGS))
@pytest.mark.parametrize("member", list(TAGGED))
def test_masking_matrix(client, built, policy_set, clear_customers, group, member):
    column = TAGGED[member]
    tags = built.manifest()["nodes"]["model.fsdp.customer_overview_dp"]["columns"][column]["tags"]
    treatment = decide(policy_set, GROUP_TAGS[group], {column: tags})[column].treatment
    headers = client.auth(group, zone="North")
    query = {"measures": ["customers.customer_count"], "dimensions": ["customers.cust_id"]}
    key = member
    if column == "cust_dob":   # a time dimension
        query["timeDimensions"] = [{"dimension": member, "granularity": "day"}]
        key = f"{member}.day"
    else:
        query["dimensions"].append(member)
    resp = client.load(query, headers)
    assert resp.status_code == 200, resp.text
    rows = resp.json()["data"]
    zones = {"North"} if group == "analyst" else {"North", "South", "West"}
    assert {r["customers.cust_id"] for r in rows} == {c for c, v in clear_customers.items() if v["zone"] in zones}
    for r in rows:
        want = _text(treatment.apply(clear_customers[r["customers.cust_id"]][column]))
        got = r[key]
        assert (None if got is None else str(got)[:len(want or "")] if column == "cust_dob" else got) == want, \
            (group, member, r)
    if treatment.operator != "pass_through":
        clear_values = {_text(v[column]) for v in clear_customers.values() if v[column] is not None}
        served = {None if r[key] is None else str(r[key])[:10] for r in rows}
        # a bucketed date may coincide with a real birthday on the 1st of a quarter; nothing else may
        assert not (served & clear_values) or treatment.operator == "bucket_date"
    assert resp.json()["meta"]["masking"].get(member, "pass_through") == treatment.describe()


@pytest.mark.parametrize("member", list(TAGGED))
def test_the_viewer_cannot_use_a_tagged_member_in_any_form(client, member):
    headers = client.auth("viewer")
    attempts = [
        {"measures": [DEBIT], "dimensions": [member]},
        {"measures": [DEBIT], "filters": [{"member": member, "operator": "set"}]},
        {"measures": [DEBIT], "filters": [{"member": member, "operator": "contains", "values": ["a"]}]},
        {"measures": [DEBIT], "dimensions": ["customers.zone"], "order": {member: "asc"}},
        {"measures": [DEBIT], "timeDimensions": [{"dimension": member, "granularity": "year"}]},
    ]
    unknown = client.load({"measures": [DEBIT], "dimensions": ["customers.no_such_member"]}, headers).json()
    for q in attempts:
        resp = client.load(q, headers)
        assert resp.status_code == 400, (q, resp.text)
        body = resp.json()
        assert body["error"]["code"] == "UNKNOWN_MEMBER"
        # refused exactly like a member that does not exist
        assert body["error"]["message"].replace(member, "X") == unknown["error"]["message"].replace(
            "customers.no_such_member", "X")
    api = client.get("/debit_credit_ratio_api", headers=headers)
    assert api.status_code == 200 and member not in api.text


def test_filters_and_ordering_see_masked_values_only(client, clear_customers):
    headers = client.auth("role-public")
    some = next(v for v in clear_customers.values() if v["email_addr"])
    for flt in ({"member": "customers.email_addr", "operator": "equals", "values": [some["email_addr"]]},
                {"member": "customers.email_addr", "operator": "contains", "values": ["@"]},
                {"member": "customers.cust_first_name", "operator": "startsWith", "values": [some["cust_first_name"][:2]]},
                {"member": "customers.cust_dob", "operator": "set"}):
        resp = client.load({"measures": ["customers.customer_count"], "filters": [flt]}, headers)
        assert resp.status_code == 200, resp.text
        assert resp.json()["data"] in ([], [{"customers.customer_count": 0}], [{"customers.customer_count": None}]), flt
    ordered = client.load({"measures": ["customers.customer_count"], "dimensions": ["customers.email_addr"],
                           "order": {"customers.email_addr": "asc"}}, headers).json()["data"]
    values = [r["customers.email_addr"] for r in ordered]
    assert values == sorted(values, key=lambda v: (v is None, v)) and all(v is None or len(v) == 64 for v in values)


def test_sql_and_meta_never_show_clear_columns_to_a_masked_role(client):
    headers = client.auth("role-public")
    sql = client.post("/v2/sql", json={"query": {"measures": ["customers.customer_count"],
                                                 "dimensions": ["customers.email_addr"]}}, headers=headers).json()
    text = sql["sql"]["sql"][0]
    assert "role_public" in text and "role_pii_reader" not in text and "fs_accelerator" not in text
    meta = client.get("/v2/meta", headers=headers).json()
    dims = {d["name"]: d for t in meta["cubes"] for d in t["dimensions"]}
    assert dims["customers.email_addr"]["masking"] == "hash(sha256)"
    assert dims["customers.cust_dob"]["masking"] == "redact"


def test_graphql_introspection_shows_the_query_shape_never_the_members(client):
    resp = client.graphql("{ __schema { types { name fields { name } inputFields { name } } } }", client.auth("analyst",
                                                                                                            zone="North"))
    assert resp.status_code == 200
    text = resp.text
    assert "LoadResult" in text
    for name in ("email_addr", "cust_first_name", "mobile_number1", "cust_dob", "zone"):
        assert name not in text


# ---- bad input and injection --------------------------------------------------------------------

@pytest.mark.parametrize("query, code", [
    ({"measures": ["customers.zone; drop table x"]}, "UNKNOWN_MEMBER"),
    ({"measures": ["transactions.debit_amount"], "dimensions": ["customers.zone\" --"]}, "UNKNOWN_MEMBER"),
    ({"measures": [DEBIT], "filters": [{"member": "customers.zone", "operator": "equals); drop", "values": ["x"]}]},
     "BAD_OPERATOR"),
    ({"measures": [DEBIT], "dimensions": ["customers.zone"], "order": {"customers.zone": "desc; drop table x"}},
     "BAD_REQUEST"),
    ({"measures": [DEBIT], "limit": "10; drop table x"}, "BAD_REQUEST"),
    ({"measures": [DEBIT], "limit": -1}, "LIMIT_OUT_OF_RANGE"),
    ({"measures": [DEBIT], "limit": 0}, "LIMIT_OUT_OF_RANGE"),
    ({"measures": [DEBIT], "limit": 10001}, "LIMIT_OUT_OF_RANGE"),
    ({"measures": [DEBIT], "limit": 10 ** 12}, "LIMIT_OUT_OF_RANGE"),
    ({"measures": [DEBIT], "offset": -5}, "BAD_REQUEST"),
    ({"measures": [DEBIT], "limit": 1.5}, "BAD_REQUEST"),
    ({"measures": [DEBIT], "timeDimensions": [{"dimension": "transactions.txn_ts", "granularity": "century"}]},
     "BAD_GRANULARITY"),
    ({"measures": ["customers.zone"]}, "WRONG_MEMBER_KIND"),
    ({"measures": [DEBIT], "filters": [{"member": "customers.zone", "operator": "equals", "values": [None]}]},
     "BAD_REQUEST"),
    ({"measures": [DEBIT], "filters": [{"member": "customers.zone", "operator": "equals", "values": [{"$ne": 1}]}]},
     "BAD_REQUEST"),
    ({"measures": [DEBIT], "filters": {"member": "customers.zone"}}, "BAD_REQUEST"),
    ({"measures": [DEBIT], "select": "*"}, "BAD_REQUEST"),
    ({}, "BAD_REQUEST"),
])
def test_bad_queries_are_clear_400s(client, query, code):
    resp = client.load(query, client.auth("admin"))
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["code"] == code


def test_injection_in_filter_values_is_just_a_value(client, built):
    for value in ("'; drop table fs_accelerator.customer_overview_dp; --", "North' OR 1=1 --", "$1", "\\' or ''='",
                  "%", "North\x00"):
        resp = client.load({"measures": [DEBIT], "filters": [{"member": "customers.zone", "operator": "equals",
                                                              "values": [value]}]}, client.auth("admin"))
        assert resp.status_code == 200, resp.text
        assert resp.json()["data"] in ([], [{DEBIT: None}])
    assert clear_sql(built, "select count(*) from fs_accelerator.customer_overview_dp")[0][0] > 0


def test_malformed_requests_are_400s(client):
    headers = {**client.auth("admin"), "Content-Type": "application/json"}
    for body in (b"{not json", b"[1, 2]", b"", b'"text"', b'{"query": "select 1"}', b'{"query": {}, "x": 1}'):
        resp = client.post("/v2/load", content=body, headers=headers)
        assert resp.status_code == 400, (body, resp.text)
    big = b'{"query": {"measures": ["' + b"x" * (300 * 1024) + b'"]}}'
    assert client.post("/v2/load", content=big, headers=headers).status_code == 413
    assert client.get("/v2/load", params={"query": "{bad"}, headers=headers).status_code == 400
    assert client.get("/v2/nothing", headers=headers).status_code == 404
    assert client.http.delete("/v2/load", headers=headers).status_code == 405


def test_graphql_bad_input_is_a_4xx(client):
    headers = client.auth("admin")
    assert client.graphql("{ load(query: {measures: [\"x.y\"]}) { data } }", headers).status_code == 400
    assert client.graphql("{ nope }", headers).status_code == 400
    assert client.graphql("{ load(", headers).status_code == 400
    deep = "{ __schema { types { fields { type { " + "ofType { " * 8 + "name" + " }" * 8 + " } } } } }"
    resp = client.graphql(deep, headers)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "QUERY_TOO_DEEP"
    many = "{ " + " ".join(f'l{i}: load(query: {{measures: ["{DEBIT}"]}}) {{ data }}' for i in range(11)) + " }"
    resp = client.graphql(many, headers)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "QUERY_TOO_COMPLEX"
    assert client.post("/v2/graphql", json={"query": 5}, headers=headers).status_code == 400


def test_random_junk_never_gets_a_500(client):
    rng = random.Random(13)
    headers = client.auth("admin")
    atoms = [None, True, -1, 0, 10 ** 30, 1.5, "", "x", "customers.zone", DEBIT, "transactions.txn_ts", [], {}, ["a"],
             {"member": "customers.zone", "operator": "equals", "values": ["x"]}, "'", "\u0000", "𝓤"]
    keys = ["measures", "dimensions", "filters", "order", "limit", "offset", "timeDimensions", "segments"]
    for _ in range(150):
        q = {k: rng.choice(atoms + [[rng.choice(atoms) for _ in range(rng.randint(0, 3))]])
             for k in rng.sample(keys, rng.randint(1, 4))}
        resp = client.load(q, headers)
        assert resp.status_code < 500, (q, resp.text)
