"""Benchmark of the audit fold (include.api.audit_table): the data API's trail folded into the
governance dashboard's DuckDB table. Writes ``--days`` files of ``--lines`` audit lines each (the
shape AuditLog writes for a /v2/load call), then times the first fold (every file parsed), the
next fold after one more line today (only today's file parsed again) and a fold with nothing
changed. Prints wall clock, CPU seconds of this process (DuckDB's threads included) and the load
average next to each.

    .venv/bin/python benchmarks/bench_audit_fold.py                    # 5 days x 100,000 lines
    .venv/bin/python benchmarks/bench_audit_fold.py --days 31 --lines 20000
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from include.api.audit_table import fold, table_path  # noqa: E402


def cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def timed(label: str, audit: Path) -> None:
    wall, c = time.monotonic(), cpu()
    res = fold(audit)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{label:<34} {res.lines:>10,} lines  {time.monotonic() - wall:7.2f} s wall  {cpu() - c:7.2f} s CPU  "
          f"load {load}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--days", type=int, default=5)
    parser.add_argument("--lines", type=int, default=100_000, help="lines per day")
    parser.add_argument("--dir", type=Path, default=None, help="work folder (default: a temporary one, removed)")
    args = parser.parse_args()
    work = args.dir or Path(tempfile.mkdtemp(prefix="bench_audit_fold-"))
    audit = work / "audit"
    audit.mkdir(parents=True, exist_ok=True)
    now = datetime.now(timezone.utc)
    try:
        for k in range(args.days):
            day = now - timedelta(days=k)
            record = {"ts": day.isoformat(timespec="milliseconds"), "request_id": "abcdef0123456789",
                      "client": "10.1.2.3", "caller": "analyst-1", "group": "analyst", "auth": "jwt", "method": "POST",
                      "endpoint": "load", "path": "/v2/load", "status": 200, "rows": 42, "latency_ms": 12.345,
                      "rate_limit": {"scope": "caller", "limit": 200, "remaining": 150, "used": 50,
                                     "resetAt": "2026-12-02T01:00:00Z"},
                      "query": {"measures": ["transactions.debit_to_credit_ratio"],
                                "dimensions": ["customers.zone", "customers.city"]},
                      "data_run_id": "run", "data_logical_date": day.date().isoformat()}
            (audit / f"audit-{day:%Y-%m-%d}.jsonl").write_bytes((json.dumps(record) + "\n").encode() * args.lines)
        print(f"{args.days} days x {args.lines:,} lines in {audit}")
        timed("first fold (every file parsed)", audit)
        with (audit / f"audit-{now:%Y-%m-%d}.jsonl").open("a") as f:
            f.write(json.dumps({"ts": now.isoformat(), "status": 200, "endpoint": "load"}) + "\n")
        timed("one more line today", audit)
        timed("nothing changed", audit)
        print(f"table: {table_path(audit).stat().st_size / 2**20:.1f} MiB")
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
