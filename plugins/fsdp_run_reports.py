"""Run reports in the Airflow UI, and the listener that closes each report when its run ends.

* **Browse > Run reports (FSDP data product)**, next to the dbt docs: every stored run report,
  newest first, each opening its page (include/pipeline/report_pages.py).
* A **Run report** tab on every DAG run's page (an external view with destination ``dag_run``).
* ``GET /fsdp-run-reports/run.json?dag_id=...&run_id=...``: the record itself.

Every route needs a logged-in user allowed to read the DAG's runs (the same check as Airflow's
own ``/api/v2/dags/{dag_id}/dagRuns``): the session cookie of the UI or a Bearer token.

The listener (scheduler, and ``airflow dags test``): when an fsdp_daily run ends it records the
final state, end time and duration in the run's report and sets the run's note to the report's
verdict line; an fsdp_product_health run gets its verdict as note.
"""
from __future__ import annotations

import logging
from typing import Annotated
from urllib.parse import urlsplit

from airflow.plugins_manager import AirflowPlugin
# module level, not inside create_app: FastAPI resolves the routes' (string) annotations in the
# module's globals
from fastapi import Query, Request

from include.pipeline import run_listener

log = logging.getLogger(__name__)

URL_PREFIX = "/fsdp-run-reports"


def _base_path() -> str:
    from airflow.configuration import conf

    return urlsplit(conf.get("api", "base_url", fallback="") or "").path.rstrip("/")


async def _can_read_runs(request: Request) -> None:
    """Airflow's own check of ``GET /api/v2/dags/{dag_id}/dagRuns`` (Bearer token, else the UI's
    session cookie). Airflow's security module is imported here, at the first request in the
    api-server: imported with the plugin, it cost every process that loads plugins (DAG parsing,
    each task) seconds."""
    from fastapi.security import HTTPAuthorizationCredentials
    from fastapi.security.utils import get_authorization_scheme_param

    from airflow.api_fastapi.auth.managers.models.resource_details import DagAccessEntity
    from airflow.api_fastapi.core_api.security import get_user, requires_access_dag

    scheme, token = get_authorization_scheme_param(request.headers.get("Authorization"))
    credentials = HTTPAuthorizationCredentials(scheme=scheme, credentials=token) if scheme and token else None
    user = await get_user(request, None, credentials)
    requires_access_dag("GET", DagAccessEntity.RUN)(request, user)


def create_app():
    from fastapi import Depends, FastAPI
    from fastapi.responses import HTMLResponse, JSONResponse

    from include.pipeline import report_pages, run_report

    app = FastAPI(title="FSDP run reports", docs_url=None, redoc_url=None, openapi_url=None)
    can_read_runs = Depends(_can_read_runs)
    base = _base_path()

    def links(request: Request) -> tuple[str, str]:
        return base + URL_PREFIX, base

    @app.get("/", response_class=HTMLResponse, dependencies=[can_read_runs])
    def index(request: Request, dag_id: Annotated[str, Query()] = run_listener.DAG_ID) -> HTMLResponse:
        here, airflow_base = links(request)
        return HTMLResponse(report_pages.list_page(run_report.list_reports(dag_id=dag_id), here, dag_id, airflow_base))

    @app.get("/run", response_class=HTMLResponse, dependencies=[can_read_runs])
    def run(request: Request, dag_id: Annotated[str, Query()], run_id: Annotated[str, Query()]) -> HTMLResponse:
        here, airflow_base = links(request)
        record = run_report.find(run_id)
        if record is None or record.get("dag_id", run_listener.DAG_ID) != dag_id:
            return HTMLResponse(report_pages.not_found_page(dag_id, run_id, here), status_code=404)
        return HTMLResponse(report_pages.run_page(record, here, airflow_base))

    @app.get("/run.json", dependencies=[can_read_runs])
    def run_json(dag_id: Annotated[str, Query()], run_id: Annotated[str, Query()]) -> JSONResponse:
        record = run_report.find(run_id)
        if record is None or record.get("dag_id", run_listener.DAG_ID) != dag_id:
            return JSONResponse({"detail": f"no run report for {dag_id} run {run_id}"}, status_code=404)
        return JSONResponse(record)

    return app


class FsdpRunReportsPlugin(AirflowPlugin):
    name = "fsdp_run_reports"
    listeners = [run_listener]

    def __init__(self) -> None:
        super().__init__()
        base = _base_path()
        self.fastapi_apps = [{"name": "fsdp_run_reports", "app": create_app(), "url_prefix": URL_PREFIX}]
        self.external_views = [
            {"name": "Run reports (FSDP data product)", "category": "Browse",
             "href": f"{base}{URL_PREFIX}/?dag_id={run_listener.DAG_ID}"},
            {"name": "Run report", "destination": "dag_run", "url_route": "fsdp-run-report",
             "href": f"{base}{URL_PREFIX}/run?dag_id={{DAG_ID}}&run_id={{RUN_ID}}"},
        ]
