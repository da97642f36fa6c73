"""MetricFlow's own checks: `mf validate-configs` (semantic validations, then every semantic model,
dimension, measure and metric queried against the warehouse) passes, and `mf query` answers the
market place's question from the command line with the numbers the Python interface returns."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from include.semantic import Query

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
MF = Path(sys.executable).with_name("mf")


@pytest.fixture(scope="module")
def project(sl_warehouse, tmp_path_factory) -> Path:
    """A copy of the dbt project whose target/ holds the test warehouse's artifacts: `mf` reads
    <project>/target/semantic_manifest.json, always (it has no target-path option)."""
    copy = tmp_path_factory.mktemp("mf") / "dbt_project"
    shutil.copytree(ROOT / "dbt_project", copy, ignore=shutil.ignore_patterns("target", "logs", "dbt_packages"))
    (copy / "target").mkdir()
    for name in ("semantic_manifest.json", "manifest.json"):
        shutil.copyfile(sl_warehouse.target_path / name, copy / "target" / name)
    # dbt-duckdb opens its file for writing: give mf a copy, the session's readers keep the original
    shutil.copyfile(sl_warehouse.duckdb_path, copy / "fsdp.duckdb")
    return copy


def mf(warehouse, project: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**warehouse.env, "DBT_PROFILES_DIR": str(project), "FSDP_DUCKDB_PATH": str(project / "fsdp.duckdb"),
           "MF_DISABLE_TELEMETRY": "1", "NO_COLOR": "1"}
    return subprocess.run([str(MF), *args], cwd=project, env=env, capture_output=True, text=True, timeout=600)


def test_mf_validate_configs_passes_against_the_warehouse(sl_warehouse, project):
    done = mf(sl_warehouse, project, "validate-configs")
    out = done.stdout + done.stderr
    assert done.returncode == 0, out[-4000:]
    checks = [ln for ln in out.splitlines() if "Successfully validated" in ln]
    # semantics, then semantic models, dimensions, entities, measures and metrics against the warehouse
    assert len(checks) == 6 and all("(ERRORS: 0, FUTURE_ERRORS: 0" in ln for ln in checks), out[-4000:]


def test_mf_query_answers_debit_to_credit_ratio_by_zone_like_the_python_interface(sl_warehouse, project, layer):
    done = mf(sl_warehouse, project, "query", "--metrics", "debit_to_credit_ratio", "--group-by", "customer__zone",
              "--order", "customer__zone", "--csv", str(sl_warehouse.work_dir / "dtc.csv"))
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    import csv

    with open(sl_warehouse.work_dir / "dtc.csv") as fh:
        cli = {r["customer__zone"]: float(r["debit_to_credit_ratio"]) for r in csv.DictReader(fh)}
    rows = layer.run(Query(measures=["transactions.debit_to_credit_ratio"], dimensions=["customers.zone"])).rows
    assert cli == pytest.approx({r["customers.zone"]: r["transactions.debit_to_credit_ratio"] for r in rows})
