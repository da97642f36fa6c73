"""Command line of the data API.

    python -m include.api serve [--host 127.0.0.1] [--port 8000] [--workers 1]
    python -m include.api token --group analyst [--sub alice] [--claim zone=North] [--ttl 3600]
    python -m include.api apikey create --group viewer --name mobile-app [--attr zone=North]
    python -m include.api apikey list | apikey revoke <id>
    python -m include.api usage [--since 2026-12-01]     # calls per group and endpoint, refusals, p50/p99
    python -m include.api audit-table [--days 31]        # the trail into audit.duckdb (governance dashboard)
    python -m include.api describe                       # the API as JSON (catalog push, docs)
    python -m include.api check                          # validate user_groups.yml and the API files
"""
from __future__ import annotations

import argparse
import json
import sys


def _pairs(items: list[str] | None) -> dict:
    out = {}
    for item in items or []:
        key, sep, value = item.partition("=")
        if not sep or not key:
            raise SystemExit(f"expected NAME=VALUE, got {item!r}")
        out[key] = value
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.api", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the service with uvicorn")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=1,
                       help="more than 1 needs FSDP_API_RATE_LIMIT_STORAGE=redis://... (shared counters)")
    serve.add_argument("--forwarded-allow-ips", default=None,
                       help="proxies whose X-Forwarded-For is trusted for the client address (default: none)")
    token = sub.add_parser("token", help="mint an HS256 token with FSDP_API_JWT_SECRET")
    token.add_argument("--group", required=True)
    token.add_argument("--sub", default=None, help="subject (default: <group>-user)")
    token.add_argument("--claim", action="append", help="extra claim NAME=VALUE (e.g. zone=North)")
    token.add_argument("--ttl", type=int, default=3600)
    key = sub.add_parser("apikey", help="create, list or revoke API keys")
    key_sub = key.add_subparsers(dest="action", required=True)
    create = key_sub.add_parser("create")
    create.add_argument("--group", required=True)
    create.add_argument("--name", required=True)
    create.add_argument("--attr", action="append", help="attribute NAME=VALUE the group's segments read")
    create.add_argument("--per-minute", type=int, default=None, help="own limit instead of the per-key default")
    key_sub.add_parser("list")
    revoke = key_sub.add_parser("revoke")
    revoke.add_argument("id")
    usage = sub.add_parser("usage", help="usage report from the audit trail")
    usage.add_argument("--since", default=None)
    usage.add_argument("--json", action="store_true")
    fold = sub.add_parser("audit-table", help="fold the audit trail into audit.duckdb (the governance dashboard's table)")
    fold.add_argument("--days", type=int, default=None, help="UTC days of the trail to fold (default 31)")
    sub.add_parser("describe", help="the API (endpoints, parameters, schemas) as JSON")
    sub.add_parser("check", help="validate user_groups.yml and the API definition files")
    args = parser.parse_args(argv)

    from include.api.settings import ApiSettings

    if args.command == "serve":
        import uvicorn

        if args.workers > 1 and not ApiSettings.from_env().rate_limit_storage.startswith("redis"):
            print("several workers need shared rate-limit counters: set FSDP_API_RATE_LIMIT_STORAGE=redis://...",
                  file=sys.stderr)
            return 2
        uvicorn.run("include.api.server:app", host=args.host, port=args.port, workers=args.workers,
                    proxy_headers=args.forwarded_allow_ips is not None,
                    forwarded_allow_ips=args.forwarded_allow_ips or "", access_log=False, log_level="info")
        return 0
    if args.command == "token":
        from include.api.auth import mint_token
        from include.api.groups import load

        settings = ApiSettings.from_env()
        if not settings.jwt_secret:
            print("FSDP_API_JWT_SECRET is not set (scripts/api.sh creates one in .local/api/jwt_secret)", file=sys.stderr)
            return 2
        if load(settings.user_groups).get(args.group) is None:
            print(f"unknown group {args.group!r}", file=sys.stderr)
            return 2
        print(mint_token(settings.jwt_secret, args.sub or f"{args.group}-user", args.group, args.ttl, **_pairs(args.claim)))
        return 0
    if args.command == "apikey":
        from include.api.auth import ApiKeyStore
        from include.api.groups import load

        settings = ApiSettings.from_env()
        store = ApiKeyStore(settings.api_keys_file)
        if args.action == "create":
            if load(settings.user_groups).get(args.group) is None:
                print(f"unknown group {args.group!r}", file=sys.stderr)
                return 2
            limits = {"requestsPerMinute": args.per_minute} if args.per_minute else None
            print(store.create(args.group, args.name, _pairs(args.attr), limits))
            print("(shown once: only its SHA-256 is stored in " + str(settings.api_keys_file) + ")", file=sys.stderr)
        elif args.action == "list":
            print(json.dumps(store.list(), indent=2))
        else:
            if not store.revoke(args.id):
                print(f"no API key {args.id}", file=sys.stderr)
                return 1
        return 0
    if args.command == "usage":
        from include.api.audit import format_report, usage_report

        report = usage_report(ApiSettings.from_env().audit_dir, args.since)
        print(json.dumps(report, indent=2, default=str) if args.json else format_report(report))
        return 0
    if args.command == "audit-table":
        from include.api.audit_table import DEFAULT_WINDOW_DAYS, fold

        res = fold(ApiSettings.from_env().audit_dir, window_days=args.days or DEFAULT_WINDOW_DAYS)
        print(json.dumps(res.as_dict(), indent=2))
        if res.rejected:
            print(f"{len(res.rejected)} malformed audit line(s): see audit_rejects in {res.path}", file=sys.stderr)
            return 1
        return 0
    if args.command == "describe":
        from include.api.describe import describe

        print(json.dumps(describe(ApiSettings.from_env()), indent=2))
        return 0
    if args.command == "check":
        from include.api.groups import load
        from include.api.sqlapis import load_definitions

        settings = ApiSettings.from_env()
        groups = load(settings.user_groups)
        apis = load_definitions(settings.apis_dir, groups.defaults.max_rows, set(groups.groups))
        print(f"ok: {len(groups.groups)} groups ({', '.join(groups.groups)}), {len(apis)} APIs from files "
              f"({', '.join(a.url_path for a in apis)})")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
