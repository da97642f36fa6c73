"""Catalog tests. Two venvs: tests here run in .venv (the plan, the launcher), tests in inner/
import openmetadata-ingestion and run in .venv-catalog - test_catalog_venv.py runs them there, so
the single `scripts/test.sh` covers both."""
from __future__ import annotations

import importlib.util
import os
import sys
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CATALOG_PYTHON = ROOT / ".venv-catalog" / "bin" / "python"

# inner/ needs the SDK: collected only by .venv-catalog's pytest
if importlib.util.find_spec("metadata") is None or importlib.util.find_spec("metadata.ingestion") is None:
    collect_ignore = ["inner"]


@pytest.fixture(scope="session")
def catalog_artifacts(tmp_path_factory) -> Path:
    """Real dbt artifacts + a Soda result of a tiny product-shaped project (tests/catalog/artifacts.py)."""
    given = os.environ.get("FSDP_CATALOG_TEST_ARTIFACTS")
    if given:
        return Path(given)
    out = tmp_path_factory.mktemp("catalog-artifacts")
    if importlib.util.find_spec("duckdb") is not None and (Path(sys.executable).with_name("dbt")).exists():
        from tests.catalog.artifacts import build
        return build(out)
    # in .venv-catalog (no dbt-duckdb): let the main venv build them
    subprocess.run([str(ROOT / ".venv" / "bin" / "python"), "-m", "tests.catalog.artifacts", str(out)],
                   check=True, cwd=ROOT)
    return out


@pytest.fixture(scope="session")
def catalog_venv() -> Path:
    """.venv-catalog, created from requirements-catalog.lock when missing or stale (idempotent)."""
    subprocess.run(["bash", "-c", "source scripts/lib.sh && ensure_catalog_venv"], check=True, cwd=ROOT)
    return CATALOG_PYTHON
