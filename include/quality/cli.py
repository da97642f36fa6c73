"""``python -m include.quality``: run the quality gate, print profiles, show quality over time.

    python -m include.quality check --date 2026-01-05            # checks + profiles, recorded; exit 1 on failure
    python -m include.quality check --date 2026-01-05 --seed-filter   # plus the seed's filtered profile
    python -m include.quality profile --table customer_overview_dp --segment Semi --country "United States" \
        --occupation Salaried --city Chicago                     # print a profile, record nothing
    python -m include.quality history --dataset customer_overview_dp --check cust_id_unique
"""
from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

from include.quality import gate, history, profiles

FILTER_FLAGS = (("segment", "cust_segment"), ("country", "country"), ("occupation", "occupation"), ("city", "city"))


def _filter(args) -> dict[str, str] | None:
    row_filter = dict(profiles.SEED_PROFILE_FILTER) if getattr(args, "seed_filter", False) else {}
    for flag, column in FILTER_FLAGS:
        value = getattr(args, flag, None)
        if value is not None:
            row_filter[column] = value
    return row_filter or None


def _add_filter_flags(p: argparse.ArgumentParser) -> None:
    g = p.add_argument_group("filtered profile (the seed's: --segment Semi --country 'United States' "
                             "--occupation Salaried --city Chicago)")
    g.add_argument("--seed-filter", action="store_true", help="use the seed's filter (all four values above)")
    for flag, column in FILTER_FLAGS:
        g.add_argument(f"--{flag}", help=f"{column} equals this value" + (" (Semi means Semi-Urban)" if flag == "segment" else ""))


def _db(args) -> Path:
    from include.pipeline import settings

    return Path(args.db) if args.db else settings.duckdb_path()


def cmd_check(args) -> int:
    day = date.fromisoformat(args.date)
    result = gate.run_quality(_db(args), args.run_id or f"manual__{day.isoformat()}", day, args.out,
                              tables=args.tables or gate.PRODUCT_TABLES, profile=not args.no_profile,
                              profile_filter=_filter(args), record=not args.no_record)
    for c in result.checks:
        if c.outcome != "pass" or args.verbose:
            value = "" if c.value is None else f" (value {c.value:g})"
            print(f"  {c.outcome.upper():5} {c.qualified_name}{value}")
    for e in result.scan_errors:
        print(f"  SCAN ERROR {e.splitlines()[0]}")
    print(result.summary())
    print(f"results: {result.json_path}")
    return 0 if result.ok else 1


def cmd_profile(args) -> int:
    import duckdb

    con = duckdb.connect(str(_db(args)), read_only=True)
    try:
        con.execute(f"set schema = '{gate.PRODUCT_SCHEMA}'")
        rows = profiles.profile_table(con, args.table, _filter(args))
    finally:
        con.close()
    if args.json:
        print(json.dumps([r.as_dict() for r in rows], indent=2, default=str))
        return 0
    head = rows[0]
    print(f"{head.dataset}: {head.row_count} rows" + (f" where {head.row_filter}" if head.row_filter else ""))
    print(f"{'column':<26}{'type':<15}{'null %':>8}{'distinct':>10}  min .. max / mean  top")
    for r in rows:
        rng = f"{r.min} .. {r.max}" if r.min is not None else (
            f"len {r.min_length}..{r.max_length}" if r.min_length is not None else "")
        if r.mean is not None:
            rng += f" / {r.mean:.2f}"
        top = ", ".join(f"{t['value']}={t['count']}" for t in r.top_values[:3])
        null_pct = "" if r.null_pct is None else f"{r.null_pct:.1f}"
        print(f"{r.column_name:<26}{r.data_type:<15}{null_pct:>8}{r.distinct_count:>10}  {rng}  {top}")
    return 0


def cmd_history(args) -> int:
    import duckdb

    con = duckdb.connect(str(_db(args)), read_only=True)
    try:
        rows = history.check_history(con, args.dataset, args.check, args.limit)
    except duckdb.CatalogException:
        print("no quality history yet (run: python -m include.quality check --date YYYY-MM-DD)")
        return 0
    finally:
        con.close()
    for day, run_id, dataset, check, outcome, value in rows:
        print(f"{day}  {outcome:5}  {dataset}.{check}  {'' if value is None else f'{value:g}'}  ({run_id})")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m include.quality", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--db", help="DuckDB file (default: FSDP_DUCKDB_PATH or .local/warehouse/fsdp.duckdb)")

    c = sub.add_parser("check", help="run the SodaCL checks and profiles of the product tables for a date")
    common(c)
    c.add_argument("--date", required=True, help="logical date, YYYY-MM-DD")
    c.add_argument("--run-id", help="run id recorded in the history (default manual__<date>)")
    c.add_argument("--out", help="directory of the JSON results (default: FSDP_REPORTS_DIR/quality)")
    c.add_argument("--tables", nargs="+", choices=gate.PRODUCT_TABLES, help="only these product tables")
    c.add_argument("--no-profile", action="store_true", help="checks only")
    c.add_argument("--no-record", action="store_true", help="do not write the quality.* history tables")
    c.add_argument("-v", "--verbose", action="store_true", help="list passed checks too")
    _add_filter_flags(c)
    c.set_defaults(fn=cmd_check)

    p = sub.add_parser("profile", help="print a column profile of one product table (records nothing)")
    common(p)
    p.add_argument("--table", default="customer_overview_dp", choices=gate.PRODUCT_TABLES)
    p.add_argument("--json", action="store_true")
    _add_filter_flags(p)
    p.set_defaults(fn=cmd_profile)

    h = sub.add_parser("history", help="check outcomes over time, newest first")
    common(h)
    h.add_argument("--dataset", choices=gate.PRODUCT_TABLES)
    h.add_argument("--check", help="check name, e.g. cust_id_unique")
    h.add_argument("--limit", type=int, default=50)
    h.set_defaults(fn=cmd_history)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.fn(args)
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
