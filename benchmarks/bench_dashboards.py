"""Benchmark of the dashboards: Superset's start-up time and memory, and the time each dashboard
takes to render all its charts in headless Chromium, at 1M customers / 10M transactions.

  1. a warehouse: --warehouse DIR (a dbt-built warehouse folder with fsdp.duckdb and target/, e.g.
     `bench_dbt.py --keep DIR` leaves DIR/c1000000/warehouse), else one is generated and built
     here (mock data generator to a local folder, full `dbt build`, role views; not timed here,
     bench_dbt.py times it);
  2. its serving copy (include.serving.publish), timed;
  3. scripts/dashboards.sh on a free port with a fresh home: wall time to "ready" (venv check,
     metadata DB migration, role sync, import, access, gunicorn) and a second start on the same
     home (what every later start costs); resident memory of the server after start and after the
     renders;
  4. every dashboard opened by the admin in Debian's chromium: first render (empty result cache:
     every chart's query runs on DuckDB), render again (Superset's result cache), and render with
     the result cache emptied (warm process and file, queries run again: the figure the <= 5 s
     target is about).

    .venv/bin/python benchmarks/bench_dashboards.py                      # 1M customers, built here
    .venv/bin/python benchmarks/bench_dashboards.py --warehouse /tmp/bench/c1000000/warehouse
    .venv/bin/python benchmarks/bench_dashboards.py --customers 100000

Prints load average and CPU seconds (this process and the server's) next to every wall-clock figure.
"""
from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.dbt.dbt_runner import Warehouse  # noqa: E402
from tests.e2e import superset as ss  # noqa: E402

DAY = date(2026, 11, 20)
QUALITY_OK = {"ok": True, "checks": 0, "warnings": [], "failed": [], "run_id": "bench"}


def build(work: Path, customers: int) -> Warehouse:
    from bench_dbt import mockgen

    from include.blob_storage import AZURITE_DEV_CONNECTION_STRING

    landing = work / "store"
    # a local landing folder; dbt-duckdb still registers the abfs filesystem, which only parses the
    # (public, development) connection string
    warehouse = Warehouse(work / "warehouse", AZURITE_DEV_CONNECTION_STRING, extra_env={
        "FSDP_LANDING_ROOT": str(landing / "landing"), "FSDP_CURATED_ROOT": str(landing / "curated"),
        "FSDP_EXPORT_CURATED": "false"})
    warehouse.work_dir.mkdir(parents=True, exist_ok=True)
    if not (landing / "landing").exists():   # --keep: a second run reuses the generated landing
        started = time.perf_counter()
        mockgen(["generate", "--date", DAY.isoformat(), "--customers", str(customers), "--transactions",
                 str(10 * customers), "--target", str(landing)], warehouse.env)
        print(f"generated {customers:,} customers in {time.perf_counter() - started:.0f} s", flush=True)
    started = time.perf_counter()
    warehouse.dbt("build", "--exclude", "test_type:unit")
    from include.governance.views import apply_role_views

    apply_role_views(warehouse.duckdb_path, warehouse.target_path / "manifest.json")
    print(f"dbt build + role views in {time.perf_counter() - started:.0f} s", flush=True)
    return warehouse


def server_cpu(server: ss.SupersetServer) -> float:
    import psutil

    total = 0.0
    for proc in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(proc.pid) == server.proc.pid:
                t = proc.cpu_times()
                total += t.user + t.system + t.children_user + t.children_system
        except (psutil.Error, ProcessLookupError):
            continue
    return total


def load() -> str:
    return f"load {os.getloadavg()[0]:.1f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--warehouse", type=Path, help="folder with fsdp.duckdb and target/ (dbt-built)")
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--keep", type=Path, help="work folder to keep (default: temporary, removed)")
    args = parser.parse_args(argv)
    if ss.chromium() is None:
        raise SystemExit("Debian's chromium is required (apt-get install chromium)")
    work = (args.keep or Path(tempfile.mkdtemp(prefix="bench_dashboards_"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    import duckdb

    from include import serving

    try:
        if args.warehouse:
            warehouse = Warehouse(args.warehouse.resolve(), "")
        else:
            warehouse = build(work / "build", args.customers)
        with duckdb.connect(str(warehouse.duckdb_path), read_only=True) as con:
            n_cust = con.execute("select count(*) from marketplace.customers").fetchone()[0]
            n_txn = con.execute("select count(*) from marketplace.transactions").fetchone()[0]
        print(f"\ndashboards benchmark: {n_cust:,} customers, {n_txn:,} transactions, {os.cpu_count()} cores, "
              f"DuckDB {duckdb.__version__}, work folder {work}", flush=True)
        started, cpu = time.perf_counter(), time.process_time()
        copy = serving.current(work / "serving") if args.keep else None
        if copy is not None and copy.path.exists():
            print(f"  serving copy reused (--keep)    {copy.directory.name}", flush=True)
        else:
            copy = serving.publish(warehouse.duckdb_path, "bench", DAY, QUALITY_OK,
                                   manifest_path=warehouse.target_path / "manifest.json", target_dir=work / "serving")
            print(f"  serving copy published          {time.perf_counter() - started:7.1f} s  "
                  f"(cpu {time.process_time() - cpu:.1f} s, {load()}; {copy.path.stat().st_size / 2**20:,.0f} MiB)",
                  flush=True)
        from include.dashboards.assets import load_assets

        # the dashboards over the serving copy (the governance one reads the API's audit trail,
        # empty here: tests/e2e/test_dashboards.py renders it after real API calls)
        slugs = sorted(d["slug"] for d in load_assets().dashboards.values() if d["slug"] != "api-governance")
        audit_dir = work / "api-audit"
        audit_dir.mkdir(parents=True, exist_ok=True)
        for attempt in ("first start (fresh home)", "second start (same home)"):
            server = ss.SupersetServer(work / "superset", work / "serving",
                                       extra_env={"FSDP_API_AUDIT_DIR": str(audit_dir)})
            with server:
                print(f"  {attempt:<31} {server.started_s:7.1f} s  ({load()}; server RSS "
                      f"{server.pid_tree_rss_mb():,.0f} MiB, server cpu {server_cpu(server):.1f} s)", flush=True)
                if attempt.startswith("second"):
                    break
                with ss.browser() as b:
                    page = b.new_page(viewport={"width": 1600, "height": 1200})
                    page.set_default_timeout(ss.RENDER_TIMEOUT * 1000)
                    ss.login(page, server.base, server.admin_user, server.admin_password)
                    for slug in slugs:
                        figures = []
                        for label in ("first (cold cache)", "again (cached)", "cache emptied"):
                            if label == "cache emptied":
                                for entry in (server.home / "cache" / "data").glob("*"):
                                    entry.unlink()
                            cpu0 = server_cpu(server)
                            render = ss.render_dashboard(page, server.base, slug)
                            if render.errors:
                                raise SystemExit(f"{slug}: {render.errors}")
                            figures.append(f"{label} {render.seconds:5.1f} s (server cpu "
                                           f"{server_cpu(server) - cpu0:.1f} s)")
                        print(f"  {slug:<16} {len(render.charts):2d} charts   " + "   ".join(figures) + f"   {load()}",
                              flush=True)
                print(f"  server RSS after the renders    {server.pid_tree_rss_mb():,.0f} MiB", flush=True)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT / "benchmarks"))
    sys.exit(main())
