"""Benchmark of the dbt project: full build and one incremental day, printed as a table.

For each size (customers; the initial load has ~10 transactions per customer):
  1. land the initial load with the mock data generator (python -m include.mockgen generate),
  2. time a full `dbt build` (models, snapshot, data tests; unit tests excluded: they test logic,
     not data, and run in CI / tests/dbt; saved queries and exposures too, NO-OP nodes of a build:
     the flags of the DAG's builds, include/pipeline/dbt.py PRODUCER_FLAGS), in the DAG's two steps: the produce side
     (`--exclude tag:marketplace`), then the market-place marts (`--select tag:marketplace`); then
     the semantic layer's step (every saved-query export) and the market place's questions through
     the Python interface (debit_to_credit_ratio by zone, city, branch and channel; cumulative
     spend by day, by day and zone, by month),
  3. land one pipeline day (python -m include.mockgen daily: 1 % of customers updated + the day's
     transactions, ~1 per active account),
  4. time the incremental `dbt build`,
  5. time one more `dbt build` with nothing new landed: the fixed cost of a daily run (dbt start-up,
     opening the database, every test node, the checks that find nothing to do), which bounds the
     incremental day's ratio from below whatever the day's volume;
  after each build, the output port's publication (include/output_port: reconcile every product
  table with its published files, write and upload the partitions that changed), timed apart:
  in the pipeline it is a task of its own after the quality gate, not part of dbt.

Landing goes to a private Azurite started for the run (own port and data folder, so nothing else
is touched), read by dbt through adlfs exactly as in production; `--store local` lands to a local
folder instead and points the models at it (FSDP_LANDING_ROOT / FSDP_CURATED_ROOT), which takes
the emulator's HTTP out of the figures. Generation time is not part of the build figures.

    .venv/bin/python benchmarks/bench_dbt.py                      # 100k and 1M customers, Azurite
    .venv/bin/python benchmarks/bench_dbt.py --sizes 100000 --store local --keep /tmp/bench
    .venv/bin/python benchmarks/bench_dbt.py --sizes 1000000 --history 1,3   # the same day on 10M and 30M

``--history 1,3``: the day's cost against the size of the history. For each multiple m, a warehouse
whose history (landed 120 days before the day, so older than the 90-day behaviour window of the
archetypes and in earlier months than the day's spend segments, as history is) holds the same
customers with m x 10 transactions per customer is built, then the same day (the same customer
updates and transactions: they depend on the customers and accounts, not on the history's
transactions) is landed and built; the day's builds are printed side by side. Target: within
15 % of each other (nothing in the daily path scans the history).

Targets (issues): full build of 1M customers + 10M transactions <= 180 s on this machine; the
incremental day <= 0.2 x the full build; the marts and the semantic layer's exports add at most
25 % to the produce-side build; debit_to_credit_ratio by zone, city, branch and channel < 1 s
through the Python interface.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from include.blob_storage import AZURITE_DEV_CONNECTION_STRING  # noqa: E402
from tests.conftest import AzuriteProcess, _free_port  # noqa: E402  (a real Azurite, as in the tests)
from include.pipeline.dbt import PRODUCER_FLAGS  # noqa: E402
from tests.dbt.dbt_runner import Warehouse  # noqa: E402

FIRST_DAY = date(2026, 11, 20)
TABLES = {
    "customers raw": "fs_accelerator.customer_overview_raw",
    "customers dp": "fs_accelerator.customer_overview_dp",
    "customers rejected": "fs_accelerator.customer_overview_rejected",
    "accounts dp": "fs_accelerator.account_dp",
    "transactions raw": "fs_accelerator.transaction_raw",
    "transactions dp": "fs_accelerator.transaction_dp",
    "transactions rejected": "fs_accelerator.transaction_rejected",
    "campaign events dp": "fs_accelerator.campaign_event_dp",
    "campaign funnel rows": "marketplace.campaign_funnel",
}


def mockgen(args: list[str], env: dict) -> float:
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "include.mockgen", *args, "--quiet"], cwd=ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    return time.perf_counter() - started


LAST_BUILD: dict = {}


def timed_build(warehouse: Warehouse, *selection: str) -> float:
    """Wall seconds of one `dbt build`; its CPU seconds (the dbt process and its children) are added
    to LAST_BUILD["cpu"] and the 1-minute load average before the first and after the last build
    since the last reset go to LAST_BUILD["load"] (the machine may be shared)."""
    import resource

    cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    load = LAST_BUILD.get("load", (os.getloadavg()[0],))[0]
    started = time.perf_counter()
    # what the DAG's producer runs: no unit tests, saved queries or exposures (include/pipeline/dbt.py)
    warehouse.dbt("build", *PRODUCER_FLAGS, *selection)
    wall = time.perf_counter() - started
    done = resource.getrusage(resource.RUSAGE_CHILDREN)
    LAST_BUILD.update(cpu=LAST_BUILD.get("cpu", 0.0) + (done.ru_utime - cpu.ru_utime) + (done.ru_stime - cpu.ru_stime),
                      load=(load, os.getloadavg()[0]))
    return wall


def timed_full_build(warehouse: Warehouse) -> tuple[float, float, float]:
    """(produce side s, market-place marts s, market-place node s) as the DAG runs them: the
    market place after the quality gate, in its own dbt invocation. Resets LAST_BUILD: its CPU and
    load cover both invocations."""
    LAST_BUILD.clear()
    produce = timed_build(warehouse, "--exclude", "tag:marketplace")
    marts = timed_build(warehouse, "--select", "tag:marketplace")
    nodes = sum(r["execution_time"] for r in warehouse.run_results()["results"])
    return produce, marts, nodes


def slowest(warehouse: Warehouse, n: int = 6) -> str:
    results = warehouse.run_results()["results"]
    top = sorted(results, key=lambda r: r["execution_time"], reverse=True)[:n]
    return ", ".join(f"{r['unique_id'].split('.')[-1]} {r['execution_time']:.1f}s" for r in top)


def timed_publish(warehouse: Warehouse, port, day: date) -> tuple[float, float, str]:
    """(wall s, CPU s, what it wrote) of one output port publication."""
    from include.output_port import publish

    started, cpu = time.perf_counter(), time.process_time()
    result = publish(warehouse.duckdb_path, f"bench-{day}", day.isoformat(), ports_=[port],
                     manifest_path=warehouse.target_path / "manifest.json")
    tables = result["ports"][port.name]["tables"]
    wrote = ", ".join(f"{t} {r['rewritten']}/{r['partitions']}" for t, r in tables.items())
    return time.perf_counter() - started, time.process_time() - cpu, wrote


def _timed(sl, q, role=None) -> tuple[float, float, int]:
    cpu, started = time.process_time(), time.perf_counter()
    rows = len(sl.run(q, role=role).rows)
    return time.perf_counter() - started, time.process_time() - cpu, rows


def semantic_figures(warehouse: Warehouse) -> dict:
    """Role views + saved-query exports (the DAG's steps after the marts), then the market place's
    questions through the Python interface: cold (engine + plan), warm (cached plan), per role."""
    from include.governance.views import apply_role_views
    from include.semantic import Query, SemanticLayer
    from include.semantic.exports import publish_exports

    out = {}
    started = time.perf_counter()
    apply_role_views(warehouse.duckdb_path, warehouse.target_path / "manifest.json")
    out["role views"] = time.perf_counter() - started
    started = time.perf_counter()
    exported = publish_exports(warehouse.duckdb_path, warehouse.target_path / "semantic_manifest.json")
    out["saved-query exports"] = time.perf_counter() - started
    out["export rows"] = sum(exported.values())
    q = Query(measures=["transactions.debit_to_credit_ratio"],
              dimensions=["customers.zone", "customers.city", "customers.branch_name", "transactions.channel"])
    day = [{"dimension": "transactions.txn_ts", "granularity": "day"}]
    cumulative = {"cumulative spend by day": Query(measures=["transactions.cumulative_spend"], time_dimensions=day),
                  "cumulative spend by day and zone": Query(measures=["transactions.cumulative_spend"],
                                                            dimensions=["customers.zone"], time_dimensions=day),
                  "cumulative spend by month": Query(measures=["transactions.cumulative_spend"], time_dimensions=[
                      {"dimension": "transactions.txn_ts", "granularity": "month"}])}
    with SemanticLayer(warehouse.duckdb_path, warehouse.target_path / "semantic_manifest.json") as sl:
        for label, role in (("dtc query, cold, no role", None), ("dtc query, warm, no role", None),
                            ("dtc query, cold, role_public", "role_public"), ("dtc query, warm, role_public", "role_public")):
            out[label], out[label + " cpu"], out["dtc rows"] = _timed(sl, q, role)
        out["dtc query, warm, role_public, best of 5"] = min(_timed(sl, q, "role_public")[0] for _ in range(5))
        for label, query in cumulative.items():
            _timed(sl, query)                                          # plan once
            out[label], out[label + " cpu"], out[label + " rows"] = _timed(sl, query)
    return out


def counts(warehouse: Warehouse) -> dict:
    return {label: warehouse.query(f"select count(*) from {table}")[0][0] for label, table in TABLES.items()}


def run_size(customers: int, store: str, work: Path) -> list[dict]:
    work.mkdir(parents=True, exist_ok=True)
    azurite = None
    extra_env = {}
    if store == "azurite":
        azurite = AzuriteProcess(work / "azurite", _free_port())
        azurite.start()
        connection_string, target_args = azurite.connection_string, []
    else:
        landing_dir = work / "store"
        connection_string, target_args = "", ["--target", str(landing_dir)]
        extra_env = {"FSDP_LANDING_ROOT": str(landing_dir / "landing"), "FSDP_CURATED_ROOT": str(landing_dir / "curated")}
        # dbt-duckdb registers the abfs filesystem from the profile even when the landing is a local
        # folder: it only parses the connection string, so the emulator's public one serves
        connection_string = os.environ.get("AZURE_STORAGE_CONNECTION_STRING") or AZURITE_DEV_CONNECTION_STRING
    try:
        from include.output_port.ports import Port, ports

        warehouse = Warehouse(work / "warehouse", connection_string, extra_env=extra_env)
        port = ports(extra_env)[0] if store == "local" else Port("curated", connection_string, "curated",
                                                                   ports({})[0].audience)
        warehouse.work_dir.mkdir(parents=True, exist_ok=True)
        env = warehouse.env
        rows = []
        gen = mockgen(["generate", "--date", FIRST_DAY.isoformat(), "--customers", str(customers),
                       "--transactions", str(10 * customers), *target_args], env)
        produce, marts, mart_nodes = timed_full_build(warehouse)
        full = produce + marts
        semantic = semantic_figures(warehouse)
        rows.append({"customers": customers, "phase": "full build", "seconds": full, "generate_s": gen,
                     "rows": counts(warehouse), "slowest": slowest(warehouse),
                     "port": timed_publish(warehouse, port, FIRST_DAY),
                     "marketplace": (produce, marts, mart_nodes, semantic["saved-query exports"]),
                     "semantic": semantic, **LAST_BUILD})
        # every landed row is read exactly once (DuckDB 1.0 read one phantom all-null row out of
        # the 10M-row landing; 1.4 and 2.0 do not)
        landed = {"customers raw": customers, "transactions raw": 10 * customers}
        rows[-1]["accounted"] = {k: (n, rows[-1]["rows"][k]) for k, n in landed.items()}
        gen = mockgen(["daily", "--date", (FIRST_DAY + timedelta(days=1)).isoformat(), *target_args], env)
        before = rows[-1]["rows"]
        incremental = sum(timed_full_build(warehouse)[:2])
        after = counts(warehouse)
        rows.append({"customers": customers, "phase": "incremental day", "seconds": incremental, "generate_s": gen,
                     "rows": after, "added": {k: after[k] - before[k] for k in after}, "ratio": incremental / full,
                     "slowest": slowest(warehouse), "port": timed_publish(warehouse, port, FIRST_DAY + timedelta(days=1)), **LAST_BUILD})
        idle = sum(timed_full_build(warehouse)[:2])
        again = counts(warehouse)
        rows.append({"customers": customers, "phase": "nothing new", "seconds": idle, "generate_s": 0.0,
                     "rows": again, "added": {k: again[k] - after[k] for k in again}, "ratio": idle / full,
                     "slowest": slowest(warehouse), "port": timed_publish(warehouse, port, FIRST_DAY + timedelta(days=2)), **LAST_BUILD})
        return rows
    finally:
        if azurite:
            azurite.stop()


def run_history(customers: int, multiple: int, store: str, work: Path) -> dict:
    """The same second day on a first day of ``multiple`` x 10 transactions per customer: the
    incremental build's wall and CPU seconds, the day's added rows and the slowest nodes."""
    work.mkdir(parents=True, exist_ok=True)
    azurite = None
    extra_env, target_args = {}, []
    if store == "azurite":
        azurite = AzuriteProcess(work / "azurite", _free_port())
        azurite.start()
        connection_string = azurite.connection_string
    else:
        landing_dir = work / "store"
        target_args = ["--target", str(landing_dir)]
        extra_env = {"FSDP_LANDING_ROOT": str(landing_dir / "landing"), "FSDP_CURATED_ROOT": str(landing_dir / "curated")}
        connection_string = os.environ.get("AZURE_STORAGE_CONNECTION_STRING") or AZURITE_DEV_CONNECTION_STRING
    try:
        warehouse = Warehouse(work / "warehouse", connection_string, extra_env=extra_env)
        warehouse.work_dir.mkdir(parents=True, exist_ok=True)
        env = warehouse.env
        history = 10 * multiple * customers
        mockgen(["generate", "--date", (FIRST_DAY - timedelta(days=120)).isoformat(), "--customers", str(customers),
                 "--transactions", str(history), *target_args], env)
        full = sum(timed_full_build(warehouse)[:2])
        full_cpu = LAST_BUILD["cpu"]
        before = counts(warehouse)
        mockgen(["daily", "--date", FIRST_DAY.isoformat(), *target_args], env)
        day = sum(timed_full_build(warehouse)[:2])
        out = {"history": history, "full": full, "full_cpu": full_cpu, "day": day, "day_cpu": LAST_BUILD["cpu"],
               "load": LAST_BUILD["load"], "slowest": slowest(warehouse)}
        after = counts(warehouse)
        out["added"] = {k: after[k] - before[k] for k in after if after[k] != before[k]}
        idle = sum(timed_full_build(warehouse)[:2])
        out.update(idle=idle, idle_cpu=LAST_BUILD["cpu"], idle_load=LAST_BUILD["load"])
        return out
    finally:
        if azurite:
            azurite.stop()


def main_history(sizes: list[int], multiples: list[int], store: str, base: Path) -> int:
    for size in sizes:
        results = []
        for m in multiples:
            r = run_history(size, m, store, base / f"h{size}x{m}")
            results.append(r)
            print(f"\n{size:>9,} customers, history {r['history']:>11,} transactions: full build {r['full']:6.1f} s "
                  f"(cpu {r['full_cpu']:.1f} s); the day {r['day']:6.1f} s (cpu {r['day_cpu']:.1f} s, load "
                  f"{r['load'][0]:.1f} -> {r['load'][1]:.1f}); nothing new {r['idle']:5.1f} s (cpu {r['idle_cpu']:.1f} s)",
                  flush=True)
            print("    the day added: " + ", ".join(f"{k} +{v:,}" for k, v in r["added"].items()))
            print(f"    slowest nodes of the day: {r['slowest']}", flush=True)
        base_day = results[0]
        for r in results[1:]:
            print(f"\n{size:,} customers: the same day on {r['history']:,} vs {base_day['history']:,} transactions of "
                  f"history: {r['day']:.1f} s vs {base_day['day']:.1f} s wall = {r['day'] / base_day['day']:.2f}x, "
                  f"CPU {r['day_cpu'] / base_day['day_cpu']:.2f}x (target within 15 %: <= 1.15x)", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000", help="customer counts, comma-separated")
    parser.add_argument("--store", choices=["azurite", "local"], default="azurite")
    parser.add_argument("--keep", help="work folder to keep (default: a temporary folder, removed)")
    parser.add_argument("--history", help="multiples of the first day's transactions (e.g. 1,3): the same day "
                        "timed on top of each history size")
    args = parser.parse_args(argv)
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_dbt_"))
    import duckdb

    threads = os.environ.get("FSDP_DBT_THREADS", "profile default")
    print(f"dbt benchmark: store={args.store}, {os.cpu_count()} cores, DuckDB {duckdb.__version__}, "
          f"dbt threads {threads}, work folder {base}", flush=True)
    try:
        if args.history:
            return main_history([int(s) for s in args.sizes.split(",")], [int(m) for m in args.history.split(",")],
                                args.store, base)
        for size in [int(s) for s in args.sizes.split(",")]:
            for row in run_size(size, args.store, base / f"c{size}"):
                print(f"\n{row['customers']:>9,} customers  {row['phase']:<16} {row['seconds']:7.1f} s"
                      + (f"  ({row['ratio']:.2f} x full build)" if "ratio" in row else "")
                      + f"  cpu {row['cpu']:.1f} s, load {row['load'][0]:.1f} -> {row['load'][1]:.1f}"
                      + (f"   [landing generated in {row['generate_s']:.1f} s, not counted]" if row["generate_s"] else ""),
                      flush=True)
                for label, n in row["rows"].items():
                    added = f"  (+{row['added'][label]:,})" if "added" in row else ""
                    print(f"    {label:<22} {n:>12,}{added}")
                for label, (landed, read) in row.get("accounted", {}).items():
                    print(f"    {label:<22} {'every landed row read once' if landed == read else 'MISMATCH'}"
                          f" ({landed:,} landed, {read:,} in raw)")
                print(f"    slowest nodes: {row['slowest']}", flush=True)
                wall, cpu, wrote = row["port"]
                print(f"    output port: {wall:.1f} s wall, {cpu:.1f} s CPU (this process; DuckDB threads included), "
                      f"load average {os.getloadavg()[0]:.1f}; partitions written: {wrote}", flush=True)
                if "marketplace" in row:
                    produce, marts, mart_nodes, exports = row["marketplace"]
                    print(f"    produce side (dbt build --exclude tag:marketplace) {produce:7.1f} s")
                    print(f"    market-place marts (dbt build --select tag:marketplace) {marts:7.1f} s "
                          f"({mart_nodes:.1f} s node time), saved-query exports {exports:.1f} s")
                    print(f"    marts + semantic layer: +{(marts + exports) / produce:.0%} over the produce side "
                          f"(target <= 25 %), load average at the end of the build {row['load'][1]:.2f}")
                    for label, value in row["semantic"].items():
                        print(f"    {label:<42} {value:10.3f}" + ("" if "rows" in label else " s"))
                    print(f"    load average {os.getloadavg()[0]:.2f}, process CPU {time.process_time():.1f} s", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
