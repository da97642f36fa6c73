# Shared setup functions, sourced by scripts/run.sh and scripts/test.sh. Every function is
# idempotent: running it twice does the work once.
# shellcheck shell=bash
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
UV="$VENV/bin/uv"
LOCAL="$ROOT/.local"            # git-ignored: Azurite data, DuckDB file, Airflow home, logs
UV_VERSION="0.13.8"

# Settings: the environment wins, then .env (git-ignored; see .env.example), then this checkout's
# own ports (.local/ports.env, chosen once by ensure_ports). Empty values are skipped, so an empty
# `VAR=` line means "use the default" for the scripts, Python and dbt's env_var() alike.
load_env_file() {
  [ -f "$1" ] || return 0
  local line name value
  while IFS= read -r line || [ -n "$line" ]; do
    case "$line" in ''|'#'*) continue ;; esac
    name="${line%%=*}"; value="${line#*=}"
    if [ -n "$value" ] && [ -z "${!name:-}" ]; then export "$name=$value"; fi
  done < "$1"
}
load_env_file "$ROOT/.env"
# the storage endpoint is the user's when either of these is set; else it is this checkout's own
_USER_STORAGE="${AZURE_STORAGE_CONNECTION_STRING:-}${AZURITE_BLOB_PORT:-}"
_USER_AZURITE_PORT="${AZURITE_BLOB_PORT:-}"
PORTS_ENV="$LOCAL/ports.env"
load_env_file "$PORTS_ENV"
# a connection string the user set decides the endpoint: this checkout's port does not apply
if [ -n "${AZURE_STORAGE_CONNECTION_STRING:-}" ] && [ -z "$_USER_AZURITE_PORT" ]; then unset AZURITE_BLOB_PORT; fi
export AZURITE_BLOB_HOST="${AZURITE_BLOB_HOST:-127.0.0.1}"
# .env is read here, once, the environment winning; no library may load it again over the
# environment (Soda Core does, with override: include/quality/soda_runner.py)
export PYTHON_DOTENV_DISABLED=1
# Cosmos' cache and every temporary file of this checkout's runs stay inside it
export TMPDIR="${TMPDIR:-$LOCAL/tmp}"
mkdir -p "$TMPDIR"

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

# ---- Setup lock: setup steps of scripts started at once in one checkout run one after the other ----
# (two `npm ci` or `uv pip install` into one folder corrupt it). flock(1) where it exists, else
# python's fcntl on the same open file (the lock belongs to the file description this shell holds).
# Released by setup_unlock before the long-running part; processes started meanwhile that outlive
# the script (Azurite) are started with the lock's file descriptor closed.
setup_lock() {
  [ -z "${_SETUP_LOCK_FD:-}" ] || return 0
  mkdir -p "$LOCAL"
  exec {_SETUP_LOCK_FD}>>"$LOCAL/setup.lock"
  if command -v flock >/dev/null 2>&1; then
    if ! flock -n "$_SETUP_LOCK_FD"; then
      log "another script is setting up this checkout: waiting for it"
      flock "$_SETUP_LOCK_FD"
    fi
  else
    "$(find_python)" -c "import fcntl; fcntl.flock($_SETUP_LOCK_FD, fcntl.LOCK_EX)"
  fi
}
setup_unlock() {
  [ -n "${_SETUP_LOCK_FD:-}" ] || return 0
  exec {_SETUP_LOCK_FD}>&-
  unset _SETUP_LOCK_FD
}

# ---- Ports of this checkout: two checkouts on one machine never share a server ----
# Chosen once (a block of free ports derived from the checkout's path, one per variable) and kept
# in .local/ports.env; a port set in the environment or .env wins. Delete the file to choose again.
PORT_VARS=(AZURITE_BLOB_PORT AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT
           FSDP_AIRFLOW_PORT FSDP_API_PORT FSDP_SUPERSET_PORT)
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ensure_ports() {
  local missing=() var i base crc offset busy
  # read the file again: another script of this checkout may have chosen the ports since this one
  # started (ensure_ports runs under the setup lock, so only one of them chooses)
  load_env_file "$PORTS_ENV"
  if [ -n "${AZURE_STORAGE_CONNECTION_STRING:-}" ] && [ -z "$_USER_AZURITE_PORT" ]; then unset AZURITE_BLOB_PORT; fi
  for var in "${PORT_VARS[@]}"; do
    # a user-given storage endpoint decides Azurite's port (ensure_storage_env)
    if [ "$var" = AZURITE_BLOB_PORT ] && [ -n "${AZURE_STORAGE_CONNECTION_STRING:-}" ]; then continue; fi
    [ -n "${!var:-}" ] || missing+=("$var")
  done
  [ "${#missing[@]}" -gt 0 ] || return 0
  crc="$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)"
  for i in $(seq 0 400); do
    base=$(( 20000 + ((crc + i * 7919) % 2000) * 6 ))
    busy=false
    for offset in "${!PORT_VARS[@]}"; do port_in_use $((base + offset)) && busy=true; done
    $busy || break
  done
  mkdir -p "$LOCAL"
  [ -f "$PORTS_ENV" ] || echo "# this checkout's ports, chosen by scripts/lib.sh (the environment and .env win; delete to choose again)" > "$PORTS_ENV"
  for var in "${missing[@]}"; do
    offset=0
    for i in "${!PORT_VARS[@]}"; do [ "${PORT_VARS[$i]}" = "$var" ] && offset=$i; done
    echo "$var=$((base + offset))" >> "$PORTS_ENV"
    export "$var=$((base + offset))"
  done
  log "ports of this checkout (${PORTS_ENV#"$ROOT/"}): $(for var in "${missing[@]}"; do printf '%s=%s ' "$var" "${!var}"; done)"
}

# The one storage endpoint every client reads: include/blob_storage.py decides it (the connection
# string, or Azurite's dev account on AZURITE_BLOB_HOST:AZURITE_BLOB_PORT) and this exports it, so
# Airflow, dbt and every Python process of the run use the same value.
ensure_storage_env() {
  local exports
  ensure_ports
  exports="$("$VENV/bin/python" -m include.blob_storage --exports)" || return 1
  eval "$exports"
}

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
  # overrides.txt lifts a dependency cap the lock deliberately breaks (duckdb, see requirements.txt);
  # "bytecode" in the stamp: a venv installed before the bytecode step below is compiled once
  want="$( (cat "$lock" "$ROOT/overrides.txt"; echo bytecode-compileall) | sha256sum | cut -d' ' -f1)"
  have="$(cat "$venv_dir/.lock-sha256" 2>/dev/null || true)"
  if [ "$want" != "$have" ]; then
    log "installing pinned requirements ($(basename "$lock")) into $(basename "$venv_dir")"
    "$UV" pip install --quiet --python "$venv_dir/bin/python" --override "$ROOT/overrides.txt" -r "$lock"
    # Every module's .pyc written once, here. Without it Python compiles on first import and caches
    # the result, unless the environment sets PYTHONDONTWRITEBYTECODE (as on this project's CI
    # machines): then every process (each dbt invocation, Airflow task, DAG parse, test subprocess)
    # compiled dbt, Airflow and their dependencies from source again: `dbt --version` took 6.7 s of
    # CPU instead of 2.9 s. compileall writes .pyc whatever that variable says; its exit status is
    # not checked because a few packages ship files that are not Python 3 (templates, py2 examples).
    log "compiling bytecode of $(basename "$venv_dir") (once per lock)"
    "$venv_dir/bin/python" -m compileall -q -j 0 \
      "$("$venv_dir/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')" >/dev/null 2>&1 || true
    echo "$want" > "$venv_dir/.lock-sha256"
  fi
  # the project root on the venv's sys.path, only in this checkout's own venv: a venv shared with
  # another checkout (a symlink) would point that checkout's imports here (cwd and PYTHONPATH,
  # which every script and the embedded Airflow set, find the project without it)
  case "$(cd "$venv_dir" && pwd -P)/" in
    "$(cd "$ROOT" && pwd -P)"/*)
      site="$("$venv_dir/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')"
      echo "$ROOT" > "$site/fsdp_project_root.pth" ;;
  esac
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
    rm -f "$ROOT/node_modules/.lock-sha256"
    (cd "$ROOT" && npm ci --silent --no-audit --no-fund >/dev/null)
    # the stamp only over a complete install
    [ -x "$ROOT/node_modules/.bin/azurite-blob" ] || { echo "npm ci did not install azurite-blob" >&2; return 1; }
    echo "$want" > "$ROOT/node_modules/.lock-sha256"
  fi
}

azurite_up() { (exec 3<>"/dev/tcp/$AZURITE_BLOB_HOST/$AZURITE_BLOB_PORT") 2>/dev/null; }

# Is the process in pid file $1 this checkout's Azurite?
own_azurite() {
  local pid
  pid="$(cat "$1" 2>/dev/null)" || return 1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && ps -p "$pid" -o args= 2>/dev/null | grep -q "$ROOT/node_modules"
}

# Start Azurite (blob only) on this checkout's port unless it runs there already, or unless the
# storage endpoint is real Azure (then there is nothing to start).
ensure_azurite() {
  case "${AZURE_STORAGE_CONNECTION_STRING:-}" in
    ""|*devstoreaccount1*|*UseDevelopmentStorage=true*) ;;
    *) log "AZURE_STORAGE_CONNECTION_STRING points at real Azure: not starting Azurite"; return 0 ;;
  esac
  # one data folder per port: two Azurites must never share (and corrupt) one metadata store
  local data="$LOCAL/azurite/port-$AZURITE_BLOB_PORT"
  if azurite_up; then
    own_azurite "$data.pid" && return 0
    if [ -z "$_USER_STORAGE" ]; then
      echo "port $AZURITE_BLOB_PORT (this checkout's Azurite port, ${PORTS_ENV#"$ROOT/"}) is taken by another" \
           "process: delete ${PORTS_ENV#"$ROOT/"} to choose new ports, or set AZURITE_BLOB_PORT" >&2
      return 1
    fi
    return 0   # the endpoint the user set: their server
  fi
  ensure_node_modules
  mkdir -p "$data"
  log "starting Azurite on $AZURITE_BLOB_HOST:$AZURITE_BLOB_PORT (data in ${data#"$ROOT/"})"
  # --skipApiVersionCheck: azure-storage-blob 12.31 sends an API version newer than Azurite 3.37 knows
  if [ -n "${_SETUP_LOCK_FD:-}" ]; then
    nohup "$ROOT/node_modules/.bin/azurite-blob" --silent --location "$data" \
      --blobHost "$AZURITE_BLOB_HOST" --blobPort "$AZURITE_BLOB_PORT" \
      --skipApiVersionCheck --loose >"$data.log" 2>&1 {_SETUP_LOCK_FD}>&- &
  else
    nohup "$ROOT/node_modules/.bin/azurite-blob" --silent --location "$data" \
      --blobHost "$AZURITE_BLOB_HOST" --blobPort "$AZURITE_BLOB_PORT" \
      --skipApiVersionCheck --loose >"$data.log" 2>&1 &
  fi
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
  ensure_storage_env
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
