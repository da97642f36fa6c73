"""Run the project's dbt against an isolated warehouse: its own DuckDB file, landing and curated
containers, target and log folders, so tests and benchmarks never touch the developer's state."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PROJECT_DIR = ROOT / "dbt_project"
DBT = Path(sys.executable).parent / "dbt"


@dataclass
class Warehouse:
    """One isolated dbt environment; ``env`` is passed to every dbt process."""

    work_dir: Path
    connection_string: str
    landing_container: str = "landing"
    curated_container: str = "curated"
    extra_env: dict = field(default_factory=dict)

    @property
    def duckdb_path(self) -> Path:
        return self.work_dir / "fsdp.duckdb"

    @property
    def target_path(self) -> Path:
        return self.work_dir / "target"

    @property
    def env(self) -> dict:
        env = dict(os.environ)
        env.update({
            "AZURE_STORAGE_CONNECTION_STRING": self.connection_string,
            "FSDP_DUCKDB_PATH": str(self.duckdb_path),
            "FSDP_LANDING_CONTAINER": self.landing_container,
            "FSDP_CURATED_CONTAINER": self.curated_container,
            "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
        })
        env.update(self.extra_env)
        return env

    def dbt(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """Run ``dbt <args>`` for this warehouse; raises with dbt's output when it fails."""
        cmd = [str(DBT), *args, "--project-dir", str(PROJECT_DIR), "--profiles-dir", str(PROJECT_DIR),
               "--target-path", str(self.target_path), "--log-path", str(self.work_dir / "logs")]
        proc = subprocess.run(cmd, cwd=ROOT, env=self.env, capture_output=True, text=True)
        if check and proc.returncode != 0:
            raise AssertionError(f"dbt {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout[-8000:]}\n{proc.stderr[-2000:]}")
        return proc

    def run_results(self) -> dict:
        return json.loads((self.target_path / "run_results.json").read_text())

    def manifest(self) -> dict:
        return json.loads((self.target_path / "manifest.json").read_text())

    def query(self, sql: str) -> list[tuple]:
        import duckdb

        with duckdb.connect(str(self.duckdb_path), read_only=True) as con:
            return con.execute(sql).fetchall()
