"""Mock data generator benchmark: prints rows/s and peak memory (not a timed test).

    .venv/bin/python benchmarks/bench_mockgen.py                    # both benchmarks, default sizes
    .venv/bin/python benchmarks/bench_mockgen.py --customers 1000000 --transactions 10000000

1. customers: generation only (vectorised spec -> pyarrow tables, no CSV) of --customers rows, in
   the production part size. Target: >= 500k rows/s at 1M rows (25x the seed's ~20k/s per-row Faker).
2. end to end: ``generate`` of products + customers + accounts + transactions to a local temporary
   directory (CSV encoding, landing and history copies included), in a child process so its peak
   RSS is measured alone. Target: 1M customers + 10M transactions in <= 60 s, peak RSS <= 2 GB.
3. same job (``--only same-job``): the source document's row-by-row generator
   (benchmarks/seed_reference.py: per-attribute ``random``/Faker calls, a pandas DataFrame,
   ``to_csv``, the file copied to landing and history) against ours (``generate`` of customers
   only: CSV parts, landing and history copies, manifest), each a whole process started from the
   interpreter (imports included), same customers count, both to a local folder. Prints both wall
   clocks, CPU (user + sys) and the ratio. Target: ours >= 15x faster on 1M customers (wall).
   The reference takes about two minutes per million customers: ``--reference-rows`` times it on
   fewer and scales linearly (its cost per row is constant), saying so.
4. landing (``--only landing``): the end-to-end run of 2. to a local folder, then to a private
   Azurite over HTTP (the pipeline's path). Target: Azurite within 1.5x of the local folder.

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


def bench_end_to_end(customers: int, transactions: int, store: str = "local") -> dict:
    """``store`` local: a temporary folder; azurite: a private Azurite process (own port and data
    folder) reached over HTTP like the pipeline's landing; a child of this process, so its CPU is in
    the children's rusage once it is stopped."""
    target = tempfile.mkdtemp(prefix="bench_mockgen_")
    azurite = None
    try:
        if store == "azurite":
            from tests.conftest import AzuriteProcess, _free_port
            azurite = AzuriteProcess(Path(target) / "azurite", _free_port())
            azurite.start()
            destination = azurite.connection_string
        else:
            destination = target
        started = time.perf_counter()
        proc = subprocess.run([sys.executable, __file__, "--child", str(customers), str(transactions), destination],
                              capture_output=True, text=True, check=True)
        wall = time.perf_counter() - started
        # ru_maxrss of RUSAGE_CHILDREN: the largest child's peak RSS (KiB on Linux)
        usage = resource.getrusage(resource.RUSAGE_CHILDREN)
        peak_mib = usage.ru_maxrss / 1024
        landed = json.loads(proc.stdout.strip().splitlines()[-1])
        rows = sum(v["rows"] for v in landed.values() if isinstance(v, dict))
        return {"wall_seconds": round(wall, 1), "generate_seconds": landed.pop("seconds"), "rows": rows,
                "rows_per_s": round(rows / wall), "peak_rss_mib": round(peak_mib), "landed": landed,
                "cpu_user": round(usage.ru_utime, 1), "cpu_sys": round(usage.ru_stime, 1),
                "load": os.getloadavg()[0]}
    finally:
        if azurite is not None:
            azurite.stop()
        shutil.rmtree(target, ignore_errors=True)


def _timed_process(argv: list[str]) -> dict:
    """Wall clock and CPU of one child process (os.wait4 gives that child's own rusage)."""
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - started
    out, err = proc.stdout.read(), proc.stderr.read()
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode:
        raise RuntimeError(f"{argv[1]} failed (exit {proc.returncode}): {err[-2000:]}")
    return {"wall": wall, "user": usage.ru_utime, "sys": usage.ru_stime, "peak_rss_mib": usage.ru_maxrss / 1024,
            "stdout": out}


def _child_same_job(customers: int, target: str) -> None:
    from include.mockgen.landing import Lander, open_store
    from include.mockgen.runner import generate
    summary = generate(Lander(open_store(target)), LOGICAL_DATE, customers=customers, entities=["customers"])
    print(json.dumps({"rows": summary.landed["customers"].rows, "bytes": summary.landed["customers"].bytes}))


def bench_same_job(customers: int, reference_rows: int | None) -> dict:
    ref_rows = reference_rows or customers
    with tempfile.TemporaryDirectory(prefix="bench_same_job_") as tmp:
        ours = _timed_process([sys.executable, __file__, "--child-same-job", str(customers), f"{tmp}/ours"])
        ref = _timed_process([sys.executable, str(ROOT / "benchmarks" / "seed_reference.py"), str(ref_rows),
                              f"{tmp}/reference"])
    scale = customers / ref_rows
    ours["landed"] = json.loads(ours.pop("stdout").strip().splitlines()[-1])
    *_, ref["writer"], size = ref.pop("stdout").strip().splitlines()
    ref["bytes"] = int(size)
    return {"ours": ours, "reference": ref, "scale": scale,
            "ratio_wall": ref["wall"] * scale / ours["wall"],
            "ratio_cpu": (ref["user"] + ref["sys"]) * scale / (ours["user"] + ours["sys"])}


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        _child_end_to_end(int(sys.argv[2]), int(sys.argv[3]), sys.argv[4])
        return 0
    if len(sys.argv) > 1 and sys.argv[1] == "--child-same-job":
        _child_same_job(int(sys.argv[2]), sys.argv[3])
        return 0
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--transactions", type=int, default=10_000_000)
    parser.add_argument("--only", choices=("customers", "end-to-end", "same-job", "landing"))
    parser.add_argument("--reference-rows", type=int, help="same job: time the reference on this many customers "
                        "and scale to --customers (default: the same number)")
    args = parser.parse_args()
    print(f"cpus {os.cpu_count()}, load average before {os.getloadavg()}")
    if args.only == "landing":
        # separate processes one after the other: RUSAGE_CHILDREN accumulates, so each figure is a delta
        runs = {}
        for store in ("local", "azurite"):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            r = bench_end_to_end(args.customers, args.transactions, store)
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            r["cpu_user"], r["cpu_sys"] = after.ru_utime - before.ru_utime, after.ru_stime - before.ru_stime
            runs[store] = r
            print(f"landing {r['rows']:,} rows to {'a local folder' if store == 'local' else 'Azurite (HTTP)'}: "
                  f"{r['wall_seconds']} s wall, CPU user {r['cpu_user']:.1f} s + sys {r['cpu_sys']:.1f} s "
                  f"(the generator's process{', and Azurite' if store == 'azurite' else ''}), load average {r['load']:.2f}",
                  flush=True)
        ratio = runs["azurite"]["wall_seconds"] / runs["local"]["wall_seconds"]
        print(f"Azurite / local folder: {ratio:.2f}x wall (target <= 1.5x)")
        print(f"load average after {os.getloadavg()}")
        return 0
    if args.only == "same-job":
        r = bench_same_job(args.customers, args.reference_rows)
        o, ref = r["ours"], r["reference"]
        scaled = f" (timed on {round(args.customers / r['scale']):,}, scaled x{r['scale']:g})" if r["scale"] != 1 else ""
        print(f"same job, {args.customers:,} customers as CSV to a local folder, landing + history, whole processes:")
        print(f"  reference (row by row, {ref['writer']}){scaled}: {ref['wall'] * r['scale']:.1f} s wall, "
              f"CPU user {ref['user'] * r['scale']:.1f} s + sys {ref['sys'] * r['scale']:.1f} s, "
              f"{ref['bytes'] * r['scale'] / 1e6:,.0f} MB, peak RSS {ref['peak_rss_mib']:,.0f} MiB")
        print(f"  ours (include/mockgen generate customers): {o['wall']:.1f} s wall, CPU user {o['user']:.1f} s + "
              f"sys {o['sys']:.1f} s, {o['landed']['bytes'] / 1e6:,.0f} MB, peak RSS {o['peak_rss_mib']:,.0f} MiB")
        print(f"  ours is {r['ratio_wall']:.1f}x faster wall clock, {r['ratio_cpu']:.1f}x in CPU seconds "
              f"(target >= 15x wall)")
        print(f"load average after {os.getloadavg()}")
        return 0
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
