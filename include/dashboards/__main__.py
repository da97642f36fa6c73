"""Command line of the dashboards (run with .venv-superset/bin/python, the embedded environment exported):

    python -m include.dashboards user create --username ana --group analyst --claim zone=North [--password P]
    python -m include.dashboards user apply --file users.yml    # many users in one go (one app start)
    python -m include.dashboards user list
    python -m include.dashboards export [--dir DIR]     # the UI's dashboards as an import tree (to review
                                                        # and copy into include/dashboards/assets)

A user holds the role of one user group (``group:<name>``, user_groups.yml) and a role per claim
value (``zone:North``) that the group's segments use. Without ``--password`` a random one is
generated and printed once.
"""
from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path

from include.dashboards import access


def _app():
    from superset.app import create_app

    return create_app()


def user_create(args) -> int:
    print(json.dumps(_upsert_user(args.username, args.group, args.claim or [], args.password, args.email,
                                  args.first_name, args.last_name)))
    return 0


def user_apply(args) -> int:
    """Users from a YAML list: [{username, group, claims: {zone: North}, password}, ...]."""
    import yaml

    for spec in yaml.safe_load(Path(args.file).read_text()) or []:
        claims = [f"{k}={v}" for k, v in (spec.get("claims") or {}).items()]
        print(json.dumps(_upsert_user(spec["username"], spec["group"], claims, spec.get("password"),
                                      spec.get("email"), spec.get("first_name"), spec.get("last_name"))))
    return 0


def _upsert_user(username, group, claims, password, email=None, first_name=None, last_name=None) -> dict:
    from superset import security_manager
    from superset.extensions import db

    roles = [access.GROUP_ROLE.format(group)]
    for claim in claims:
        name, _, value = claim.partition("=")
        if not name or not value:
            raise SystemExit(f"--claim {claim!r}: expected NAME=VALUE (e.g. zone=North)")
        roles.append(access.CLAIM_ROLE.format(name, value))
    found = []
    for name in roles:
        role = security_manager.find_role(name)
        if role is None:
            raise SystemExit(f"no Superset role {name}: groups come from user_groups.yml, claim roles from the "
                             "values in the serving copy (scripts/dashboards.sh creates them)")
        found.append(role)
    generated = not password
    password = password or secrets.token_urlsafe(12)
    user = security_manager.find_user(username=username)
    if user is None:
        user = security_manager.add_user(username, first_name or username, last_name or group,
                                         email or f"{username}@localhost", found, password=password)
        if not user:
            raise SystemExit(f"could not create user {username}")
    else:
        user.roles = found
        security_manager.reset_password(user.id, password)
    db.session.commit()
    return {"username": username, "roles": roles, **({"password": password} if generated else {})}


def user_list(args) -> int:
    from superset import security_manager

    for user in security_manager.get_all_users():
        print(json.dumps({"username": user.username, "roles": sorted(r.name for r in user.roles)}))
    return 0


def export(args) -> int:
    import zipfile
    from io import BytesIO

    from flask import g
    from superset import security_manager
    from superset.commands.dashboard.export import ExportDashboardsCommand
    from superset.extensions import db
    from superset.models.dashboard import Dashboard

    from include.dashboards.bootstrap import admin_user

    g.user = security_manager.find_user(username=admin_user())
    ids = [d.id for d in db.session.query(Dashboard).all()]
    out = Path(args.dir)
    buf = BytesIO()
    with zipfile.ZipFile(buf, "w") as bundle:
        for name, content in ExportDashboardsCommand(ids).run():
            bundle.writestr(name, content())
    with zipfile.ZipFile(buf) as bundle:
        for name in bundle.namelist():
            rel = Path(*Path(name).parts[1:])
            (out / rel).parent.mkdir(parents=True, exist_ok=True)
            (out / rel).write_bytes(bundle.read(name))
    print(f"exported {len(ids)} dashboards to {out}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.dashboards", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    user = sub.add_parser("user").add_subparsers(dest="action", required=True)
    create = user.add_parser("create")
    create.add_argument("--username", required=True)
    create.add_argument("--group", required=True, help="a user group of user_groups.yml")
    create.add_argument("--claim", action="append", help="NAME=VALUE, e.g. zone=North (repeatable)")
    create.add_argument("--password")
    create.add_argument("--email")
    create.add_argument("--first-name")
    create.add_argument("--last-name")
    create.set_defaults(func=user_create)
    apply = user.add_parser("apply")
    apply.add_argument("--file", required=True, help="YAML list of {username, group, claims, password}")
    apply.set_defaults(func=user_apply)
    user.add_parser("list").set_defaults(func=user_list)
    exp = sub.add_parser("export")
    exp.add_argument("--dir", default="exported-dashboards")
    exp.set_defaults(func=export)
    args = parser.parse_args(argv)
    with _app().app_context():
        return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
