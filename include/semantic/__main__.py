"""python -m include.semantic catalog | query | saved-query: the semantic layer from the shell.

Prints JSON (rows keyed by member name); errors are one line on stderr with exit code 2 (a bad
query) or 1 (a missing warehouse or manifest).
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from include.semantic.errors import SemanticError


def _parser() -> argparse.ArgumentParser:
    root = Path(__file__).resolve().parents[2]
    default_db = os.environ.get("FSDP_DUCKDB_PATH") or str(root / ".local" / "warehouse" / "fsdp.duckdb")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--db", default=default_db, help="DuckDB file (default: %(default)s)")
    common.add_argument("--semantic-manifest", default=None, help="target/semantic_manifest.json of dbt parse")
    common.add_argument("--role", default=None, help="governance view schema, e.g. role_public")
    parser = argparse.ArgumentParser(prog="python -m include.semantic", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("catalog", parents=[common], help="logical tables with their members")
    q = sub.add_parser("query", parents=[common], help="run a query")
    q.add_argument("--measure", action="append", default=[], help="e.g. transactions.debit_to_credit_ratio")
    q.add_argument("--dimension", action="append", default=[], help="e.g. customers.zone")
    q.add_argument("--time", action="append", default=[], metavar="MEMBER:GRAIN",
                   help="time dimension and granularity, e.g. transactions.txn_ts:month")
    q.add_argument("--filter", action="append", default=[], metavar="MEMBER:OPERATOR:V1,V2",
                   help="e.g. customers.zone:equals:North")
    q.add_argument("--order", action="append", default=[], metavar="MEMBER[:desc]")
    q.add_argument("--limit", type=int, default=None)
    q.add_argument("--offset", type=int, default=0)
    q.add_argument("--json", default=None, help="a Cube-style query body (JSON) instead of the options")
    q.add_argument("--sql", action="store_true", help="print the compiled SQL instead of running it")
    s = sub.add_parser("saved-query", parents=[common], help="run a saved query (a dashboard chart, an API)")
    s.add_argument("name", nargs="?", help="omit to list the saved queries")
    s.add_argument("--sql", action="store_true")
    return parser


def _query(args):
    from include.semantic.query import Query

    if args.json:
        return Query.from_dict(json.loads(args.json))
    times = []
    for item in args.time:
        member, _, grain = item.partition(":")
        times.append({"dimension": member, "granularity": grain or "day"})
    filters = []
    for item in args.filter:
        parts = item.split(":", 2)
        if len(parts) < 2:
            raise SemanticError(f"--filter {item!r}: expected MEMBER:OPERATOR[:VALUES]")
        values = parts[2].split(",") if len(parts) == 3 and parts[2] != "" else []
        filters.append({"member": parts[0], "operator": parts[1], "values": values})
    order = [(o.split(":")[0], (o.split(":") + ["asc"])[1]) for o in args.order]
    return Query(measures=args.measure, dimensions=args.dimension, time_dimensions=times, filters=filters,
                 order=order, limit=args.limit, offset=args.offset)


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from include.semantic.layer import SemanticLayer
    from include.semantic.query import json_value

    try:
        with SemanticLayer(args.db, args.semantic_manifest) as sl:
            if args.command == "catalog":
                out = sl.catalog().as_dict()
            else:
                if args.command == "saved-query":
                    if not args.name:
                        print(json.dumps(sl.catalog().as_dict()["saved_queries"], indent=2))
                        return 0
                    query = sl.saved_query(args.name)
                else:
                    query = _query(args)
                if args.sql:
                    compiled = sl.compile(query, role=args.role)
                    print(compiled.sql)
                    print("-- parameters: " + json.dumps({k: json_value(v) for k, v in compiled.parameters.items()}))
                    return 0
                result = sl.run(query, role=args.role)
                out = {"columns": [{"name": n, "type": t} for n, t in result.columns],
                       "rows": [{k: json_value(v) for k, v in r.items()} for r in result.rows],
                       "seconds": round(result.seconds, 4)}
    except json.JSONDecodeError as exc:
        print(f"error: --json is not JSON: {exc}", file=sys.stderr)
        return 2
    except SemanticError as exc:
        missing = "not found" in str(exc)
        print(f"error: {exc}", file=sys.stderr)
        return 1 if missing else 2
    print(json.dumps(out, indent=2, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
