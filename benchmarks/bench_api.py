"""Benchmark of the data API: latency p50/p99 and throughput of /v2/load (the document's query,
transactions.debit_to_credit_ratio by zone, city, branch, channel) and of the SQL-file API
(/debit_credit_ratio_api), cold and warm, with 1, 10 and 50 concurrent clients; and the cost of
the authentication + rate-limit decision per call. Prints figures, CPU seconds and load average.

  1. builds the warehouse like production: mock data generator (1M customers, ~10M transactions),
     dbt build, role views, serving copy (skipped with --reuse when --keep holds one),
  2. starts a real uvicorn (python -m include.api serve, memory counters) on that copy,
  3. cold: the first call of each of several distinct queries (no cached result: a filter value
     differs per query); warm: the same query again and again (result cache), per concurrency,
  4. the decision: Authenticator + RateLimiter in-process, per call.

The document's rate limits would refuse most of a benchmark's calls (100 per minute on /v2/load),
so the server runs with a copy of user_groups.yml whose limits are raised; the limits are checked
on every call all the same (that is the decision measured in step 4).

    .venv/bin/python benchmarks/bench_api.py                              # 1M customers, ~10M transactions
    .venv/bin/python benchmarks/bench_api.py --customers 100000 --keep /tmp/bench_api --reuse

Targets (issue): warm p50 <= 20 ms and >= 200 requests/s; cold p50 <= 500 ms; decision <= 1 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402
import psutil  # noqa: E402
import yaml  # noqa: E402

from include import serving  # noqa: E402
from include.api.auth import ApiKeyStore, Authenticator, mint_token  # noqa: E402
from include.api.groups import load as load_groups  # noqa: E402
from include.api.ratelimit import RateLimiter  # noqa: E402
from include.api.settings import PACKAGE_DIR  # noqa: E402
from tests.api.server import ApiServer  # noqa: E402
from tests.dbt.dbt_runner import Warehouse  # noqa: E402

DAY = date(2026, 11, 20)
DIMS = ["customers.zone", "customers.city", "customers.branch_name", "transactions.channel"]
QUERY = {"measures": ["transactions.debit_to_credit_ratio"], "dimensions": DIMS}
ZONES = ["North", "South", "East", "West", "Central", "Overseas"]
CHANNELS = ["Mobile", "Web", "POS", "ATM", "Branch"]


def build(work: Path, customers: int, reuse_warehouse: bool = False) -> Path:
    """The warehouse (local landing store) and its serving copy; returns the serving folder."""
    store = work / "store"
    # the local store needs no storage account, but dbt's profile registers abfs with a well-formed
    # connection string: the environment's, or Azurite's public development one (never contacted)
    from tests.conftest import azurite_connection_string

    conn = os.environ.get("AZURE_STORAGE_CONNECTION_STRING") or azurite_connection_string(10000)
    warehouse = Warehouse(work / "warehouse", conn, extra_env={"FSDP_LANDING_ROOT": str(store / "landing"),
                                                             "FSDP_CURATED_ROOT": str(store / "curated"),
                                                             "FSDP_EXPORT_CURATED": "false"})
    warehouse.work_dir.mkdir(parents=True, exist_ok=True)
    if reuse_warehouse and warehouse.duckdb_path.exists() and (warehouse.target_path / "manifest.json").exists():
        print("  reusing the warehouse built before", flush=True)
        return publish(warehouse, work)
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "include.mockgen", "generate", "--date", DAY.isoformat(), "--customers",
                    str(customers), "--transactions", str(10 * customers), "--target", str(store), "--quiet"],
                   cwd=ROOT, env=warehouse.env, check=True, stdout=subprocess.DEVNULL)
    print(f"  generated the landing in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    warehouse.dbt("build", "--exclude", "test_type:unit")
    print(f"  dbt build in {time.perf_counter() - started:.0f} s", flush=True)
    return publish(warehouse, work)


def publish(warehouse: Warehouse, work: Path) -> Path:
    from include.governance.views import apply_role_views

    manifest = warehouse.target_path / "manifest.json"
    apply_role_views(warehouse.duckdb_path, manifest)
    started = time.perf_counter()
    target = work / "serving"
    copy = serving.publish(warehouse.duckdb_path, "bench", DAY, {"ok": True, "checks": 0, "warnings": []},
                           manifest_path=manifest, target_dir=target)
    rows = warehouse.query("select count(*) from fs_accelerator.transaction_dp")[0][0]
    print(f"  serving copy published in {time.perf_counter() - started:.0f} s ({copy.path.stat().st_size / 2**20:.0f} MiB,"
          f" {rows:,} transactions)", flush=True)
    return target


def bench_groups(path: Path) -> Path:
    doc = yaml.safe_load((PACKAGE_DIR / "user_groups.yml").read_text())
    big = {"requestsPerMinute": 10_000_000, "requestsPerHour": 100_000_000}
    doc["defaults"]["perEndpoint"] = {k: 10_000_000 for k in doc["defaults"]["perEndpoint"]}
    doc["defaults"]["perAddress"] = dict(big)
    for g in doc["userGroups"]:
        g["rateLimits"] = {**big, "concurrentRequests": 1000}
    path.write_text(yaml.safe_dump(doc))
    return path


def pct(values: list[float], p: float) -> float:
    s = sorted(values)
    return s[min(len(s) - 1, int(round(p / 100 * (len(s) - 1))))]


def drive(url: str, token: str, make_request, total: int, clients: int) -> dict:
    """``total`` calls from ``clients`` threads (one keep-alive connection each)."""
    latencies: list[float] = []
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    per_client = [total // clients + (1 if i < total % clients else 0) for i in range(clients)]

    def worker(i: int) -> None:
        with httpx.Client(base_url=url, timeout=120, headers={"Authorization": f"Bearer {token}"}) as http:
            for k in range(per_client[i]):
                started = time.perf_counter()
                resp = make_request(http, i, k)
                took = time.perf_counter() - started
                with lock:
                    latencies.append(took * 1000)
                    statuses[resp.status_code] = statuses.get(resp.status_code, 0) + 1

    started = time.perf_counter()
    with ThreadPoolExecutor(clients) as pool:
        list(pool.map(worker, range(clients)))
    wall = time.perf_counter() - started
    return {"n": len(latencies), "p50": pct(latencies, 50), "p99": pct(latencies, 99), "rps": len(latencies) / wall,
            "statuses": statuses}


def decision_cost(iterations: int = 20000) -> tuple[float, float]:
    """(wall, CPU) microseconds per call of authentication (HS256 JWT) + every rate-limit window of a call."""
    groups = load_groups(PACKAGE_DIR / "user_groups.yml")
    secret = "b" * 48
    auth = Authenticator(groups, jwt_secret=secret, jwks_url=None, issuer=None, audience=None,
                         keys=ApiKeyStore(Path(tempfile.mkdtemp()) / "keys.json"))
    limiter = RateLimiter("memory://")
    tokens = [mint_token(secret, f"user{i}", "analyst", 3600, zone="North") for i in range(1000)]

    async def run() -> tuple[float, float]:
        started, cpu = time.perf_counter(), time.process_time()
        for i in range(iterations):
            p = auth.authenticate(f"Bearer {tokens[i % 1000]}", None)
            await limiter.count("address", f"10.0.{i % 250}.1", groups.defaults.per_address.windows)
            await limiter.count("group", p.caller_id, p.group.limits.windows)
            await limiter.count("endpoint", f"load:{p.caller_id}", [groups.defaults.per_endpoint["load"]])
            slot = await limiter.acquire_slot(p.caller_id, p.group.limits.concurrent)
            await limiter.release_slot(p.caller_id, slot)
        return ((time.perf_counter() - started) / iterations * 1e6, (time.process_time() - cpu) / iterations * 1e6)

    return asyncio.run(run())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--keep", help="work folder to keep (default: a temporary folder, removed)")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse the serving copy (or the built warehouse) in --keep")
    parser.add_argument("--requests", type=int, default=2000, help="warm calls per concurrency level")
    parser.add_argument("--concurrency", default="1,10,50")
    args = parser.parse_args(argv)
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_api_"))
    base.mkdir(parents=True, exist_ok=True)
    print(f"data API benchmark: {args.customers:,} customers, {os.cpu_count()} cores, work folder {base}, "
          f"load average {os.getloadavg()[0]:.2f} at start", flush=True)
    try:
        target = base / "serving"
        if not (args.reuse and serving.current(target)):
            shutil.rmtree(target, ignore_errors=True)
            target = build(base, args.customers, reuse_warehouse=args.reuse)
        server = ApiServer(base / "api", target, user_groups=bench_groups(base / "user_groups.yml"),
                           env={"FSDP_API_CACHE_MAX_ENTRIES": "4096"}).start(timeout=300)
        proc = psutil.Process(server.proc.pid)
        me = psutil.Process()
        try:
            token = mint_token("test-secret-" + "s" * 40, "bench", "admin", 7200)
            def file_api(http, q):
                params = {f["member"].split(".")[1]: f["values"] for f in q.get("filters", [])}
                return http.get("/debit_credit_ratio_api", params=params)

            endpoints = {
                "/v2/load": (lambda http, q: http.post("/v2/load", json={"query": q}), "transactions.channel"),
                # cold variants of its own (zone filters): a /v2/load result must not make it warm
                "/debit_credit_ratio_api": (file_api, "customers.zone"),
            }
            print(f"\n{'endpoint':<24} {'phase':<6} {'clients':>7} {'calls':>6} {'p50 ms':>8} {'p99 ms':>8} "
                  f"{'req/s':>7} {'server CPU s':>12} {'client CPU s':>12} {'load':>5}  statuses", flush=True)
            for name, (call, member) in endpoints.items():
                # cold: distinct queries, no cached result (each a new filter value)
                values = CHANNELS if member == "transactions.channel" else ZONES
                op = "in" if member == "transactions.channel" else "equals"
                variants = [{**QUERY, "filters": [{"member": member, "operator": op, "values": [v]}]} for v in values]
                cpu0, mine0 = proc.cpu_times(), me.cpu_times()
                cold = drive(server.url, token, lambda http, i, k: call(http, variants[k]), len(variants), 1)
                report(name, "cold", 1, cold, proc, cpu0, me, mine0)
                call(httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=300),
                     QUERY)   # prime the warm query
                for clients in [int(c) for c in args.concurrency.split(",")]:
                    cpu0, mine0 = proc.cpu_times(), me.cpu_times()
                    warm = drive(server.url, token, lambda http, i, k: call(http, QUERY), args.requests, clients)
                    report(name, "warm", clients, warm, proc, cpu0, me, mine0)
        finally:
            server.stop()
        wall, cpu = decision_cost()
        print(f"\nauthentication (HS256 JWT) + rate-limit decision (address, group, endpoint windows, concurrency "
              f"slot; memory counters): {wall:.0f} us wall, {cpu:.0f} us CPU per call  (target <= 1000 us)")
        print(f"load average at the end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


def report(name, phase, clients, r, proc, cpu0, me, mine0) -> None:
    cpu1, mine1 = proc.cpu_times(), me.cpu_times()
    server_cpu = (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system)
    client_cpu = (mine1.user + mine1.system) - (mine0.user + mine0.system)
    print(f"{name:<24} {phase:<6} {clients:>7} {r['n']:>6} {r['p50']:>8.1f} {r['p99']:>8.1f} {r['rps']:>7.0f} "
          f"{server_cpu:>12.1f} {client_cpu:>12.1f} {os.getloadavg()[0]:>5.2f}  {r['statuses']}", flush=True)


if __name__ == "__main__":
    sys.exit(main())
