"""The environment of the embedded default Airflow: SQLite metadata DB under ``.local/airflow``,
the repo's dags/ and plugins/, SimpleAuthManager with one fixed admin, Cosmos' dbt docs view.

One definition serves scripts/run.sh, scripts/airflow.sh (``--exports``) and the tests
(``embedded_env(home=tmp)``), so all three run the same Airflow.

    python -m include.pipeline.embedded --exports   # shell `export` lines
    python -m include.pipeline.embedded init        # (with them exported) migrate the DB, create the pool
    python -m include.pipeline.embedded adopt-test-run LOG   # after `airflow dags test`: task logs, true start
"""
from __future__ import annotations

import json
import os
import re
import shlex
import sys
from pathlib import Path

from include.pipeline import settings

ADMIN_USER = "admin"
DEFAULT_ADMIN_PASSWORD = "admin"  # local embedded default only; docker-compose reads .env


def admin_password() -> str:
    return os.environ.get("FSDP_AIRFLOW_ADMIN_PASSWORD") or DEFAULT_ADMIN_PASSWORD


def embedded_env(home: Path | None = None, base: dict[str, str] | None = None) -> dict[str, str]:
    """Environment variables for Airflow processes of the embedded default; ``base`` values win
    for FSDP_* paths and the storage connection string, so tests can isolate every file."""
    base = dict(os.environ if base is None else base)
    home = Path(home or base.get("AIRFLOW_HOME") or settings.ROOT / ".local" / "airflow").resolve()
    docs_dir = Path(base.get("FSDP_DBT_DOCS_DIR") or settings.ROOT / ".local" / "dbt_docs").resolve()
    env = {
        "AIRFLOW_HOME": str(home),
        "AIRFLOW__CORE__DAGS_FOLDER": str(settings.ROOT / "dags"),
        "AIRFLOW__CORE__PLUGINS_FOLDER": str(settings.ROOT / "plugins"),
        "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
        "AIRFLOW__CORE__EXECUTOR": "LocalExecutor",
        "AIRFLOW__CORE__PARALLELISM": "4",
        # Cosmos renders from a manifest and imports dbt lazily; 60 s covers a cold 2-core machine
        "AIRFLOW__CORE__DAGBAG_IMPORT_TIMEOUT": "60",
        "AIRFLOW__DAG_PROCESSOR__DAG_FILE_PROCESSOR_TIMEOUT": "90",
        "AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL": "30",
        "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}",
        "AIRFLOW__CORE__AUTH_MANAGER":
            "airflow.api_fastapi.auth.managers.simple.simple_auth_manager.SimpleAuthManager",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS": f"{ADMIN_USER}:admin",
        "AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE": str(home / "simple_auth_manager_passwords.json"),
        "AIRFLOW__USAGE_DATA_COLLECTION__ENABLED": "False",
        "AIRFLOW__COSMOS__ENABLE_TELEMETRY": "False",
        # watcher mode: the producer would rewrite its whole XCom backup to a Variable after each of
        # its ~1,000 XCom pushes (for a retry of the producer, which the DAG never retries:
        # include/pipeline/dbt.py); off, it is written once, when the producer fails
        "AIRFLOW__COSMOS__ENABLE_WATCHER_RELIABLE_RETRY": "False",
        # Cosmos caches per DAG and task group name: under this Airflow home, never shared by checkouts
        "AIRFLOW__COSMOS__CACHE_DIR": str(home / "cosmos_cache"),
        "DO_NOT_TRACK": "1",
        # libraries that load a .env by themselves (Soda Core, with override) must not replace the
        # environment the scripts resolved (include/quality/soda_runner.py)
        "PYTHON_DOTENV_DISABLED": "1",
        "SCARF_ANALYTICS": "false",
        "AIRFLOW__COSMOS__DBT_DOCS_PROJECTS": json.dumps(
            {"fsdp": {"dir": str(docs_dir), "index": "index.html", "name": "dbt Docs (FSDP data product)"}}),
        "FSDP_DBT_DOCS_DIR": str(docs_dir),
        # links in alerts and run reports point at the embedded UI (scripts/airflow.sh)
        "FSDP_AIRFLOW_URL": base.get("FSDP_AIRFLOW_URL") or f"http://127.0.0.1:{base.get('FSDP_AIRFLOW_PORT') or 8080}",
        "FSDP_DUCKDB_PATH": str(settings.duckdb_path() if not base.get("FSDP_DUCKDB_PATH")
                                else Path(base["FSDP_DUCKDB_PATH"]).resolve()),
        "FSDP_REPORTS_DIR": str(Path(base.get("FSDP_REPORTS_DIR") or settings.ROOT / ".local" / "reports").resolve()),
        "FSDP_SERVING_DIR": str(Path(base.get("FSDP_SERVING_DIR") or settings.ROOT / ".local" / "serving").resolve()),
        # the project root on sys.path for task processes, whatever their working directory
        "PYTHONPATH": os.pathsep.join(p for p in (str(settings.ROOT), base.get("PYTHONPATH", "")) if p),
    }
    return env


def prepare_home(env: dict[str, str]) -> None:
    """Create AIRFLOW_HOME, the fixed admin password (SimpleAuthManager keeps its passwords in a
    JSON file and only generates one for users missing from it) and the JWT secret."""
    home = Path(env["AIRFLOW_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    # api-server and scheduler must sign task tokens with one secret: one random secret per
    # AIRFLOW_HOME, kept in a file there (git-ignored .local/), added to ``env``
    secret_file = home / "jwt_secret"
    if not secret_file.exists():
        import secrets

        secret_file.write_text(secrets.token_urlsafe(32))
        secret_file.chmod(0o600)
    env["AIRFLOW__API_AUTH__JWT_SECRET"] = secret_file.read_text().strip()
    Path(env["FSDP_DBT_DOCS_DIR"]).mkdir(parents=True, exist_ok=True)
    Path(env["FSDP_DUCKDB_PATH"]).parent.mkdir(parents=True, exist_ok=True)
    Path(env["AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE"]).write_text(
        json.dumps({ADMIN_USER: admin_password()}) + "\n")


def init_airflow(env: dict[str, str] | None = None) -> None:
    """Migrate the metadata DB (once per Airflow version) and create the DuckDB pool. Run with the
    embedded environment exported (``env`` is only used for the migration subprocess)."""
    import subprocess

    import airflow

    env = {**os.environ, **(env or {})}
    home = Path(env["AIRFLOW_HOME"])
    marker = home / f".db-migrated-{airflow.__version__}"
    if not (marker.exists() and (home / "airflow.db").exists()):
        airflow_bin = Path(sys.executable).parent / "airflow"
        proc = subprocess.run([str(airflow_bin), "db", "migrate"], env=env, text=True, capture_output=True)
        if proc.returncode != 0:
            raise RuntimeError("airflow db migrate failed:\n" + (proc.stdout + proc.stderr)[-3000:])
        marker.touch()
    ensure_pool()


def ensure_pool() -> None:
    """The one-slot pool of every task that opens the DuckDB file (in-process: the CLI costs 5 s)."""
    from airflow.models.pool import Pool

    Pool.create_or_update_pool(settings.DUCKDB_POOL, slots=1, include_deferred=False,
                               description="DuckDB allows one writing process per database file")


_TASK_START = re.compile(r"\[DAG TEST\] starting task_id=(?P<task>\S+) map_index=(?P<map>-?\d+)")
_RUN = re.compile(r"\[DAG TEST\] running task <TaskInstance: (?P<dag>[\w.-]+?)\.\S+ (?P<run>\S+) \[")


def adopt_test_run(log_file: Path) -> dict:
    """Make a run of ``airflow dags test`` look in the UI like any other run: split its combined
    log (one file, every task in turn) into the per-task, per-attempt log files the UI reads, and
    record its true start (``dags test`` records the logical date as start date, so a run of
    today's date showed a duration since midnight). Returns ``{run_id, dag_id, task_logs}``."""
    from airflow.configuration import conf
    from airflow.models.dagrun import DagRun
    from airflow.utils.session import create_session
    from sqlalchemy import select

    lines = Path(log_file).read_text(errors="replace").splitlines(keepends=True)
    run = next((m for m in map(_RUN.search, lines) if m), None)
    if run is None:
        return {"run_id": None, "dag_id": None, "task_logs": 0}
    dag_id, run_id = run["dag"], run["run"]
    base = Path(conf.get("logging", "base_log_folder"))
    attempts: dict[tuple[str, int], int] = {}
    segments: list[tuple[Path, list[str]]] = []
    for line in lines:
        m = _TASK_START.search(line)
        if m:
            key = (m["task"], int(m["map"]))
            attempts[key] = attempts.get(key, 0) + 1
            folder = base / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={key[0]}"
            if key[1] >= 0:
                folder = folder / f"map_index={key[1]}"
            segments.append((folder / f"attempt={attempts[key]}.log", []))
        if segments:
            segments[-1][1].append(line)
    for path, body in segments:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("".join(body))
    with create_session() as session:
        dr = session.scalars(select(DagRun).where(DagRun.dag_id == dag_id, DagRun.run_id == run_id)).first()
        if dr is not None and dr.start_date and dr.run_after and dr.start_date < dr.run_after:
            dr.start_date = dr.run_after
    return {"run_id": run_id, "dag_id": dag_id, "task_logs": len(segments)}


def main(argv: list[str]) -> int:
    if argv[1:] == ["--exports"]:
        env = embedded_env()
        prepare_home(env)
        for key, value in env.items():
            print(f"export {key}={shlex.quote(value)}")
        return 0
    if argv[1:] == ["init"]:
        init_airflow()
        return 0
    if len(argv) == 3 and argv[1] == "adopt-test-run":
        print(json.dumps(adopt_test_run(Path(argv[2]))))
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
