"""Counters shared by several replicas through a real redis-server (Debian's package), and the
audit trail: one line per call, allowed or refused, none lost under concurrent calls; the usage
report over it."""
from __future__ import annotations

import shutil
import socket
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from tests.api.server import ApiServer, free_port

pytestmark = [pytest.mark.azurite, pytest.mark.integration]
Q = {"measures": ["transactions.debit_amount"], "dimensions": ["customers.zone"]}


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    exe = shutil.which("redis-server")
    if exe is None:
        pytest.skip("redis-server is not installed (scripts/test.sh installs Debian's redis-server)")
    port = free_port()
    work = tmp_path_factory.mktemp("redis")
    proc = subprocess.Popen([exe, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                             "--dir", str(work)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if time.monotonic() > deadline or proc.poll() is not None:
                raise RuntimeError("redis-server did not start")
            time.sleep(0.05)
    yield f"redis://127.0.0.1:{port}/0"
    proc.terminate()
    proc.wait(10)


def test_two_replicas_share_the_windows_and_the_slots_through_redis(redis_url, serving_dir, tmp_path):
    env = {"FSDP_API_RATE_LIMIT_STORAGE": redis_url}
    a = ApiServer(tmp_path / "a", serving_dir, env=env).start()
    b = ApiServer(tmp_path / "b", serving_dir, env=env).start()
    try:
        ca, cb = a.client(address="10.250.0.1"), b.client(address="10.250.0.1")
        headers = ca.auth("viewer", sub="replicated-viewer")

        def call(i):
            return (ca if i % 2 else cb).get("/debit_credit_ratio_api", headers=headers)

        # 8 clients: under the viewer's 10 slots (a slot is freed just after the response is sent)
        with ThreadPoolExecutor(8) as pool:
            results = list(pool.map(call, range(130)))
        assert sum(r.status_code == 200 for r in results) == 100     # viewer: 100 per minute, across replicas
        assert sum(r.status_code == 429 for r in results) == 30
        used = sorted(int(r.headers["X-RateLimit-Used"]) for r in results if r.status_code == 200)
        assert used == list(range(1, 101))
        assert a.client().get("/ready").json()["ready"] is True
    finally:
        a.stop()
        b.stop()


def test_one_audit_line_per_call_allowed_or_refused_under_concurrency(api):
    c = api.client()
    before = len(api.audit_lines())
    good, bad, unauth = c.auth("admin", sub="audited"), c.auth("viewer", sub="audited-viewer"), {}

    def call(i):
        kind = i % 3
        if kind == 0:
            return c.load(Q, good)
        if kind == 1:
            return c.get("/v2/meta", headers=bad)      # 403: no meta scope
        return c.load(Q, unauth)                       # 401

    with ThreadPoolExecutor(16) as pool:
        results = list(pool.map(call, range(90)))
    lines = api.audit_lines()[before:]
    mine = [x for x in lines if x["client"] == c.address]
    assert len(mine) == 90
    assert len({x["request_id"] for x in mine}) == 90
    assert sorted(x["status"] for x in mine) == sorted(r.status_code for r in results)
    assert {r.headers["X-Request-Id"] for r in results} == {x["request_id"] for x in mine}
    ok = next(x for x in mine if x["status"] == 200)
    assert ok["caller"] == "audited" and ok["group"] == "admin" and ok["endpoint"] == "load"
    assert ok["rows"] == 3 and ok["query"] == Q and ok["data_run_id"] == "test-run"
    assert ok["rate_limit"]["limit"] > 0 and ok["latency_ms"] > 0
    refused = next(x for x in mine if x["status"] == 403)
    assert refused["error"] == "SCOPE_DENIED" and refused["group"] == "viewer"
    anonymous = next(x for x in mine if x["status"] == 401)
    assert anonymous["error"] == "UNAUTHENTICATED" and "caller" not in anonymous
    assert all("Bearer" not in str(x) and "fsdp_" not in str(x) for x in mine)   # no credential is written


def test_the_usage_report_counts_calls_per_group_and_endpoint_with_latencies(api, client):
    client.load(Q, client.auth("admin", sub="reported"))
    proc = api.cli("usage")
    assert proc.returncode == 0, proc.stderr
    assert "admin" in proc.stdout and "load" in proc.stdout and "p99 ms" in proc.stdout
    import json

    report = json.loads(api.cli("usage", "--json").stdout)
    assert report["calls"] == len(api.audit_lines())
    row = next(r for r in report["by_group_endpoint"] if r["group"] == "admin" and r["endpoint"] == "load")
    assert row["calls"] >= 1 and row["p50_ms"] is not None and row["p99_ms"] >= row["p50_ms"]
