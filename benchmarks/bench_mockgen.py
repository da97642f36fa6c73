"""Mock data generator benchmark: prints rows/s and peak memory (not a timed test).

    .venv/bin/python benchmarks/bench_mockgen.py                    # both benchmarks, default sizes
    .venv/bin/python benchmarks/bench_mockgen.py --customers 1000000 --transactions 10000000

1. customers: generation only (vectorised spec -> pyarrow tables, no CSV) of --customers rows, in
   the production part size. Target: >= 500k rows/s at 1M rows (25x the seed's ~20k/s per-row Faker).
2. end to end: ``generate`` of products + customers + accounts + transactions to a local temporary
   directory (CSV encoding, landing and history copies included), in a child process so its peak
   RSS is measured alone. Target: 1M customers + 10M transactions in <= 60 s, peak RSS <= 2 GB.

Each run prints the machine's load average and the CPU seconds used: wall-clock figures are only
comparable at similar load, CPU seconds much less so.
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

LOGICAL_DATE = date(2026, 11, 20)


def bench_customers(rows: int) -> dict:
    from include.mockgen.customers import CUSTOMER_SPEC
    CUSTOMER_SPEC.materialise(CUSTOMER_SPEC.evaluate(1, LOGICAL_DATE, 0, 1000))      # warm up kernels
    started, cpu = time.perf_counter(), time.process_time()
    done = 0
    for part, n in enumerate(CUSTOMER_SPEC.part_sizes(rows)):
        done += CUSTOMER_SPEC.materialise(CUSTOMER_SPEC.evaluate(42, LOGICAL_DATE, part, n)).num_rows
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    return {"rows": done, "seconds": round(seconds, 2), "rows_per_s": round(done / seconds),
            "cpu_seconds": round(cpu, 2), "rows_per_cpu_s": round(done / cpu)}


def _child_end_to_end(customers: int, transactions: int, target: str) -> None:
    from include.mockgen.landing import Lander, open_store
    from include.mockgen.runner import generate
    summary = generate(Lander(open_store(target)), LOGICAL_DATE, customers=customers, transactions=transactions)
    print(json.dumps({e: {"rows": r.rows, "bytes": r.bytes} for e, r in summary.landed.items()}
                     | {"seconds": round(summary.seconds, 1)}))


def bench_end_to_end(customers: int, transactions: int) -> dict:
    target = tempfile.mkdtemp(prefix="bench_mockgen_")
    try:
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, "--child", str(customers), str(transactions), target],
                              capture_output=True, text=True, check=True)
        wall = time.perf_counter() - started
        # ru_maxrss of RUSAGE_CHILDREN: the largest child's peak RSS (KiB on Linux)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_mib = usage.ru_maxrss / 1024
        landed = json.loads(proc.stdout.strip().splitlines()[-1])
        rows = sum(v["rows"] for v in landed.values() if isinstance(v, dict))
        return {"wall_seconds": round(wall, 1), "generate_seconds": landed.pop("seconds"), "rows": rows,
                "rows_per_s": round(rows / wall), "peak_rss_mib": round(peak_mib), "landed": landed,
                "cpu_user": round(usage.ru_utime, 1), "cpu_sys": round(usage.ru_stime, 1)}
    finally:
        shutil.rmtree(target, ignore_errors=True)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child_end_to_end(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--only", choices=("customers", "end-to-end"))
    args = parser.parse_args()
    print(f"cpus {os.cpu_count()}, load average before {os.getloadavg()}")
    if args.only != "end-to-end":
        r = bench_customers(args.customers)
        print(f"customers (generation only): {r['rows']:,} rows in {r['seconds']} s = {r['rows_per_s']:,} rows/s "
              f"(target >= 500,000); CPU {r['cpu_seconds']} s = {r['rows_per_cpu_s']:,} rows per CPU second")
    if args.only != "customers":
        r = bench_end_to_end(args.customers, args.transactions)
        print(f"end to end: {r['rows']:,} rows landed in {r['wall_seconds']} s wall = {r['rows_per_s']:,} rows/s, "
              f"peak RSS {r['peak_rss_mib']:,} MiB (targets <= 60 s, <= 2048 MiB); "
              f"CPU user {r['cpu_user']} s + sys {r['cpu_sys']} s")
        for entity, v in r["landed"].items():
            print(f"  {entity:<14}{v['rows']:>12,} rows {v['bytes']:>15,} bytes")
    print(f"load average after {os.getloadavg()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
