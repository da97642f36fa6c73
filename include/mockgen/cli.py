"""Command line: ``python -m include.mockgen <command> ...``.

Commands:
  generate  land chosen entities with explicit sizes (tests, benchmarks, demos)
  daily     land what one pipeline day needs (initial load, or updates + the day's transactions)
  update    land a new version of one customer (the seed's update tool, parameterised)

Errors (bad arguments, unknown ids, invalid values, storage) print one line on stderr and exit 2
(storage: 1), never a traceback.
"""
from __future__ import annotations

import argparse
import sys
from datetime import date

from include.mockgen.runner import ENTITY_ORDER, daily, generate, update_one
from include.mockgen.updates import UPDATE_FRACTION, UpdateError

EXIT_USAGE, EXIT_STORAGE = 2, 1


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of printing usage and exiting: main prints one line."""

    def error(self, message):
        raise UsageError(message)


class UsageError(Exception):
    pass


def _date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid date {text!r}: expected YYYY-MM-DD") from None


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}: expected a whole number") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"invalid count {text!r}: must not be negative")
    return value


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid fraction {text!r}") from None
    if not 0 <= value <= 1:
        raise argparse.ArgumentTypeError(f"invalid fraction {text!r}: must be between 0 and 1")
    return value


def _rate(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"invalid rate {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"invalid rate {text!r}: must not be negative")
    return value


def _entities(text: str) -> list[str]:
    names = [x.strip() for x in text.split(",") if x.strip()]
    bad = [x for x in names if x not in ENTITY_ORDER]
    if bad or not names:
        raise argparse.ArgumentTypeError(f"unknown entity {bad[0] if bad else text!r}; choose from {','.join(ENTITY_ORDER)}")
    return names


def _assignment(text: str) -> tuple[str, str]:
    column, sep, value = text.partition("=")
    if not sep or not column.strip():
        raise argparse.ArgumentTypeError(f"invalid --set {text!r}: expected column=value")
    return column.strip(), value


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m include.mockgen", description="Mock data for the customer data product.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    def common(p):
        p.add_argument("--date", type=_date, required=True, help="logical date, YYYY-MM-DD")
        p.add_argument("--seed", type=_count, default=42, help="random seed (default 42)")
        p.add_argument("--target", default=None,
                       help="a local directory (or file:///dir); default: AZURE_STORAGE_CONNECTION_STRING or Azurite")
        p.add_argument("--quiet", action="store_true", help="no progress bar")

    g = sub.add_parser("generate", help="land chosen entities with explicit sizes")
    common(g)
    g.add_argument("--entities", type=_entities, default=list(ENTITY_ORDER),
                   help=f"comma-separated, default {','.join(ENTITY_ORDER)}")
    g.add_argument("--customers", type=_count, default=10_000, help="customers (default 10000)")
    g.add_argument("--transactions", type=_count, default=None, help="transactions of the day (default 10 per customer)")
    g.add_argument("--bad-rows", type=_count, default=0, help="extra deliberately bad rows per entity (customers, transactions)")

    d = sub.add_parser("daily", help="land one pipeline day: initial load or updates + transactions")
    common(d)
    d.add_argument("--customers", type=_count, default=10_000, help="customers of the initial load (default 10000)")
    d.add_argument("--update-fraction", type=_fraction, default=UPDATE_FRACTION,
                   help=f"share of customers updated per day (default {UPDATE_FRACTION})")
    d.add_argument("--txn-rate", type=_rate, default=1.0, help="transactions per active account per day (default 1)")
    d.add_argument("--bad-rows", type=_count, default=0, help="extra deliberately bad rows per entity")

    u = sub.add_parser("update", help="land a new version of one customer")
    common(u)
    u.add_argument("--cust-id", required=True, help="10-digit customer id")
    u.add_argument("--set", dest="changes", type=_assignment, action="append", default=[], metavar="COLUMN=VALUE",
                   help="attribute to change (repeatable); columns: the seed update tool's list for the customer's type")
    return parser


def main(argv: list[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    from include.mockgen.landing import Lander, StorageError, open_store
    try:
        lander = Lander(open_store(args.target))
        show = not args.quiet and sys.stderr.isatty()
        if args.command == "generate":
            summary = generate(lander, args.date, seed=args.seed, customers=args.customers,
                               transactions=args.transactions, entities=args.entities, bad_rows=args.bad_rows,
                               progress=show)
        elif args.command == "daily":
            summary = daily(lander, args.date, seed=args.seed, customers=args.customers,
                            update_fraction=args.update_fraction, txn_rate=args.txn_rate, bad_rows=args.bad_rows,
                            progress=show)
        else:
            changes = dict(args.changes)
            if len(changes) != len(args.changes):
                raise UpdateError("a column is given twice in --set")
            summary = update_one(lander, args.date, args.cust_id, changes, seed=args.seed)
    except (UpdateError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (StorageError, OSError) as exc:
        print(f"error: storage: {exc}", file=sys.stderr)
        return EXIT_STORAGE
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    print("\n".join(summary.lines()))
    return 0
