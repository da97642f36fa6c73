#!/usr/bin/env bash
# Start the embedded Airflow UI with this bundle (dags/, plugins/; SQLite metadata DB in
# .local/airflow): api-server, scheduler, dag-processor and triggerer in the foreground; Ctrl-C
# stops them. Prints the URL and the login. Component logs: .local/logs/airflow/<component>.log
#
#   scripts/airflow.sh            # this checkout's port (FSDP_AIRFLOW_PORT, .local/ports.env)
#   scripts/airflow.sh --port 8793
set -euo pipefail
source "$(dirname "$0")/lib.sh"

port=""
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    -h|--help) sed -n '2,8p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

setup_lock
ensure_all
cd "$ROOT"
ensure_airflow
setup_unlock
port="${port:-$FSDP_AIRFLOW_PORT}"
url="http://127.0.0.1:$port"
export AIRFLOW__API__PORT="$port" AIRFLOW__API__BASE_URL="$url" AIRFLOW__API__WORKERS=1
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="$url/execution/"
if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
  echo "port $port is in use: stop what listens there or pass --port" >&2; exit 1
fi

logs="${FSDP_AIRFLOW_LOG_DIR:-$LOCAL/logs/airflow}"
mkdir -p "$logs"
pids=()
stop() {
  trap - EXIT INT TERM
  log "stopping Airflow"
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
}
trap stop EXIT INT TERM

airflow api-server --port "$port" --workers 1 >"$logs/api-server.log" 2>&1 & pids+=($!)
for component in scheduler dag-processor triggerer; do
  airflow "$component" >"$logs/$component.log" 2>&1 & pids+=($!)
done

log "waiting for the api-server on $url"
for _ in $(seq 1 180); do
  if "$VENV/bin/python" - "$url" <<'PY' 2>/dev/null; then break; fi
import sys, urllib.request
sys.exit(0 if urllib.request.urlopen(sys.argv[1] + "/api/v2/monitor/health", timeout=2).status == 200 else 1)
PY
  for pid in "${pids[@]}"; do
    kill -0 "$pid" 2>/dev/null || { echo "an Airflow component exited; see $logs" >&2; exit 1; }
  done
  sleep 1
done

cat <<EOT

  Airflow UI : $url
  login      : admin / $("$VENV/bin/python" -c 'from include.pipeline.embedded import admin_password; print(admin_password())')
  dbt docs   : $url/cosmos/fsdp/dbt_docs_index.html  (Browse > dbt Docs; after a successful run)
  DAGs       : fsdp_daily (trigger it with the play button), fsdp_product_health (runs on its Assets)
  logs       : $logs
  Ctrl-C stops Airflow.

EOT
# stop everything as soon as one component dies
while true; do
  for pid in "${pids[@]}"; do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "an Airflow component exited; see $logs" >&2; exit 1
    fi
  done
  sleep 2
done
