#!/usr/bin/env bash
# The whole test suite on a fresh machine: installs what it needs (pinned .venv, .venv-catalog, .venv-superset,
# Azurite from npm, Debian's chromium), starts the project's Azurite like scripts/run.sh, then runs
# pytest. The tests themselves start their own Azurite processes on free ports, so they never touch
# the data of the project's Azurite. Extra args go to pytest.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
ensure_venv
ensure_catalog_venv
ensure_superset_venv
ensure_node_modules
ensure_azurite
# Debian's chromium for tests/e2e/test_browser.py (skipped, with the reason, when it cannot be installed)
ensure_chromium || log "chromium could not be installed: the browser test will be skipped"
# Debian's redis-server for tests/api's replicas test (skipped, with the reason, when it cannot be installed)
ensure_redis || log "redis-server could not be installed: the Redis rate-limit test will be skipped"
cd "$ROOT"
exec "$VENV/bin/python" -m pytest "$@"
