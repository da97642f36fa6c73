"""Run the catalog step from the main venv (the DAG's task): `push_to_catalog(...)`.

openmetadata-ingestion cannot live in the main venv (it pins antlr4-python3-runtime==4.9.2, Soda
needs 4.11), so the push runs as `python -m include.catalog push` in .venv-catalog
(scripts/lib.sh: ensure_catalog_venv). This module imports nothing heavy: it resolves the server
(environment first, then the Airflow connection) and hands it to the subprocess as environment.
"""
from __future__ import annotations

import json
import logging
import os
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Mapping

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parents[2]
CATALOG_PYTHON = Path(os.environ.get("FSDP_CATALOG_PYTHON", ROOT / ".venv-catalog" / "bin" / "python"))
DEFAULT_CONN_ID = "openmetadata_default"
TARGET = ROOT / "dbt_project" / "target"


class CatalogStepError(RuntimeError):
    """The catalog push failed; the message carries the step's own last lines."""


def server_from_connection(conn: Any) -> dict[str, str]:
    """OPENMETADATA_* variables from an Airflow connection.

    host: `openmetadata-server` (+ port, schema = http/https) or a full URL `http://host:8585/api`;
    the JWT in the password or in extra `{"jwt_token": ...}`."""
    host = (conn.host or "").strip()
    if not host:
        return {}
    if "://" in host:
        url = host.rstrip("/")
    else:
        scheme = conn.schema if conn.schema in ("http", "https") else "http"
        url = f"{scheme}://{host}:{conn.port or 8585}"
    if not url.endswith("/api"):
        url += "/api"
    token = conn.password or (conn.extra_dejson or {}).get("jwt_token") or ""
    return {"OPENMETADATA_HOST_PORT": url, "OPENMETADATA_JWT_TOKEN": token}


def resolve_server(conn_id: str = DEFAULT_CONN_ID, environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """Where to push: OPENMETADATA_HOST_PORT/_JWT_TOKEN from the environment, else the Airflow
    connection `conn_id`, else {} (no server: the step records what it would send)."""
    environ = os.environ if environ is None else environ
    if environ.get("OPENMETADATA_HOST_PORT", "").strip():
        return {k: environ.get(k, "") for k in ("OPENMETADATA_HOST_PORT", "OPENMETADATA_JWT_TOKEN")}
    try:
        from airflow.sdk import BaseHook

        return server_from_connection(BaseHook.get_connection(conn_id))
    except Exception as exc:  # noqa: BLE001 - no Airflow, no connection: both mean "not configured"
        log.debug("no Airflow connection %s: %s", conn_id, exc)
        return {}


def describe_api() -> dict:
    """The data API's service, endpoints and reads (include/api, main venv) for the catalog push."""
    from include.api.describe import describe
    from include.api.settings import ApiSettings

    return describe(ApiSettings.from_env(jwt_secret=None))


def dag_tasks(dag: Any) -> list[dict]:
    """The DAG's tasks and their downstream tasks, as the catalog's pipeline entity lists them."""
    return [{"name": t.task_id, "downstream": sorted(t.downstream_task_ids), "taskType": type(t).__name__}
            for t in dag.tasks]


def catalog_command(*, manifest: Path, catalog: Path, run_results: Path, quality_json: Path | None,
                    dp_manifest: Path | None, dag_tasks_file: Path | None, out: Path | None,
                    dbt_ingestion: bool, api_json: Path | None = None, freshness_json: Path | None = None) -> list[str]:
    cmd = [str(CATALOG_PYTHON), "-W", "ignore", "-m", "include.catalog", "push",
           "--manifest", str(manifest), "--catalog", str(catalog), "--run-results", str(run_results)]
    for flag, value in (("--quality-json", quality_json), ("--freshness-json", freshness_json),
                        ("--dp-manifest", dp_manifest),
                        ("--dag-tasks", dag_tasks_file), ("--out", out), ("--api-json", api_json)):
        if value:
            cmd += [flag, str(value)]
    if not dbt_ingestion:
        cmd.append("--no-dbt-ingestion")
    return cmd


def push_to_catalog(*, manifest: Path = TARGET / "manifest.json", catalog: Path = TARGET / "catalog.json",
                    run_results: Path = TARGET / "run_results.json", quality_json: Path | None = None,
                    freshness_json: Path | None = None,
                    dp_manifest: Path | None = None, dag: Any = None, out: Path | None = None,
                    conn_id: str = DEFAULT_CONN_ID, dbt_ingestion: bool = True,
                    timeout_s: float = 1800) -> dict:
    """Push the catalog (or record it when no server is configured); returns the step's summary.

    Raises CatalogStepError with the step's message when it fails (unreachable or incompatible
    server after the retries, a rejected write)."""
    if not CATALOG_PYTHON.exists():
        raise CatalogStepError(f"{CATALOG_PYTHON} is missing: create it with "
                               "`source scripts/lib.sh && ensure_catalog_venv`")
    env = {**os.environ, **resolve_server(conn_id), "PYTHONPATH": str(ROOT)}
    with tempfile.TemporaryDirectory(prefix="fsdp-catalog-") as tmp:
        tasks_file = None
        if dag is not None:
            tasks_file = Path(tmp) / "dag_tasks.json"
            tasks_file.write_text(json.dumps(dag_tasks(dag)))
        api_json = Path(tmp) / "data_api.json"
        try:
            api_json.write_text(json.dumps(describe_api()))
        except Exception as exc:  # noqa: BLE001 - the catalog of the tables must not fail on the API's
            log.warning("catalog: the data API is not described (%s); publishing the rest", exc)
            api_json = None
        cmd = catalog_command(manifest=manifest, catalog=catalog, run_results=run_results,
                              quality_json=quality_json, freshness_json=freshness_json, dp_manifest=dp_manifest,
                              dag_tasks_file=tasks_file, out=out, dbt_ingestion=dbt_ingestion, api_json=api_json)
        proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout_s)
    for line in proc.stdout.splitlines():
        log.info("%s", line)
    if proc.returncode != 0:
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
        failed = [ln for ln in proc.stderr.splitlines() if ln.startswith("catalog: FAILED")]
        raise CatalogStepError(failed[-1] if failed else f"catalog step exited {proc.returncode}:\n{tail}")
    summary_lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("catalog: {")]
    return json.loads(summary_lines[-1][len("catalog: "):]) if summary_lines else {}
