"""Superset's configuration for the data product's dashboards (SUPERSET_CONFIG_PATH points here).

Everything secret comes from the environment, and there is no default that works: Superset will
not start without SUPERSET_SECRET_KEY (scripts/dashboards.sh generates one per installation into
.local/superset/, the compose stack reads it from .env). Metadata: SQLite under FSDP_SUPERSET_HOME
by default, SUPERSET_DATABASE_URI (Postgres in the compose stack) otherwise.

The one database, "FSDP serving copy", reads the current serving copy of the data product
read-only: its URI names no file, and every connection Superset opens resolves the copy the
pipeline published last (include.dashboards.serving), so a new copy is served without a restart.
"""
from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

from include.dashboards import serving

_ROOT = Path(__file__).resolve().parents[2]
_HOME = Path(os.environ.get("FSDP_SUPERSET_HOME") or _ROOT / ".local" / "superset").expanduser().resolve()
DATA_DIR = str(_HOME)

SECRET_KEY = os.environ.get("SUPERSET_SECRET_KEY", "")
if len(SECRET_KEY) < 32 or SECRET_KEY.startswith("CHANGE_ME"):
    raise RuntimeError("SUPERSET_SECRET_KEY must be set to a random secret of at least 32 characters "
                       "(scripts/dashboards.sh generates one; compose: set it in .env)")

SQLALCHEMY_DATABASE_URI = os.environ.get("SUPERSET_DATABASE_URI") or \
    f"sqlite:///{_HOME / 'superset.db'}?check_same_thread=false"
SQLALCHEMY_TRACK_MODIFICATIONS = False

# every DuckDB connection: the current serving copy, read-only, no file access beyond it
DB_CONNECTION_MUTATOR = serving.connection_mutator
PREVENT_UNSAFE_DB_CONNECTIONS = True

FEATURE_FLAGS = {
    # adhoc SQL (custom metrics, columns, filters in Explore) may not hold subqueries: a user
    # with access to one dataset cannot read another table through an expression
    "ALLOW_ADHOC_SUBQUERY": False,
    # no Jinja in SQL: the datasets' SQL is exactly what is in git
    "ENABLE_TEMPLATE_PROCESSING": False,
    "DASHBOARD_RBAC": False,
    "ALERT_REPORTS": False,
    "THUMBNAILS": False,
    "EMBEDDED_SUPERSET": False,
    # render every chart of a dashboard, not only those in the viewport: the dashboards are a few
    # dozen charts, and a screenshot or a printed page shows them all
    "DASHBOARD_VIRTUALIZATION": False,
}

# query results cached per serving copy: a new copy is a new cache namespace (include.dashboards.serving)
_CACHE_DIR = _HOME / "cache"
DATA_CACHE_CONFIG = {
    "CACHE_TYPE": "include.dashboards.serving.copy_keyed_cache",
    "CACHE_DIR": str(_CACHE_DIR / "data"),
    "CACHE_DEFAULT_TIMEOUT": int(timedelta(hours=24).total_seconds()),
    "CACHE_THRESHOLD": 5000,
}
CACHE_CONFIG = {"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": str(_CACHE_DIR / "meta"),
                "CACHE_DEFAULT_TIMEOUT": 300, "CACHE_KEY_PREFIX": "fsdp_meta_"}
FILTER_STATE_CACHE_CONFIG = {"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": str(_CACHE_DIR / "filter_state"),
                             "CACHE_DEFAULT_TIMEOUT": int(timedelta(days=7).total_seconds())}
EXPLORE_FORM_DATA_CACHE_CONFIG = {"CACHE_TYPE": "FileSystemCache", "CACHE_DIR": str(_CACHE_DIR / "explore"),
                                  "CACHE_DEFAULT_TIMEOUT": int(timedelta(days=7).total_seconds())}

# nobody anonymous sees anything; new users get no role until given one (include.dashboards users)
PUBLIC_ROLE_LIKE = None
AUTH_USER_REGISTRATION = False
# SQL Lab and the dataset editor are the admin group's only (include/dashboards/README.md: Access)
SQLLAB_TIMEOUT = 60
SUPERSET_WEBSERVER_TIMEOUT = 120
SQL_MAX_ROW = 100_000
ROW_LIMIT = 10_000

# Superset's default Content-Security-Policy (Talisman); plain HTTP on localhost by default, put
# TLS in front in production
TALISMAN_ENABLED = True
SESSION_COOKIE_SAMESITE = "Lax"
ENABLE_PROXY_FIX = os.environ.get("FSDP_SUPERSET_PROXY_FIX", "false").lower() == "true"

LOG_LEVEL = os.environ.get("FSDP_SUPERSET_LOG_LEVEL", "INFO")
SUPERSET_LOG_VIEW = True
