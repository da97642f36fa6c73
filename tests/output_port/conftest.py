"""A real warehouse for the output port tests: one generated pipeline day (include.mockgen,
landed to a local folder) built by the project's dbt into a DuckDB file; each test publishes a
copy of it to its own containers on the session's Azurite."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DAY = "2026-01-05"


@pytest.fixture(scope="session")
def built_warehouse(tmp_path_factory) -> tuple[Path, Path]:
    """(DuckDB file, dbt manifest) of a dbt build of 300 generated customers and their day."""
    work = tmp_path_factory.mktemp("output_port_dbt")
    landing = work / "land"
    subprocess.run([sys.executable, "-m", "include.mockgen", "daily", "--date", DAY, "--target", str(landing),
                    "--customers", "300", "--bad-rows", "3", "--quiet"], cwd=ROOT, check=True, capture_output=True)
    db = work / "fsdp.duckdb"
    env = {**os.environ, "FSDP_LANDING_ROOT": str(landing / "landing"), "FSDP_DUCKDB_PATH": str(db)}
    done = subprocess.run([str(Path(sys.executable).with_name("dbt")), "build", "--project-dir", "dbt_project",
                           "--profiles-dir", "dbt_project", "--exclude", "test_type:unit",
                           "--target-path", str(work / "target"), "--log-path", str(work / "logs")],
                          cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        pytest.fail("dbt build failed:\n" + "\n".join(done.stdout.splitlines()[-20:]))
    return db, work / "target" / "manifest.json"


@dataclass
class Port:
    """One test's warehouse copy and destination."""

    db: Path
    manifest: Path
    connection_string: str
    container: str

    def ports(self, audience: str | None = None):
        from include.output_port.ports import ports

        env = {"FSDP_CURATED_CONTAINER": self.container}
        if audience is not None:
            env["FSDP_OUTPUT_PORT_AUDIENCE"] = audience
        return ports(env)

    def store(self):
        from include.blob_storage import open_store

        return open_store(self.connection_string)

    def publish(self, run_id: str = "run-1", **kwargs) -> dict:
        from include.output_port import publish

        kwargs.setdefault("ports_", self.ports())
        summary = publish(self.db, run_id, DAY, manifest_path=self.manifest, **kwargs)
        return summary["ports"]["curated"]["tables"] if len(kwargs["ports_"]) == 1 else summary

    def status(self, **kwargs) -> dict:
        from include.output_port import status

        kwargs.setdefault("ports_", self.ports())
        return status(self.db, manifest_path=self.manifest, **kwargs)["curated"]


@pytest.fixture
def port(built_warehouse, azurite_env, tmp_path) -> Port:
    db, manifest = built_warehouse
    copy = tmp_path / "fsdp.duckdb"
    shutil.copy(db, copy)
    return Port(copy, manifest, azurite_env, f"curated-{uuid.uuid4().hex[:8]}")
