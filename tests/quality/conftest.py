"""Fixtures: a clean fixture warehouse per test (tests/quality/warehouse.py), built by SQL."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from tests.quality import warehouse


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory) -> Path:
    return warehouse.build(tmp_path_factory.mktemp("quality_template") / "fsdp.duckdb")


@pytest.fixture
def clean_db(_template_db, tmp_path) -> Path:
    """A fresh copy of the clean warehouse, for one test to plant faults in."""
    path = tmp_path / "fsdp.duckdb"
    shutil.copyfile(_template_db, path)
    return path
