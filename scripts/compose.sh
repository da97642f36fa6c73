#!/usr/bin/env bash
# The compose stack (docker-compose.yaml) with its secrets: on first use writes a random value
# for every secret the stack needs into .env (docker/compose_secrets.py; a value already set is
# never changed) and OpenMetadata's JWT signing keys into .local/compose/openmetadata-jwt/, then
# runs `docker compose "$@"` (default: up -d). docker-compose.yaml itself has no default secret:
# plain `docker compose up` refuses to start, naming what to set, until they exist.
#
#   scripts/compose.sh            # = scripts/compose.sh up -d
#   scripts/compose.sh secrets    # only generate the secrets
#   scripts/compose.sh down       # any docker compose command
set -euo pipefail
source "$(dirname "$0")/lib.sh"
setup_lock
ensure_venv
setup_unlock
cd "$ROOT"
"$VENV/bin/python" docker/compose_secrets.py
if [ "${1:-}" = "secrets" ]; then exit 0; fi
command -v docker >/dev/null || { echo "docker is required for the compose stack (the embedded default needs none: scripts/run.sh)" >&2; exit 1; }
if [ $# -eq 0 ]; then set -- up -d; fi
exec docker compose "$@"
