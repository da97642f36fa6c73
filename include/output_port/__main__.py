"""``python -m include.output_port status|verify|publish``: the output port from the command line.

    status            per port and table: the published version and whether it matches the warehouse
    verify [--content]  the same, exit 1 on any difference; --content downloads and checks every file
    publish           reconcile and publish now (what the DAG's publish_output_port task does); take
                      the run lock first (scripts/run.sh does), nothing else may write the warehouse
"""
from __future__ import annotations

import argparse
import json
import logging
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.output_port", description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["status", "verify", "publish"])
    parser.add_argument("--content", action="store_true", help="verify: download and check every file")
    parser.add_argument("--db", default=None, help="DuckDB file (default FSDP_DUCKDB_PATH)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    logging.getLogger("azure").setLevel(logging.WARNING)
    from include.output_port import publish, status

    if args.command == "publish":
        print(json.dumps(publish(args.db, run_id="manual-cli"), indent=1, default=str))
        return 0
    result = status(args.db, content=args.content)
    bad = 0
    for port, tables in result.items():
        for table, st in tables.items():
            problems = st["problems"]
            bad += bool(problems)
            state = "in sync" if not problems else "DIFFERS: " + "; ".join(problems[:3])
            print(f"{port:<14} {table:<24} version {st.get('version') or '-':<32} {state}")
    return 1 if bad and args.command == "verify" else 0


if __name__ == "__main__":
    sys.exit(main())
