#!/usr/bin/env bash
# Re-resolve the direct requirements into the fully pinned locks (run after editing a requirements*.txt):
# requirements.txt -> requirements.lock (pipeline), requirements-superset.txt -> requirements-superset.lock
# (dashboards). The catalog lock is compiled as requirements-catalog.txt says.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib.sh
ensure_uv
for name in requirements requirements-superset; do
  "$UV" pip compile --quiet --python-version 3.11 --no-header --override overrides.txt "$name.txt" -o "$name.lock"
  echo "$name.lock: $(grep -c '==' "$name.lock") pinned packages"
done
