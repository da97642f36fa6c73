#!/usr/bin/env bash
# One full pipeline run of the embedded default, end to end: Azurite, Airflow on SQLite
# (.local/airflow), `airflow dags test fsdp_daily <date>` (generate + land -> freshness -> dbt via
# Cosmos -> quality gate -> role views -> publish -> dbt docs -> catalog -> run report), then the
# product health check of what it published, then the run report. Exits non-zero when the run fails.
#
#   scripts/run.sh [--date YYYY-MM-DD] [--rows N] [--bad-rows N] [--skip-generation] [--full-refresh]
#
# Defaults: today's date (UTC), 500 customers, 25 extra bad rows. The full Airflow log of the run
# goes to .local/logs/pipeline-<date>.log; the UI (scripts/airflow.sh) shows the run with its task logs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

day="$(date -u +%Y-%m-%d)"; rows=500; bad_rows=25; skip=false; full_refresh=false
while [ $# -gt 0 ]; do
  case "$1" in
    --date) day="$2"; shift 2 ;;
    --rows) rows="$2"; shift 2 ;;
    --bad-rows) bad_rows="$2"; shift 2 ;;
    --skip-generation) skip=true; shift ;;
    --full-refresh) full_refresh=true; shift ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$day" in [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]) ;; *) echo "--date must be YYYY-MM-DD" >&2; exit 2 ;; esac
case "$rows$bad_rows" in *[!0-9]*) echo "--rows and --bad-rows must be whole numbers" >&2; exit 2 ;; esac

ensure_all
cd "$ROOT"
ensure_airflow
mkdir -p "$LOCAL/logs"
logfile="$LOCAL/logs/pipeline-$day.log"
conf="{\"rows\": $rows, \"bad_rows\": $bad_rows, \"skip_generation\": $skip, \"full_refresh\": $full_refresh}"
log "running fsdp_daily for $day with $conf (log: $logfile)"
log "this takes 5-10 minutes on a 2-core machine (one Airflow task per dbt model and test)"
started=$SECONDS
status=0
# no deadline under `dags test`: nothing would evaluate it (no scheduler), and Airflow 3.3.2's
# dags test crashes ending a run of a DAG that declares one (it looks the alert up by a dict)
FSDP_RUN_DEADLINE_MINUTES=0 airflow dags test fsdp_daily "$day" -c "$conf" >"$logfile" 2>&1 || status=$?
# one line per failed task (its last try: task, reason, file) and the run's line, from the failure
# callbacks (include/pipeline/callbacks.py, include/pipeline/alerts.py); tracebacks stay in the log file
grep -o 'FSDP task FAILED:.*' "$logfile" | sed 's/ \[fsdp.pipeline\].*//' \
  | awk -F' [|] ' '{ if (!($1 in last)) order[++n] = $1; last[$1] = $0 } END { for (i = 1; i <= n; i++) print last[order[i]] }' >&2 || true
grep -o 'FSDP run FAILED.*' "$logfile" | tail -1 | sed 's/ \[fsdp.pipeline\].*//' >&2 || true
# task logs for the UI, and the run's true start (dags test records the logical date as its start)
run_id="$("$VENV/bin/python" -m include.pipeline.embedded adopt-test-run "$logfile" 2>>"$logfile" \
  | "$VENV/bin/python" -c 'import json,sys; print(json.load(sys.stdin)["run_id"] or "")' || true)"
log "fsdp_daily finished in $((SECONDS - started)) s"
if [ "$status" -eq 0 ] && [ -n "$run_id" ]; then
  # the health check the published Assets schedule in a running Airflow, run here for this run
  health_log="$LOCAL/logs/product-health-$day.log"
  log "checking product health (fsdp_product_health, log: $health_log)"
  health_conf="{\"source_run_id\": \"$run_id\", \"logical_date\": \"$day\"}"
  airflow dags test fsdp_product_health "$day" -c "$health_conf" >"$health_log" 2>&1 \
    || echo "product health check FAILED (the product is unhealthy): see $health_log" >&2
  "$VENV/bin/python" -m include.pipeline.embedded adopt-test-run "$health_log" >/dev/null 2>>"$health_log" || true
fi
echo
summary_status=0
"$VENV/bin/python" -m include.pipeline.summary --date "$day" 2>>"$logfile" || summary_status=$?
if [ "$status" -ne 0 ] || [ "$summary_status" -ne 0 ]; then
  echo >&2
  echo "the run FAILED (the lines above name each failed task); every task's log with tracebacks: $logfile" >&2
  exit 1
fi
