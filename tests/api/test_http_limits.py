"""Rate limits over HTTP as the document specifies: headers on every response, 429 with
Retry-After and the document's body, the tightest window answering, exact counts under concurrent
clients, concurrency slots, API-key burst, per-address limits (and no spoofing them), the row cap
and the query time limit."""
from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest

from tests.api.conftest import groups_file
from tests.api.server import ApiServer

pytestmark = [pytest.mark.azurite, pytest.mark.integration]
DEBIT = "transactions.debit_amount"
Q = {"measures": [DEBIT], "dimensions": ["customers.zone"]}
HEADERS = ("X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset", "X-RateLimit-Used")


def _hammer(fn, n: int, workers: int) -> list:
    start = threading.Barrier(workers)

    def one(i):
        if i < workers:
            start.wait()
        return fn(i)

    with ThreadPoolExecutor(workers) as pool:
        return list(pool.map(one, range(n)))


def test_every_response_has_the_rate_limit_headers(client):
    responses = [client.load(Q, client.auth("admin")), client.load(Q, {}), client.get("/health"),
                 client.get("/v2/nope", headers=client.auth("admin")), client.get("/v2/meta", headers=client.auth("viewer"))]
    for resp in responses:
        for h in HEADERS:
            assert h in resp.headers, (resp.status_code, h)
        assert int(resp.headers["X-RateLimit-Used"]) + int(resp.headers["X-RateLimit-Remaining"]) == \
            int(resp.headers["X-RateLimit-Limit"])
        assert int(resp.headers["X-RateLimit-Reset"]) >= int(time.time())


def test_the_endpoint_window_answers_and_exactly_its_limit_passes_a_concurrent_race(api):
    c = api.client()
    headers = c.auth("admin", sub="racer")
    results = _hammer(lambda i: c.load(Q, headers), 130, 20)
    ok = [r for r in results if r.status_code == 200]
    refused = [r for r in results if r.status_code == 429]
    assert len(ok) == 100 and len(refused) == 30          # /v2/load: 100 per minute per caller
    assert sorted(int(r.headers["X-RateLimit-Remaining"]) for r in ok) == list(range(100))
    body = refused[0].json()["error"]
    assert body["code"] == "RATE_LIMIT_EXCEEDED" and body["limit"] == 100 and body["remaining"] == 0
    assert body["message"] == "Rate limit exceeded. Maximum 100 requests per minute on load."
    assert body["scope"] == "endpoint"
    assert 1 <= body["retryAfter"] <= 60 and int(refused[0].headers["Retry-After"]) == body["retryAfter"]
    reset = datetime.strptime(body["resetAt"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc)
    assert 0 < reset.timestamp() - time.time() <= 61
    # another endpoint still has budget: the group window (500/min) is not exhausted
    assert c.get("/debit_credit_ratio_api", headers=headers).status_code == 200


def test_the_group_window_of_a_viewer(api):
    c = api.client()
    headers = c.auth("viewer", sub="viewer-window")
    statuses = [c.get("/debit_credit_ratio_api", headers=headers) for _ in range(105)]
    assert [r.status_code for r in statuses[:100]] == [200] * 100
    refused = statuses[100]
    assert refused.status_code == 429
    assert refused.json()["error"]["message"] == "Rate limit exceeded. Maximum 100 requests per minute for group viewer."


def test_concurrent_requests_beyond_the_groups_slots_are_refused(serving_dir, tmp_path):
    # the viewer's slots lowered to 2 (and no result cache), so 30 simultaneous calls surely overlap
    groups = groups_file(tmp_path / "g.yml", rate_limits={"viewer": {"concurrentRequests": 2}})
    server = ApiServer(tmp_path, serving_dir, user_groups=groups, env={"FSDP_API_CACHE_TTL_SECONDS": "0"}).start()
    try:
        c = server.client()
        headers = c.auth("viewer", sub="viewer-slots")
        q = {"measures": [DEBIT, "transactions.debit_to_credit_ratio"],
             "dimensions": ["customers.city", "customers.branch_name", "transactions.channel"]}
        results = _hammer(lambda i: c.load(q, headers), 30, 30)
        conc = [r for r in results if r.status_code == 429 and r.json()["error"]["scope"] == "concurrency"]
        assert conc and any(r.status_code == 200 for r in results), [r.status_code for r in results]
        assert conc[0].json()["error"]["message"] == "Rate limit exceeded. Maximum 2 concurrent requests."
        assert conc[0].headers["Retry-After"] == "1"
        # never more than 2 in flight: the audit trail's start/end times of the served calls
        spans = []
        for x in server.audit_lines():
            if x.get("caller") == "viewer-slots" and x["status"] == 200:
                end = datetime.fromisoformat(x["ts"]).timestamp()
                spans.append((end - x["latency_ms"] / 1000, end))
        assert max(sum(1 for s, e in spans if s <= t < e) for t, _ in spans) <= 2
    finally:
        server.stop()


def test_an_api_key_has_the_documents_burst_allowance(api):
    c = api.client()
    key = api.cli("apikey", "create", "--group", "admin", "--name", "bursty").stdout.strip()
    headers = {"Authorization": f"Bearer {key}"}
    results = [c.get("/debit_credit_ratio_api", headers=headers) for _ in range(21)]
    assert [r.status_code for r in results[:20]] == [200] * 20
    assert results[20].status_code == 429
    assert results[20].json()["error"]["message"] == "Rate limit exceeded. Maximum 20 requests in 10 seconds per API key."


def test_the_client_address_window_counts_unauthenticated_calls_too(api):
    c = api.client()
    results = [c.get("/health") for _ in range(200)] + [c.load(Q, {})]
    assert results[-1].status_code == 429 and results[-1].json()["error"]["scope"] == "address"
    assert results[-1].json()["error"]["message"] == "Rate limit exceeded. Maximum 200 requests per minute per client address."
    assert api.client().get("/health").status_code == 200      # another address is unaffected


def test_x_forwarded_for_is_ignored_unless_the_proxy_is_trusted(serving_dir, tmp_path):
    server = ApiServer(tmp_path, serving_dir, trust_proxy=False).start()
    try:
        statuses = [server.client(address=f"203.0.113.{i % 250}").get("/health").status_code for i in range(201)]
        assert statuses[-1] == 429      # every spoofed address is counted as the real one
    finally:
        server.stop()


def test_the_row_cap_is_10000_and_said_in_meta_and_a_smaller_cap_truncates(client, serving_dir, tmp_path):
    resp = client.load({**Q, "limit": 10001}, client.auth("admin"))
    assert resp.status_code == 400 and "at most 10000 rows" in resp.json()["error"]["message"]
    assert client.load(Q, client.auth("admin")).json()["meta"]["rowLimit"] == 10000
    server = ApiServer(tmp_path, serving_dir, user_groups=groups_file(tmp_path / "g.yml", maxRowsPerQuery=2)).start()
    try:
        c = server.client()
        body = c.load(Q, c.auth("admin")).json()
        assert len(body["data"]) == 2 and body["meta"]["truncated"] is True and body["meta"]["rowLimit"] == 2
        assert c.load({**Q, "limit": 3}, c.auth("admin")).status_code == 400
        exact = c.load({**Q, "limit": 2}, c.auth("admin")).json()
        assert len(exact["data"]) == 2 and exact["meta"]["truncated"] is False
    finally:
        server.stop()


def test_a_query_over_the_time_limit_is_a_408(serving_dir, tmp_path):
    server = ApiServer(tmp_path, serving_dir, user_groups=groups_file(tmp_path / "g.yml", queryTimeoutSeconds=0.001),
                       env={"FSDP_API_CACHE_TTL_SECONDS": "0"}).start()
    try:
        c = server.client()
        # the small warehouse answers in a few ms: some calls may finish inside 1 ms, none may fail otherwise
        responses = [c.load({"measures": [DEBIT, "transactions.debit_to_credit_ratio"],
                             "dimensions": ["customers.city", "transactions.channel", "customers.branch_name"],
                             "limit": 1 + i}, c.auth("admin")) for i in range(20)]
        assert {r.status_code for r in responses} <= {200, 408}
        timed_out = [r for r in responses if r.status_code == 408]
        assert timed_out, [r.status_code for r in responses]
        assert timed_out[0].json()["error"]["code"] == "QUERY_TIMEOUT"
        assert c.get("/health").status_code == 200          # the service is still fine
    finally:
        server.stop()
