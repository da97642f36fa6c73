"""The DAG-side launcher (main venv): where the server comes from, and the subprocess round trip."""
from __future__ import annotations

import json
import socket
from types import SimpleNamespace

import pytest

from include.catalog import launcher


def conn(**kw):
    base = {"host": None, "port": None, "schema": None, "password": None, "extra_dejson": {}}
    return SimpleNamespace(**{**base, **kw})


@pytest.mark.parametrize("connection, expected", [
    (conn(host="openmetadata-server", port=8585, password="jwt-1"),
     {"OPENMETADATA_HOST_PORT": "http://openmetadata-server:8585/api", "OPENMETADATA_JWT_TOKEN": "jwt-1"}),
    (conn(host="om.example.com", port=443, schema="https", extra_dejson={"jwt_token": "jwt-2"}),
     {"OPENMETADATA_HOST_PORT": "https://om.example.com:443/api", "OPENMETADATA_JWT_TOKEN": "jwt-2"}),
    (conn(host="http://localhost:8585/api/", password="jwt-3"),
     {"OPENMETADATA_HOST_PORT": "http://localhost:8585/api", "OPENMETADATA_JWT_TOKEN": "jwt-3"}),
    (conn(host=""), {}),
])
def test_server_from_an_airflow_connection(connection, expected):
    assert launcher.server_from_connection(connection) == expected


def test_environment_wins_over_the_airflow_connection(monkeypatch):
    monkeypatch.setattr(launcher, "server_from_connection", lambda c: pytest.fail("connection looked up"))
    env = {"OPENMETADATA_HOST_PORT": "http://om:8585/api", "OPENMETADATA_JWT_TOKEN": "t"}
    assert launcher.resolve_server(environ=env) == env


def test_no_environment_and_no_connection_means_not_configured():
    # Regression: outside a task Airflow may raise anything; "not configured" is the only answer
    assert launcher.resolve_server("no_such_connection_fsdp", environ={}) == {}


def test_dag_tasks_lists_tasks_with_their_downstream_tasks():
    a = SimpleNamespace(task_id="land", downstream_task_ids={"dbt", "soda"})
    b = SimpleNamespace(task_id="dbt", downstream_task_ids=set())
    assert launcher.dag_tasks(SimpleNamespace(tasks=[a, b])) == [
        {"name": "land", "downstream": ["dbt", "soda"], "taskType": "SimpleNamespace"},
        {"name": "dbt", "downstream": [], "taskType": "SimpleNamespace"}]


def _artifact_args(artifacts):
    t = artifacts / "target"
    return dict(manifest=t / "manifest.json", catalog=t / "catalog.json", run_results=t / "run_results.json",
                quality_json=artifacts / "soda")


def test_without_a_server_the_launcher_runs_the_step_in_the_catalog_venv_and_records(
        catalog_venv, catalog_artifacts, tmp_path, monkeypatch):
    monkeypatch.delenv("OPENMETADATA_HOST_PORT", raising=False)
    monkeypatch.setattr(launcher, "resolve_server", lambda conn_id: {})
    out = tmp_path / "openmetadata-requests.json"
    dag = SimpleNamespace(tasks=[SimpleNamespace(task_id="catalog", downstream_task_ids=set())])
    summary = launcher.push_to_catalog(**_artifact_args(catalog_artifacts), dag=dag, out=out)
    assert summary["server"] == "recorder"
    assert summary["tables"] == 19 and summary["pipeline_tasks"] == 1 and summary["dbt_ingestion"] == 1
    assert summary["metrics"] == summary["metric_assets"] == 3
    sent = json.loads(out.read_text())
    assert sent["requests"][0]["path"] == "/api/v1/system/version"
    assert any(r["path"] == "/api/v1/dataProducts/customer-overview-dp/assets/add" for r in sent["requests"])


def test_an_unreachable_server_fails_the_task_with_the_steps_message(
        catalog_venv, catalog_artifacts, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("OPENMETADATA_HOST_PORT", f"http://127.0.0.1:{port}/api")
    monkeypatch.setenv("OPENMETADATA_JWT_TOKEN", "a.b.c")
    monkeypatch.setenv("OPENMETADATA_RETRIES", "2")
    monkeypatch.setenv("OPENMETADATA_RETRY_WAIT_SECONDS", "0")
    with pytest.raises(launcher.CatalogStepError, match=r"catalog: FAILED: OpenMetadata at .* after 2 attempts"):
        launcher.push_to_catalog(**_artifact_args(catalog_artifacts), dbt_ingestion=False)
