"""The document's examples over HTTP (curl to /v2/load, the GraphQL query, /debit_credit_ratio_api)
with the right numbers, the meta every response carries, /v2/meta, /v2/sql, OpenAPI, readiness,
and moving to a new serving copy without a restart."""
from __future__ import annotations

import json
import math
import shutil
import subprocess

import pytest

from include import serving
from tests.api import fixtures
from tests.api.conftest import QUALITY_OK, clear_sql

pytestmark = [pytest.mark.azurite, pytest.mark.integration]

DIMS = ["customers.zone", "customers.city", "customers.branch_name", "transactions.channel"]
RATIO = "transactions.debit_to_credit_ratio"
GRAPHQL_DOC = """
query {
  load(
    query: {
      measures: ["transactions.debit_to_credit_ratio"]
      dimensions: [
        "customers.zone",
        "customers.city",
        "customers.branch_name",
        "transactions.channel"
      ]
    }
    limit: 10
    offset: 0
  ) {
    data
    meta
  }
}
"""


def expected_ratios(built, where: str = "true") -> dict[tuple, float | None]:
    rows = clear_sql(built, f"""
        select c.zone, c.city, c.branch_name, t.channel,
               sum(case when t.txn_status = 'Success' and t.txn_type = 'Debit' then t.amount else 0 end),
               sum(case when t.txn_status = 'Success' and t.txn_type = 'Credit' then t.amount else 0 end)
        from fs_accelerator.transaction_dp t
        join fs_accelerator.account_dp a using (account_id)
        join fs_accelerator.customer_overview_dp c using (cust_id)
        where {where} group by all""")
    return {r[:4]: (float(r[4]) / float(r[5]) if r[5] else None) for r in rows}


def as_ratios(data: list[dict]) -> dict[tuple, float | None]:
    return {tuple(r[d] for d in DIMS): r[RATIO] for r in data}


def same(a: dict, b: dict) -> bool:
    return a.keys() == b.keys() and all(
        (a[k] is None and b[k] is None) or (a[k] is not None and b[k] is not None and math.isclose(a[k], b[k], rel_tol=1e-9))
        for k in a)


def test_the_documents_curl_works_as_written_with_the_right_numbers(api, client, built):
    token = client.token("admin")
    for url in (f"{api.url}/v2/load", f"{api.url}/lens2/api/public:customer-data-market-place/v2/load"):
        proc = subprocess.run(["curl", "-s", "-i", "--location", url,
                               "--header", "Content-Type: application/json",
                               "--header", f"Authorization: Bearer {token}",
                               "--header", f"X-Forwarded-For: {client.address}",
                               "--data", """{
    "query": {
        "measures": ["transactions.debit_to_credit_ratio"],
        "dimensions": [
            "customers.zone",
            "customers.city",
            "customers.branch_name",
            "transactions.channel"
        ]
    }
}"""], capture_output=True, text=True, timeout=60)
        head, _, body = proc.stdout.partition("\n\n")
        assert body, proc.stdout[:3000]
        assert head.startswith("HTTP/1.1 200"), proc.stdout[:500]
        for h in ("x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "x-ratelimit-used"):
            assert h in head.lower()
        payload = json.loads(body)
        assert same(as_ratios(payload["data"]), expected_ratios(built))
        assert len(payload["data"]) == 6 * 3   # 6 branches x 3 channels
        meta = payload["meta"]
        assert meta["logicalDate"] == fixtures.DAY.isoformat() and meta["runId"] == "test-run"
        assert meta["qualityGate"] == "passed" and meta["rowLimit"] == 10000 and meta["truncated"] is False


def test_the_documents_graphql_query_works_as_written(client, built):
    resp = client.graphql(GRAPHQL_DOC, client.auth("admin"))
    assert resp.status_code == 200, resp.text
    load = resp.json()["data"]["load"]
    assert len(load["data"]) == 10
    assert load["meta"]["qualityGate"] == "passed" and load["meta"]["logicalDate"] == fixtures.DAY.isoformat()
    truth = expected_ratios(built)
    for row in load["data"]:
        key = tuple(row[d] for d in DIMS)
        assert key in truth and (row[RATIO] is None) == (truth[key] is None)
    assert {"limit", "remaining", "resetAt"} <= set(load["meta"]["rateLimit"])


def test_graphql_rate_limit_is_a_typed_field_and_inside_meta(client):
    resp = client.graphql('{ load(query: {measures: ["transactions.debit_to_credit_ratio"]}) '
                          '{ meta rateLimit { limit remaining resetAt used } } }', client.auth("admin"))
    assert resp.status_code == 200, resp.text
    rl = resp.json()["data"]["load"]["rateLimit"]
    assert rl["limit"] > 0 and rl["remaining"] < rl["limit"] and rl["resetAt"].endswith("Z")


def test_the_sql_file_api_serves_the_documents_query_and_binds_its_parameters(api, client, built):
    headers = client.auth("admin")
    for path in ("/debit_credit_ratio_api", "/talos/public:credit-debit-ratio-api/debit_credit_ratio_api"):
        resp = client.get(path, headers=headers)
        assert resp.status_code == 200, resp.text
        assert same(as_ratios(resp.json()["data"]), expected_ratios(built))
        assert resp.json()["meta"]["api"] == "/debit_credit_ratio_api"
    north_web = client.get("/debit_credit_ratio_api", params=[("zone", "North"), ("channel", "Web")], headers=headers)
    assert same(as_ratios(north_web.json()["data"]),
                expected_ratios(built, "c.zone = 'North' and t.channel = 'Web'"))
    evil = client.get("/debit_credit_ratio_api", params={"zone": "North' OR '1'='1"}, headers=headers)
    assert evil.status_code == 200 and evil.json()["data"] == []


def test_get_load_takes_the_query_as_json(client, built):
    q = {"measures": [RATIO], "dimensions": DIMS}
    resp = client.get("/v2/load", params={"query": json.dumps(q)}, headers=client.auth("admin"))
    assert resp.status_code == 200 and same(as_ratios(resp.json()["data"]), expected_ratios(built))


def test_filters_order_limit_offset_and_time_dimensions(client, built):
    headers = client.auth("admin")
    q = {"measures": [RATIO], "dimensions": DIMS, "filters": [{"member": "customers.zone", "operator": "equals",
                                                               "values": ["South"]}],
         "order": {RATIO: "desc"}, "limit": 3, "offset": 1}
    data = client.load(q, headers).json()["data"]
    truth = sorted((v for v in expected_ratios(built, "c.zone = 'South'").values() if v is not None), reverse=True)
    assert [r[RATIO] for r in data] == pytest.approx(truth[1:4])
    monthly = client.load({"measures": ["transactions.debit_amount"], "timeDimensions": [
        {"dimension": "transactions.txn_ts", "granularity": "day", "dateRange": ["2026-01-01", "2026-01-31"]}]},
        headers)
    assert monthly.status_code == 200, monthly.text
    total = clear_sql(built, "select sum(amount) from fs_accelerator.transaction_dp where txn_type = 'Debit' "
                             "and txn_status = 'Success'")[0][0]
    assert sum(r["transactions.debit_amount"] for r in monthly.json()["data"]) == pytest.approx(float(total))


def test_meta_lists_members_limits_and_the_data_it_serves(client):
    resp = client.get("/v2/meta", headers=client.auth("admin"))
    assert resp.status_code == 200
    body = resp.json()
    tables = {t["name"]: t for t in body["cubes"]}
    assert {"customers", "transactions"} <= set(tables)
    measures = {m["name"] for m in tables["transactions"]["measures"]}
    assert RATIO in measures
    assert {"customers.zone", "customers.city", "customers.branch_name"} <= {d["name"] for d in tables["customers"]["dimensions"]}
    assert body["meta"]["rowLimit"] == 10000 and body["meta"]["qualityGate"] == "passed"
    assert body["meta"]["rateLimits"] == {"requestsPerMinute": 500, "requestsPerHour": 30000, "concurrentRequests": 50}


def test_sql_shows_the_sql_without_running_it(client):
    resp = client.post("/v2/sql", json={"query": {"measures": [RATIO], "dimensions": ["customers.zone"]}},
                       headers=client.auth("admin"))
    assert resp.status_code == 200, resp.text
    sql, params = resp.json()["sql"]["sql"]
    assert "role_pii_reader" in sql and "select" in sql.lower()
    assert resp.json()["meta"]["role"] == "role_pii_reader"


def test_openapi_lists_every_endpoint_and_the_sql_file_apis_parameters(client):
    spec = client.get("/openapi.json").json()
    assert {"/v2/load", "/v2/meta", "/v2/sql", "/v2/graphql", "/debit_credit_ratio_api", "/health", "/ready"} <= set(spec["paths"])
    params = {p["name"] for p in spec["paths"]["/debit_credit_ratio_api"]["get"]["parameters"]}
    assert params == {"zone", "channel"}
    assert "bearerAuth" in spec["components"]["securitySchemes"]
    assert client.get("/docs").status_code == 200


def test_health_and_readiness(client):
    assert client.get("/health").json() == {"status": "ok"}
    ready = client.get("/ready")
    assert ready.status_code == 200 and ready.json()["ready"] is True and ready.json()["runId"] == "test-run"


def test_a_new_serving_copy_is_served_without_a_restart(built, tmp_path_factory):
    from tests.api.server import ApiServer

    target = tmp_path_factory.mktemp("serving_switch")
    serving.publish(built.duckdb_path, "run-1", fixtures.DAY, QUALITY_OK,
                    manifest_path=built.target_path / "manifest.json", target_dir=target)
    server = ApiServer(tmp_path_factory.mktemp("api_switch"), target).start()
    try:
        c = server.client()
        q = {"measures": [RATIO], "dimensions": ["customers.zone"]}
        first = c.load(q, c.auth("admin")).json()["meta"]
        assert first["runId"] == "run-1"
        serving.publish(built.duckdb_path, "run-2", "2026-01-06", QUALITY_OK,
                        manifest_path=built.target_path / "manifest.json", target_dir=target)
        second = c.load(q, c.auth("admin")).json()["meta"]
        assert second["runId"] == "run-2" and second["logicalDate"] == "2026-01-06" and second["cached"] is False
    finally:
        server.stop()


def test_no_serving_copy_is_a_503_not_a_500(tmp_path):
    from tests.api.server import ApiServer

    server = ApiServer(tmp_path / "api", tmp_path / "empty").start()
    try:
        c = server.client()
        resp = c.load({"measures": [RATIO]}, c.auth("admin"))
        assert resp.status_code == 503 and resp.json()["error"]["code"] == "NOT_READY"
        assert c.get("/ready").status_code == 503
    finally:
        server.stop()
        shutil.rmtree(tmp_path, ignore_errors=True)
