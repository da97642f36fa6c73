"""Fixtures of the SDK-side tests (run in .venv-catalog): one full push against the recorder."""
from __future__ import annotations

import json
import warnings
from dataclasses import dataclass
from pathlib import Path

import pytest

warnings.filterwarnings("ignore")

from include.catalog.plan import CatalogPlan, build_plan  # noqa: E402
from include.catalog.push import CatalogPusher, PushResult, connect, dbt_workflow_config, run_dbt_workflow  # noqa: E402
from include.catalog.recorder import FakeOpenMetadata, serve, unsigned_jwt  # noqa: E402

DAG_TASKS = [
    {"name": "land", "downstream": ["dbt_build"], "taskType": "PythonOperator"},
    {"name": "dbt_build", "downstream": ["soda_gate"], "taskType": "DbtTaskGroup"},
    {"name": "soda_gate", "downstream": ["catalog"], "taskType": "PythonOperator"},
    {"name": "catalog", "downstream": [], "taskType": "PythonOperator"},
]


@dataclass
class Pushed:
    fake: FakeOpenMetadata
    plan: CatalogPlan
    result: PushResult
    url: str

    def push_again(self) -> PushResult:
        return push(self.url, self.plan, self.artifacts)

    artifacts: Path = None


def push(url: str, plan: CatalogPlan, artifacts: Path) -> PushResult:
    jwt = unsigned_jwt()
    target = artifacts / "target"
    config = dbt_workflow_config(url, jwt, plan.dp["warehouse"]["service"], target / "manifest.json",
                                 target / "catalog.json", target / "run_results.json")
    om = connect(url, jwt, retries=1)
    return CatalogPusher(om, plan, dag_tasks=DAG_TASKS, dbt_ingestion=lambda: run_dbt_workflow(config),
                         airflow_url="http://airflow.test:8080", duckdb_path="/data/fsdp.duckdb").run()


FRESHNESS = {"logical_date": "2026-01-05", "as_of": "2026-01-05T06:00:00Z", "sources": [
    {"source": "landing", "table": "customers", "status": "pass", "age_hours": 2.5, "criteria": "1 day / 3 day"},
    {"source": "landing", "table": "transactions", "status": "warn", "age_hours": 30.0, "criteria": "1 day / 3 day"}]}


def make_plan(artifacts: Path) -> CatalogPlan:
    t = artifacts / "target"
    freshness = artifacts / "freshness.json"
    freshness.write_text(json.dumps(FRESHNESS))
    return build_plan(t / "manifest.json", t / "catalog.json", artifacts / "soda", api_path=artifacts / "data_api.json",
                      freshness_path=freshness)


@pytest.fixture(scope="module")
def pushed(catalog_artifacts):
    """The whole step (dbt ingestion included) pushed once to a recording OpenMetadata 2.0.x."""
    plan = make_plan(catalog_artifacts)
    with serve() as (url, fake):
        result = push(url, plan, catalog_artifacts)
        yield Pushed(fake=fake, plan=plan, result=result, url=url, artifacts=catalog_artifacts)
