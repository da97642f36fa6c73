"""Prepare Superset before its web server starts (runs in .venv-superset, SUPERSET_CONFIG_PATH set):

    python -m include.dashboards.bootstrap [--assets DIR] [--groups FILE]

1. metadata DB migrated (Alembic; a no-op when it is current), Superset's roles synced once per
   Superset version;
2. the admin user (FSDP_SUPERSET_ADMIN_USER, password SUPERSET_ADMIN_PASSWORD) created, or its
   password reset to the environment's;
3. the dashboards-as-code tree imported with overwrite (idempotent: UUIDs identify every object),
   and every object an earlier import created that the tree no longer holds deleted, so git is
   what the UI shows;
4. roles and row-level security regenerated from user_groups.yml (include.dashboards.access).

One process for all of it: each Superset CLI command builds the whole app (10-30 s on a busy machine).
Prints one JSON line with what it did.
"""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from include.dashboards import access, assets as assets_mod, serving

log = logging.getLogger("fsdp.dashboards")
ROOT = Path(__file__).resolve().parents[2]
GROUPS_FILE = ROOT / "include" / "api" / "user_groups.yml"
MANAGED_URL = "include/dashboards/assets/"       # external_url prefix of the objects the tree manages
ADMIN_USER_DEFAULT = "admin"
# what Alpha holds beyond its datasets: every datasource and database
ALL_DATA_PERMISSIONS = {"all_datasource_access", "all_database_access"}


def admin_user() -> str:
    return os.environ.get("FSDP_SUPERSET_ADMIN_USER") or ADMIN_USER_DEFAULT


def _home() -> Path:
    return Path(os.environ.get("FSDP_SUPERSET_HOME") or ROOT / ".local" / "superset").resolve()


def migrate_and_init(app) -> bool:
    """Alembic upgrade; Superset's permission sync when this Superset version has not done it."""
    import hashlib
    from importlib.metadata import version

    import superset
    from flask_migrate import upgrade
    from superset import security_manager
    from superset.extensions import appbuilder

    upgrade(directory=str(Path(superset.__file__).parent / "migrations"))
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    marker = _home() / f".initialised-{version('apache-superset')}-{hashlib.sha256(uri.encode()).hexdigest()[:12]}"
    if marker.exists() and security_manager.find_role("Gamma") is not None:
        return False
    appbuilder.add_permissions(update_perms=True)
    security_manager.sync_role_definitions()
    from superset.extensions import db
    db.session.commit()
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.touch()
    return True


def ensure_admin() -> str:
    from superset import security_manager
    from superset.extensions import db

    password = os.environ.get("SUPERSET_ADMIN_PASSWORD") or ""
    if len(password) < 8:
        raise SystemExit("SUPERSET_ADMIN_PASSWORD must be set (8 characters or more); scripts/dashboards.sh "
                         "generates one into .local/superset/admin_password")
    name = admin_user()
    user = security_manager.find_user(username=name)
    if user is None:
        user = security_manager.add_user(name, "FSDP", "Admin", f"{name}@localhost", security_manager.find_role("Admin"),
                                         password=password)
        if not user:
            raise SystemExit(f"could not create the Superset admin user {name}")
        state = "created"
    else:
        security_manager.reset_password(user.id, password)
        state = "exists"
    db.session.commit()
    return state


def import_tree(tree: assets_mod.Assets) -> dict:
    """Import every object of the tree (overwrite) and delete managed objects no longer in it."""
    from flask import g
    from superset import security_manager
    from superset.commands.dashboard.importers.v1 import ImportDashboardsCommand
    from superset.extensions import db

    g.user = security_manager.find_user(username=admin_user())
    contents = {rel: _managed(rel, text) for rel, text in tree.contents().items()}
    ImportDashboardsCommand(contents, overwrite=True).run()
    db.session.commit()
    removed = _prune(tree)
    db.session.commit()
    return {"databases": len(tree.databases), "datasets": len(tree.datasets), "charts": len(tree.charts),
            "dashboards": len(tree.dashboards), "removed": removed}


def _managed(rel: str, text: str) -> str:
    """Mark an object as managed by the tree (Superset shows it as "managed externally")."""
    import yaml

    if rel == "metadata.yaml":
        return text
    body = yaml.safe_load(text)
    body["is_managed_externally"] = True
    body["external_url"] = MANAGED_URL + rel
    return yaml.safe_dump(body, sort_keys=False)


def _prune(tree: assets_mod.Assets) -> list[str]:
    from superset.connectors.sqla.models import SqlaTable
    from superset.extensions import db
    from superset.models.dashboard import Dashboard
    from superset.models.slice import Slice

    keep = tree.uuids()
    removed = []
    for model in (Dashboard, Slice, SqlaTable):
        for obj in db.session.query(model).filter(model.external_url.like(MANAGED_URL + "%")).all():
            if str(obj.uuid) not in keep:
                removed.append(f"{model.__name__}:{obj.external_url}")
                db.session.delete(obj)
    return removed


def tagged_columns() -> set[str]:
    """Governed column names (TW.* tags) of the current copy's dbt manifest; empty without a copy."""
    try:
        copy = serving.current_copy()
    except serving.NoServingCopy:
        return set()
    manifest = Path(copy["path"]).parent / "manifest.json"
    if not manifest.exists():
        return set()
    doc = json.loads(manifest.read_text())
    out = set()
    for node in doc.get("nodes", {}).values():
        for name, col in (node.get("columns") or {}).items():
            if any(str(t).startswith("TW.") for t in col.get("tags") or []):
                out.add(name.lower())
    return out


def claim_values(groups, datasets: list[access.Dataset]) -> dict[str, list]:
    """Values of every claim the segments use, read from the current serving copy (distinct values
    of the claimed member's column): one role per value. Empty without a copy."""
    import duckdb

    wanted: dict[str, str] = {}
    for group in groups.groups.values():
        for segment in group.segments:
            for f in segment.filters:
                for v in f.values:
                    if isinstance(v, dict):
                        wanted[v["claim"]] = f.member
    if not wanted:
        return {}
    try:
        path = serving.current_copy()["path"]
    except serving.NoServingCopy:
        return {claim: [] for claim in wanted}
    semantic = json.loads((Path(path).parent / "semantic_manifest.json").read_text())
    out = {}
    con = duckdb.connect(path, read_only=True, config=dict(serving.DUCKDB_CONFIG))
    try:
        for claim, member in wanted.items():
            table, name = member.split(".", 1)
            relation = _relation(semantic, table)
            dim = _dimension_expr(semantic, table, name)
            out[claim] = [r[0] for r in con.execute(
                f"select distinct {dim} from {relation} where {dim} is not null order by 1").fetchall()]
    finally:
        con.close()
    return out


def _relation(semantic: dict, table: str) -> str:
    for sm in semantic.get("semantic_models", []):
        if sm["name"] == table:
            rel = sm["node_relation"]
            return f'"{rel["schema_name"]}"."{rel["alias"]}"'
    raise SystemExit(f"user_groups.yml: segment member table {table} is not a semantic model")


def _dimension_expr(semantic: dict, table: str, name: str) -> str:
    for sm in semantic.get("semantic_models", []):
        if sm["name"] == table:
            for dim in sm.get("dimensions", []):
                if dim["name"] == name:
                    return dim.get("expr") or f'"{name}"'
    raise SystemExit(f"user_groups.yml: segment member {table}.{name} is not a dimension of the semantic model")


def sync_access(tree: assets_mod.Assets, groups_file: Path) -> dict:
    """Create/update the generated roles and replace every generated RLS filter."""
    from include.api.groups import load as load_groups
    from superset import security_manager
    from superset.connectors.sqla.models import RowLevelSecurityFilter, SqlaTable
    from superset.extensions import db
    from superset.utils.core import RowLevelSecurityFilterType

    groups = load_groups(groups_file)
    datasets = access.datasets_from_assets(tree)
    plan = access.access_plan(groups, datasets, claim_values(groups, datasets), tagged_columns())
    tables = {t.table_name: t for t in db.session.query(SqlaTable).filter(
        SqlaTable.uuid.in_([ds["uuid"] for ds in tree.datasets.values()])).all()}
    sql_lab = security_manager.find_role("sql_lab")
    for spec in plan.roles:
        role = security_manager.find_role(spec.name) or security_manager.add_role(spec.name)
        perms = list(security_manager.find_role(spec.base).permissions) if spec.base else []
        if not spec.all_data:   # a dataset is kept from this group (extra.fsdp_groups): only the listed ones
            perms = [p for p in perms if p.permission.name not in ALL_DATA_PERMISSIONS]
        if spec.sql_lab:
            perms += list(sql_lab.permissions)
            # SQL Lab on the databases of the datasets the role reads, no other
            perms += [security_manager.find_permission_view_menu("database_access", p)
                      for p in sorted({tables[name].database.perm for name in spec.datasets})]
        for name in spec.datasets:
            perms.append(security_manager.find_permission_view_menu("datasource_access", tables[name].perm))
        role.permissions = sorted({p for p in perms if p is not None}, key=lambda p: p.id)
    generated = {spec.name for spec in plan.rls}
    for old in db.session.query(RowLevelSecurityFilter).all():
        if (old.description or "").startswith("[user_groups.yml]") and old.name not in generated:
            db.session.delete(old)
    for spec in plan.rls:
        rls = db.session.query(RowLevelSecurityFilter).filter_by(name=spec.name).one_or_none() or \
            RowLevelSecurityFilter(name=spec.name)
        rls.filter_type = RowLevelSecurityFilterType.REGULAR
        rls.clause = spec.clause
        rls.group_key = spec.group_key
        rls.description = f"[user_groups.yml] {spec.description}"
        rls.roles = [security_manager.find_role(r) for r in spec.roles]
        rls.tables = [tables[name] for name in spec.datasets]
        db.session.add(rls)
    db.session.commit()
    return {"roles": [r.name for r in plan.roles], "rls_filters": len(plan.rls)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m include.dashboards.bootstrap")
    parser.add_argument("--assets", type=Path, default=assets_mod.ASSETS_DIR)
    parser.add_argument("--groups", type=Path, default=GROUPS_FILE)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    started = time.monotonic()
    tree = assets_mod.load_assets(args.assets)     # fails before touching Superset when the tree is wrong
    from superset.app import create_app

    app = create_app()
    with app.app_context():
        initialised = migrate_and_init(app)
        admin = ensure_admin()
        imported = import_tree(tree)
        granted = sync_access(tree, args.groups)
    print(json.dumps({"initialised": initialised, "admin": admin, **imported, **granted,
                      "seconds": round(time.monotonic() - started, 1)}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
