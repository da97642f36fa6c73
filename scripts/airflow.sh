#!/usr/bin/env bash
# Start the embedded Airflow UI with this bundle (dags/, plugins/; SQLite metadata DB in
# .local/airflow): api-server, scheduler, dag-processor and triggerer in the foreground; Ctrl-C
# stops them. Prints the URL and the login. Component logs: .local/logs/airflow/<component>.log
# The first start takes 1-4 minutes on a 2-core machine (it prints progress while it waits).
#
#   scripts/airflow.sh            # 127.0.0.1:8080, or FSDP_AIRFLOW_HOST / FSDP_AIRFLOW_PORT
#   scripts/airflow.sh --port 8793 [--host 0.0.0.0]
set -euo pipefail
source "$(dirname "$0")/lib.sh"

port="${FSDP_AIRFLOW_PORT:-8080}"
host="${FSDP_AIRFLOW_HOST:-127.0.0.1}"
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --host) host="$2"; shift 2 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

ensure_all
cd "$ROOT"
ensure_airflow
# the address the api-server binds is the one printed; 0.0.0.0 (all interfaces) is printed as such
url_host="$host"; [ "$host" = "0.0.0.0" ] && url_host="127.0.0.1"
url="http://$url_host:$port"
export AIRFLOW__API__HOST="$host" AIRFLOW__API__PORT="$port" AIRFLOW__API__BASE_URL="$url" AIRFLOW__API__WORKERS=1
export AIRFLOW__CORE__EXECUTION_API_SERVER_URL="$url/execution/"
export FSDP_AIRFLOW_URL="${FSDP_AIRFLOW_URL:-$url}"
if (exec 3<>"/dev/tcp/$url_host/$port") 2>/dev/null; then
  echo "port $port is in use: stop what listens there or pass --port" >&2; exit 1
fi

logs="${FSDP_AIRFLOW_LOG_DIR:-$LOCAL/logs/airflow}"
mkdir -p "$logs"
pids=(); names=()
stopping=false
stop() {
  trap - EXIT INT TERM
  stopping=true
  log "stopping Airflow (${names[*]})"
  kill "${pids[@]}" 2>/dev/null || true
  wait 2>/dev/null || true
  log "Airflow stopped"
}
trap stop EXIT INT TERM

# a component that exits while we are not stopping: say which, and show the end of its log
check_components() {
  local i
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null && [ "$stopping" = false ]; then
      echo "the Airflow ${names[$i]} exited unexpectedly; last lines of $logs/${names[$i]}.log:" >&2
      tail -15 "$logs/${names[$i]}.log" >&2 || true
      exit 1
    fi
  done
}

airflow api-server --host "$host" --port "$port" --workers 1 >"$logs/api-server.log" 2>&1 & pids+=($!); names+=(api-server)
for component in scheduler dag-processor triggerer; do
  airflow "$component" >"$logs/$component.log" 2>&1 & pids+=($!); names+=("$component")
done

log "starting api-server on $host:$port, scheduler, dag-processor, triggerer (logs: ${logs#"$ROOT/"}/)"
waited=0
until "$VENV/bin/python" - "$url" <<'PY' 2>/dev/null; do
import sys, urllib.request
sys.exit(0 if urllib.request.urlopen(sys.argv[1] + "/api/v2/monitor/health", timeout=2).status == 200 else 1)
PY
  check_components
  sleep 1; waited=$((waited + 1))
  if [ "$waited" -ge 600 ]; then echo "the api-server did not answer in 600 s; see $logs/api-server.log" >&2; exit 1; fi
  if [ $((waited % 15)) -eq 0 ]; then log "still starting ($waited s; a first start takes 1-4 minutes on 2 cores)"; fi
done

dag_states="$("$VENV/bin/python" - <<'PY' 2>/dev/null || true
from airflow.models.dag import DagModel
from airflow.utils.session import create_session
with create_session() as s:
    dags = s.query(DagModel).order_by(DagModel.dag_id).all()
    print(", ".join(f"{d.dag_id} {'paused' if d.is_paused else 'active'}" for d in dags) or "parsed within a minute")
    if any(d.dag_id == "fsdp_daily" and d.is_paused for d in dags):
        print("               fsdp_daily stays paused (schedule @daily): trigger one run with its play button and untick"
              "\n               \"Unpause\" in the form, or it also starts the daily schedule")
PY
)"
cat <<EOT

  Airflow UI : $url  (listening on $host:$port)
  login      : admin / $("$VENV/bin/python" -c 'from include.pipeline.embedded import admin_password; print(admin_password())')
  DAGs       : ${dag_states:-parsed within a minute}
               fsdp_product_health runs on each publication of the product
  run reports: $url/fsdp-run-reports/  (Browse > Run reports; a "Run report" tab on each run)
  dbt docs   : $url/cosmos/fsdp/dbt_docs_index.html  (Browse > dbt Docs; after a successful run)
  logs       : $logs
  Ctrl-C stops Airflow.

EOT
# stop everything as soon as one component dies
while true; do
  check_components
  sleep 2
done
