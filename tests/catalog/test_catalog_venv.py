"""Runs tests/catalog/inner (the SDK-side tests) inside .venv-catalog, so scripts/test.sh covers them."""
from __future__ import annotations

import os
import subprocess

from tests.catalog.conftest import ROOT


def test_sdk_side_catalog_tests_pass_in_the_catalog_venv(catalog_venv, catalog_artifacts):
    # -p no:pytest_openmetadata: openmetadata-ingestion's pytest plugin defines a `metadata`
    # fixture and spins up helpers this suite does not need
    proc = subprocess.run(
        [str(catalog_venv), "-m", "pytest", "-p", "no:pytest_openmetadata", "-p", "no:cacheprovider", "-q",
         "tests/catalog/inner"],
        cwd=ROOT, capture_output=True, text=True, timeout=900,
        env={**os.environ, "FSDP_CATALOG_TEST_ARTIFACTS": str(catalog_artifacts), "PYTHONPATH": str(ROOT)},
    )
    assert proc.returncode == 0, proc.stdout[-6000:] + proc.stderr[-3000:]
    assert " passed" in proc.stdout
