#!/usr/bin/env bash
# Re-resolve requirements.txt into the fully pinned requirements.lock (run after editing requirements.txt).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_uv
"$UV" pip compile --quiet --python-version 3.11 --no-header --override overrides.txt requirements.txt -o requirements.lock
echo "requirements.lock: $(grep -c '==' requirements.lock) pinned packages"
