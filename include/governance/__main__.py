"""Command line: ``python -m include.governance {validate,decide,apply-views} ...``.

Errors print one line to stderr and exit 1 (no traceback): they are configuration problems.
"""
from __future__ import annotations

import argparse
import json
import sys

from include.governance.engine import decide
from include.governance.errors import GovernanceError
from include.governance.manifest import all_column_tags, load_manifest, model_columns
from include.governance.policy import POLICIES_DIR, load_policy_set
from include.governance.views import DEFAULT_MODEL, apply_role_views, default_db_path


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m include.governance",
                                     description="Masking policies, policy engine and role views of the customer data product.")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--manifest", help="dbt manifest.json (default: dbt_project/target/manifest.json, "
                                           "written by dbt parse if missing)")
    common.add_argument("--policies", default=str(POLICIES_DIR), help="folder of policy YAML (default: %(default)s)")
    common.add_argument("--model", default=None,
                        help=f"dbt model (default: apply-views every governed model, decide {DEFAULT_MODEL})")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("validate", parents=[common], help="load and validate the policies against the dbt column tags")
    dec = sub.add_parser("decide", parents=[common], help="each tagged column's treatment for a set of user tags")
    dec.add_argument("--role", action="append", default=[], metavar="TAG",
                     help="a user tag such as roles:id:pii-reader (repeatable; none = a user without roles)")
    app = sub.add_parser("apply-views", parents=[common], help="create or replace the role views in DuckDB")
    app.add_argument("--db", default=None, help=f"DuckDB file (default: $FSDP_DUCKDB_PATH or {default_db_path()})")
    app.add_argument("--dry-run", action="store_true", help="print the SQL, change nothing")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        if args.command == "apply-views":
            summary = apply_role_views(args.db, args.manifest, model=args.model, policies_dir=args.policies,
                                       dry_run=args.dry_run)
            if args.dry_run:
                print(";\n\n".join(summary["sql"]) + ";")
            else:
                print(json.dumps(summary, indent=2))
            return 0
        manifest = load_manifest(args.manifest)
        source = model_columns(manifest, args.model or DEFAULT_MODEL)
        policy_set = load_policy_set(all_column_tags(manifest), args.policies)
        if args.command == "validate":
            for p in policy_set.policies:
                print(f"{p.name}: priority {p.priority}, users {sorted(p.user_tags)}, "
                      f"columns {sorted(p.column_tags)} -> {p.treatment.describe()}")
            print("defaults: " + ", ".join(f"{t} -> {tr.describe()}" for t, tr in sorted(policy_set.defaults.items())))
            print(f"ok: {len(policy_set.policies)} policies, {len(policy_set.roles)} roles")
        else:
            tagged = {c: tags for c, tags in source.column_tags.items() if tags}
            for col, d in decide(policy_set, args.role, tagged).items():
                print(f"{col}\t{d.treatment.describe()}\t{d.reason}")
        return 0
    except GovernanceError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
