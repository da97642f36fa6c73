# Shared setup functions, sourced by scripts/run.sh and scripts/test.sh. Every function is
# idempotent: running it twice does the work once.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
UV="$VENV/bin/uv"
LOCAL="$ROOT/.local"            # git-ignored: Azurite data, DuckDB file, Airflow home, logs
UV_VERSION="0.13.8"

# Settings from .env (git-ignored; see .env.example). Empty values are skipped, so an empty
# `VAR=` line means "use the default" for the scripts, Python and dbt's env_var() alike.
if [ -f "$ROOT/.env" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in ''|'#'*) continue ;; esac
    name="${line%%=*}"; value="${line#*=}"
    if [ -n "$value" ] && [ -z "${!name:-}" ]; then export "$name=$value"; fi
  done < "$ROOT/.env"
  unset line name value
fi
export AZURITE_BLOB_HOST="${AZURITE_BLOB_HOST:-127.0.0.1}"
export AZURITE_BLOB_PORT="${AZURITE_BLOB_PORT:-10000}"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

find_python() {
  for py in python3.11 python3; do
    if command -v "$py" >/dev/null 2>&1 && "$py" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      echo "$py"; return 0
    fi
  done
  echo "Python 3.11 is required (python3.11 or python3 on PATH)" >&2; return 1
}

ensure_uv() {
  if [ ! -x "$VENV/bin/python" ]; then
    log "creating virtualenv $VENV"
    "$(find_python)" -m venv "$VENV"
  fi
  if [ ! -x "$UV" ] || [ "$("$UV" --version | cut -d' ' -f2)" != "$UV_VERSION" ]; then
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "uv==$UV_VERSION"
  fi
}

# Install LOCK into the venv VENV_DIR unless that exact lock is installed already (sha256 stamp),
# and put the project root on its sys.path, so `include.*` imports work in scripts, tests and Airflow.
sync_venv() {
  local venv_dir="$1" lock="$2" want have site
  # overrides.txt lifts a dependency cap the lock deliberately breaks (duckdb, see requirements.txt)
  want="$(cat "$lock" "$ROOT/overrides.txt" | sha256sum | cut -d' ' -f1)"
  have="$(cat "$venv_dir/.lock-sha256" 2>/dev/null || true)"
  if [ "$want" != "$have" ]; then
    log "installing pinned requirements ($(basename "$lock")) into $(basename "$venv_dir")"
    "$UV" pip install --quiet --python "$venv_dir/bin/python" --override "$ROOT/overrides.txt" -r "$lock"
    echo "$want" > "$venv_dir/.lock-sha256"
  fi
  site="$("$venv_dir/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
  echo "$ROOT" > "$site/fsdp_project_root.pth"
}

# Create/refresh .venv from requirements.lock.
ensure_venv() {
  ensure_uv
  sync_venv "$VENV" "$ROOT/requirements.lock"
}

# Install Azurite from npm into ./node_modules (pinned by package-lock.json).
ensure_node_modules() {
  local want have
  want="$(sha256sum "$ROOT/package-lock.json" | cut -d' ' -f1)"
  have="$(cat "$ROOT/node_modules/.lock-sha256" 2>/dev/null || true)"
  if [ ! -x "$ROOT/node_modules/.bin/azurite-blob" ] || [ "$want" != "$have" ]; then
    command -v npm >/dev/null || { echo "npm (Node 20) is required to install Azurite" >&2; return 1; }
    log "installing Azurite from npm"
    (cd "$ROOT" && npm ci --silent --no-audit --no-fund >/dev/null)
    echo "$want" > "$ROOT/node_modules/.lock-sha256"
  fi
}

azurite_up() { (exec 3<>"/dev/tcp/$AZURITE_BLOB_HOST/$AZURITE_BLOB_PORT") 2>/dev/null; }

# Start Azurite (blob only) unless something already listens on its port, or unless the
# connection string points at real Azure (then there is nothing to start).
ensure_azurite() {
  case "${AZURE_STORAGE_CONNECTION_STRING:-}" in
    ""|*devstoreaccount1*|*UseDevelopmentStorage=true*) ;;
    *) log "AZURE_STORAGE_CONNECTION_STRING points at real Azure: not starting Azurite"; return 0 ;;
  esac
  if azurite_up; then return 0; fi
  ensure_node_modules
  # one data folder per port: two Azurites must never share (and corrupt) one metadata store
  local data="$LOCAL/azurite/port-$AZURITE_BLOB_PORT"
  mkdir -p "$data"
  log "starting Azurite on $AZURITE_BLOB_HOST:$AZURITE_BLOB_PORT (data in ${data#"$ROOT/"})"
  # --skipApiVersionCheck: azure-storage-blob 12.31 sends an API version newer than Azurite 3.37 knows
  nohup "$ROOT/node_modules/.bin/azurite-blob" --silent --location "$data" \
    --blobHost "$AZURITE_BLOB_HOST" --blobPort "$AZURITE_BLOB_PORT" \
    --skipApiVersionCheck --loose >"$data.log" 2>&1 &
  echo $! > "$data.pid"
  for _ in $(seq 1 100); do
    if azurite_up; then return 0; fi
    sleep 0.1
  done
  echo "Azurite did not start; see $data.log" >&2; return 1
}

ensure_all() {
  ensure_venv
  ensure_catalog_venv
  ensure_azurite
}

# ---- Airflow (embedded default: SQLite + the repo's dags/ and plugins/ under .local/airflow) ----

# Export the embedded Airflow's environment (include/pipeline/embedded.py is the one definition).
airflow_env() {
  eval "$("$VENV/bin/python" -m include.pipeline.embedded --exports)"
  export PATH="$VENV/bin:$PATH"
}

# Migrated metadata DB, the duckdb_writer pool and the dbt manifest Cosmos renders from.
ensure_airflow() {
  airflow_env
  log "preparing Airflow in $AIRFLOW_HOME (metadata DB, pool duckdb_writer, dbt manifest)"
  "$VENV/bin/python" -m include.pipeline.embedded init
  "$VENV/bin/python" -m include.pipeline.dbt parse >/dev/null
}

# Debian's chromium for the browser test (python playwright drives it; playwright's own browser
# download needs a host this workplace cannot reach).
ensure_chromium() {
  if command -v chromium >/dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null 2>&1; then
    echo "chromium is missing: install it with apt-get install chromium" >&2; return 1
  fi
  local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  log "installing chromium (Debian package)"
  $sudo apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
}

# Debian's redis-server for the data API's shared rate-limit counters test (tests/api; skipped,
# with the reason, when it cannot be installed).
ensure_redis() {
  if command -v redis-server >/dev/null 2>&1; then return 0; fi
  if [ "$(id -u)" != 0 ] && ! command -v sudo >/dev/null 2>&1; then
    echo "redis-server is missing: install it with apt-get install redis-server" >&2; return 1
  fi
  local sudo=""; [ "$(id -u)" = 0 ] || sudo="sudo"
  log "installing redis-server (Debian package)"
  $sudo apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server >/dev/null
}

# ---- Catalog (OpenMetadata push; its own venv, see requirements-catalog.txt for why) ----
CATALOG_VENV="$ROOT/.venv-catalog"

# A venv of its own for one outside system (VENV_DIR from LOCK), created when missing and
# synced when the lock changed.
ensure_own_venv() {
  local venv_dir="$1" lock="$2"
  ensure_uv
  if [ ! -x "$venv_dir/bin/python" ]; then
    log "creating virtualenv $venv_dir"
    "$UV" venv --quiet --python "$(command -v "$(find_python)")" "$venv_dir"
  fi
  sync_venv "$venv_dir" "$lock"
}

# Create/refresh .venv-catalog from requirements-catalog.lock; skipped when the lock is unchanged.
ensure_catalog_venv() { ensure_own_venv "$CATALOG_VENV" "$ROOT/requirements-catalog.lock"; }

# ---- Dashboards (Apache Superset; its own venv, see requirements-superset.txt for why) ----
SUPERSET_VENV="$ROOT/.venv-superset"

# Create/refresh .venv-superset from requirements-superset.lock; skipped when the lock is unchanged.
ensure_superset_venv() { ensure_own_venv "$SUPERSET_VENV" "$ROOT/requirements-superset.lock"; }
