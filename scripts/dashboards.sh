#!/usr/bin/env bash
# Start Apache Superset with the data product's dashboards (include/dashboards): installs its venv
# (.venv-superset), runs the pipeline once when no serving copy has been published yet, migrates
# the metadata DB (SQLite in .local/superset), folds the data API's audit trail into its table
# (include.api.audit_table), imports the dashboards-as-code tree and the roles
# and row-level security from user_groups.yml, then serves Superset in the foreground (gunicorn;
# Ctrl-C stops it) and prints the URL and the login.
#
#   scripts/dashboards.sh               # this checkout's port (.local/ports.env), or FSDP_SUPERSET_PORT
#   scripts/dashboards.sh --port 8099
#
# Secrets: SUPERSET_SECRET_KEY and SUPERSET_ADMIN_PASSWORD from the environment or .env; unset,
# random ones are generated once into .local/superset/ (owner-only files). Log: .local/logs/superset.log
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# this checkout's port (.local/ports.env, chosen once; FSDP_SUPERSET_PORT or --port win)
setup_lock; ensure_ports; setup_unlock
port="$FSDP_SUPERSET_PORT"
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    -h|--help) sed -n '2,13p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$port" in ''|*[!0-9]*) echo "--port must be a number" >&2; exit 2 ;; esac
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "port $port is in use: stop what listens there or pass --port" >&2; exit 1
fi

ensure_superset_venv
cd "$ROOT"
eval "$("$SUPERSET_VENV/bin/python" -m include.dashboards.embedded --exports)"
if [ ! -f "$FSDP_SERVING_DIR/current.json" ]; then
  log "no serving copy in ${FSDP_SERVING_DIR#"$ROOT/"} yet: running the pipeline once (scripts/run.sh)"
  "$ROOT/scripts/run.sh"
fi

# the governance dashboard's table: the data API's audit trail folded into audit.duckdb now (the
# API refolds it every FSDP_API_AUDIT_FOLD_SECONDS); an empty table when nothing was called yet
log "folding the data API's audit trail into ${FSDP_API_AUDIT_DIR:-.local/api/audit}/audit.duckdb"
"$SUPERSET_VENV/bin/python" -m include.api.audit_table >/dev/null

log "preparing Superset in ${FSDP_SUPERSET_HOME#"$ROOT/"} (metadata DB, dashboards, roles, row-level security)"
"$SUPERSET_VENV/bin/python" -m include.dashboards.bootstrap

logs="${FSDP_SUPERSET_LOG_DIR:-$LOCAL/logs}"
mkdir -p "$logs"
url="http://127.0.0.1:$port"
"$SUPERSET_VENV/bin/gunicorn" --bind "127.0.0.1:$port" --workers "${FSDP_SUPERSET_WORKERS:-1}" \
  --worker-class gthread --threads "${FSDP_SUPERSET_THREADS:-8}" --timeout 120 --graceful-timeout 10 \
  --access-logfile - --error-logfile - "superset.app:create_app()" >"$logs/superset.log" 2>&1 &
pid=$!
stop() {
  trap - EXIT INT TERM
  log "stopping Superset"
  kill "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
trap stop EXIT INT TERM

log "waiting for Superset on $url"
for _ in $(seq 1 300); do
  if curl -fsS -o /dev/null "$url/health" 2>/dev/null; then break; fi
  kill -0 "$pid" 2>/dev/null || { echo "Superset exited; see $logs/superset.log" >&2; exit 1; }
  sleep 1
done
curl -fsS -o /dev/null "$url/health" || { echo "Superset did not answer in 300 s; see $logs/superset.log" >&2; exit 1; }

cat <<EOT

  Superset   : $url
  login      : ${FSDP_SUPERSET_ADMIN_USER:-admin} / $SUPERSET_ADMIN_PASSWORD
  dashboards : $url/superset/dashboard/lead-generation/  (and spend-analysis, market-place, campaign-funnel)
  governance : $url/superset/dashboard/api-governance/  (admin group only: the data API's audit trail)
  data       : the serving copy in ${FSDP_SERVING_DIR#"$ROOT/"} (a new copy is served without a restart)
  users      : $SUPERSET_VENV/bin/python -m include.dashboards user --help   (group and zone roles)
  log        : $logs/superset.log
  Ctrl-C stops Superset.

EOT
wait "$pid"
