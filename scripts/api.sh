#!/usr/bin/env bash
# The data API (include/api): FastAPI on uvicorn over the latest serving copy the pipeline
# published (scripts/run.sh publishes one). Installs what it needs (.venv), creates a random JWT
# secret for this installation when FSDP_API_JWT_SECRET is unset (.local/api/jwt_secret, mode
# 0600), starts the service in the background, waits until it answers and prints the URL, how to
# get a token and a first call. Logs: .local/api/api.log.
#
#   scripts/api.sh [--port 8000] [--host 127.0.0.1] [--foreground] [--stop]
#
# Leaves running: one uvicorn process (pid in .local/api/api.pid) until `scripts/api.sh --stop`.
set -euo pipefail
source "$(dirname "$0")/lib.sh"

port="${FSDP_API_PORT:-8000}"; host="${FSDP_API_HOST:-127.0.0.1}"; foreground=false; stop=false
while [ $# -gt 0 ]; do
  case "$1" in
    --port) port="$2"; shift 2 ;;
    --host) host="$2"; shift 2 ;;
    --foreground) foreground=true; shift ;;
    --stop) stop=true; shift ;;
    -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    *) echo "unknown argument: $1 (see --help)" >&2; exit 2 ;;
  esac
done

api_dir="$LOCAL/api"; pidfile="$api_dir/api.pid"
mkdir -p "$api_dir"
if $stop; then
  if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
    kill "$(cat "$pidfile")" && rm -f "$pidfile" && log "data API stopped"
  else
    log "data API is not running"
  fi
  exit 0
fi

ensure_venv
cd "$ROOT"
if [ -z "${FSDP_API_JWT_SECRET:-}" ]; then
  if [ ! -s "$api_dir/jwt_secret" ]; then
    (umask 077; "$VENV/bin/python" -c 'import secrets; print(secrets.token_urlsafe(48))' > "$api_dir/jwt_secret")
  fi
  FSDP_API_JWT_SECRET="$(cat "$api_dir/jwt_secret")"; export FSDP_API_JWT_SECRET
fi
"$VENV/bin/python" -m include.api check >&2
if ! "$VENV/bin/python" -c 'import sys; from include import serving; sys.exit(serving.current() is None)'; then
  echo "no serving copy is published yet: run scripts/run.sh first (the service starts anyway and answers 503 until one is)" >&2
fi
url="http://$host:$port"
if $foreground; then
  exec "$VENV/bin/python" -m include.api serve --host "$host" --port "$port"
fi
if [ -f "$pidfile" ] && kill -0 "$(cat "$pidfile")" 2>/dev/null; then
  log "data API already running (pid $(cat "$pidfile")) on $url"
else
  nohup "$VENV/bin/python" -m include.api serve --host "$host" --port "$port" >"$api_dir/api.log" 2>&1 &
  echo $! > "$pidfile"
  for _ in $(seq 1 150); do
    if curl -fsS "$url/health" >/dev/null 2>&1; then break; fi
    if ! kill -0 "$(cat "$pidfile")" 2>/dev/null; then echo "the data API did not start; see $api_dir/api.log" >&2; exit 1; fi
    sleep 0.2
  done
fi
cat <<MSG

Data API on $url   (docs: $url/docs, OpenAPI: $url/openapi.json, stop: scripts/api.sh --stop)

A token (groups: admin, analyst, viewer; analysts see one zone, from the token's zone claim):
  export FSDP_API_JWT_SECRET="\$(cat .local/api/jwt_secret)"   # unless you set your own
  TOKEN=\$(.venv/bin/python -m include.api token --group analyst --claim zone=North)

A first call:
  curl -s $url/v2/load -H 'Content-Type: application/json' -H "Authorization: Bearer \$TOKEN" \\
    --data '{"query": {"measures": ["transactions.debit_to_credit_ratio"], "dimensions": ["customers.zone"]}}'

An API key instead: .venv/bin/python -m include.api apikey create --group viewer --name my-app
Usage report from the audit trail: .venv/bin/python -m include.api usage
MSG
