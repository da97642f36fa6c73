#!/usr/bin/env bash
# One full pipeline run of the embedded default, end to end: Azurite, Airflow on SQLite
# (.local/airflow), `airflow dags test fsdp_daily <date>` (run lease -> generate + land -> freshness
# -> dbt via Cosmos -> quality gate -> market-place marts -> role views -> semantic layer -> output
# port -> serving copy -> publish -> dbt docs -> catalog -> run report -> lease released), then the
# product health check of what it published, then the run report. Exits non-zero when the run fails.
#
#   scripts/run.sh [--date YYYY-MM-DD] [--rows N] [--bad-rows N] [--skip-generation] [--full-refresh]
#                  [--wait SECONDS]
#
# Defaults: today's date (UTC), 500 customers, 25 extra bad rows. One run at a time per warehouse:
# a run started while another holds the DuckDB file waits for it (up to --wait seconds, default
# FSDP_RUN_LOCK_WAIT_S or 3600; 0 = refuse at once) and then exits 75 if it is still busy. The full
# Airflow log of each run goes to .local/logs/pipeline-<date>-<time>-<pid>.log (kept; FSDP_LOG_DIR
# moves the folder), and .local/logs/pipeline-<date>.log links to the latest; the UI
# (scripts/airflow.sh) shows the run with its task logs.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

# the whole script in a function: bash reads it completely before running it, so editing this
# file while a run is in progress cannot break that run
main() {
  day="$(date -u +%Y-%m-%d)"; rows=500; bad_rows=25; skip=false; full_refresh=false; wait_s=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --date) day="$2"; shift 2 ;;
      --rows) rows="$2"; shift 2 ;;
      --bad-rows) bad_rows="$2"; shift 2 ;;
      --skip-generation) skip=true; shift ;;
      --full-refresh) full_refresh=true; shift ;;
      --wait) wait_s="$2"; shift 2 ;;
      -h|--help) sed -n '2,17p' "$0"; exit 0 ;;
      *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
    esac
  done
  case "$day" in [0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]) ;; *) echo "--date must be YYYY-MM-DD" >&2; exit 2 ;; esac
  case "$rows$bad_rows$wait_s" in *[!0-9]*) echo "--rows, --bad-rows and --wait must be whole numbers" >&2; exit 2 ;; esac

  setup_lock                     # setup steps of two scripts started at once run one after the other
  ensure_all
  cd "$ROOT"
  ensure_airflow
  setup_unlock
  local logs="${FSDP_LOG_DIR:-$LOCAL/logs}"
  mkdir -p "$logs"
  # one log per run (earlier runs' logs are kept); pipeline-<date>.log points at the latest
  stamp="$(date -u +%Y%m%dT%H%M%SZ)-$$"
  logfile="$logs/pipeline-$day-$stamp.log"
  latest="$logs/pipeline-$day.log"
  if [ -f "$latest" ] && [ ! -L "$latest" ]; then   # a log written before logs were kept per run
    mv "$latest" "$logs/pipeline-$day-$(date -u -r "$latest" +%Y%m%dT%H%M%SZ)-earlier.log"
  fi
  ln -sfn "$(basename "$logfile")" "$latest"
  conf="{\"rows\": $rows, \"bad_rows\": $bad_rows, \"skip_generation\": $skip, \"full_refresh\": $full_refresh}"
  log "running fsdp_daily for $day with $conf (log: $logfile)"
  log "this takes 3-5 minutes on a 2-core machine (one dbt build per dbt task group, then the catalog step)"
  local started=$SECONDS run_id health_log health_conf
  status=0
  # the warehouse's run lease (include/pipeline/runlock.py): waits for a run in progress on the same
  # DuckDB file (any checkout, scripts/airflow.sh, ...), or refuses after --wait seconds, exit 75.
  # No deadline under `dags test`: nothing would evaluate it (no scheduler), and Airflow 3.3.2's
  # dags test crashes ending a run of a DAG that declares one (it looks the alert up by a dict)
  FSDP_RUN_DEADLINE_MINUTES=0 "$VENV/bin/python" -m include.pipeline.runlock run --date "$day" \
    --label "scripts/run.sh --date $day" --dag-id fsdp_daily ${wait_s:+--wait "$wait_s"} --log "$logfile" \
    -- airflow dags test fsdp_daily "$day" -c "$conf" || status=$?
  if [ "$status" -eq 75 ]; then exit 75; fi
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
    health_log="$logs/product-health-$day-$stamp.log"
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
}
main "$@"
