"""An isolated embedded Airflow for tests: its own AIRFLOW_HOME, DuckDB file, docs and reports
directories under tmp, the same environment scripts/run.sh and scripts/airflow.sh use
(include/pipeline/embedded.py)."""
from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PYTHON = ROOT / ".venv" / "bin" / "python"
if not PYTHON.exists():  # e.g. a venv elsewhere: the interpreter running the tests
    PYTHON = Path(sys.executable)
BIN = PYTHON.parent
# Debian's chromium, driven by playwright (its own browser download needs a host this workplace cannot reach)
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]


def chromium() -> str | None:
    for candidate in ("/usr/lib/chromium/chromium", shutil.which("chromium") or ""):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def browser():
    """Debian's chromium, headless, driven by playwright (closed on exit)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=chromium(), headless=True, args=CHROMIUM_FLAGS)
        try:
            yield b
        finally:
            b.close()


def isolated_env(tmp: Path, connection_string: str | None = None) -> dict[str, str]:
    """os.environ plus the embedded Airflow's variables, every path under ``tmp``."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("AIRFLOW", "FSDP_"))}
    base.update({
        "AIRFLOW_HOME": str(tmp / "airflow"),
        "FSDP_DUCKDB_PATH": str(tmp / "warehouse" / "fsdp.duckdb"),
        "FSDP_DBT_DOCS_DIR": str(tmp / "dbt_docs"),
        "FSDP_REPORTS_DIR": str(tmp / "reports"),
        "FSDP_SERVING_DIR": str(tmp / "serving"),
        "FSDP_DBT_TARGET_DIR": str(tmp / "dbt_target"),
    })
    if connection_string:
        base["AZURE_STORAGE_CONNECTION_STRING"] = connection_string
    code = ("import json, sys; from include.pipeline.embedded import embedded_env, prepare_home; "
            "env = embedded_env(); prepare_home(env); json.dump(env, sys.stdout)")
    out = subprocess.run([str(PYTHON), "-c", code], env=base, cwd=ROOT, check=True, capture_output=True, text=True)
    env = {**base, **json.loads(out.stdout)}
    env["PATH"] = f"{BIN}{os.pathsep}{env.get('PATH', '')}"
    return env


def run(args: list[str], env: dict[str, str], timeout: float = 600, check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run(args, env=env, cwd=ROOT, capture_output=True, text=True, timeout=timeout)
    if check and proc.returncode != 0:
        raise AssertionError(f"{' '.join(args)} exited {proc.returncode}\n--- stdout\n{proc.stdout[-6000:]}"
                             f"\n--- stderr\n{proc.stderr[-6000:]}")
    return proc


def parse_manifest(env: dict[str, str]) -> None:
    run([str(PYTHON), "-m", "include.pipeline.dbt", "parse"], env)


def init_airflow(env: dict[str, str]) -> None:
    """Metadata DB migrated and the duckdb_writer pool created (what scripts/lib.sh ensure_airflow does)."""
    run([str(PYTHON), "-m", "include.pipeline.embedded", "init"], env)


def long_scenario(what: str):
    """Marks an end-to-end scenario of several full pipeline runs (10+ minutes each on 2 cores).
    Skipped with this reason unless ``FSDP_E2E_LONG=1``: the default suite stays inside its time
    budget; the same guarantees have fast tests with real processes (tests/pipeline, tests/scripts)."""
    import pytest

    return pytest.mark.skipif(os.environ.get("FSDP_E2E_LONG") != "1",
                              reason=f"{what}: a long scenario of several pipeline runs; FSDP_E2E_LONG=1 scripts/test.sh runs it")
