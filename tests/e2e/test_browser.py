"""Browser test: start the embedded Airflow UI (scripts/airflow.sh), log in, trigger fsdp_daily
from its trigger form in headless Chromium (Debian's chromium, driven by playwright), wait for the
run to succeed, and open the dbt docs page inside Airflow."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import AzuriteProcess
from tests.e2e import harness

pytestmark = [pytest.mark.azurite, pytest.mark.integration]

CHROMIUM_FLAGS = harness.CHROMIUM_FLAGS
RUN_TIMEOUT = 900
_chromium = harness.chromium
_free_port = harness.free_port


def _api(base: str, method: str, path: str, body=None, token: str | None = None) -> dict:
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(base + path, method=method, headers=headers,
                                 data=json.dumps(body).encode() if body is not None else None)
    with urllib.request.urlopen(req, timeout=30) as resp:
        return json.loads(resp.read() or b"{}")


@pytest.fixture(scope="module")
def airflow_ui(tmp_path_factory):
    if _chromium() is None:
        pytest.skip("Debian's chromium is not installed (scripts/lib.sh ensure_chromium installs it)")
    tmp = tmp_path_factory.mktemp("ui")
    (tmp / "azurite").mkdir()
    azurite = AzuriteProcess(tmp / "azurite", _free_port())
    azurite.start()
    env = harness.isolated_env(tmp, azurite.connection_string)
    port = _free_port()
    env.update({
        "AZURITE_BLOB_PORT": str(azurite.port),
        "FSDP_AIRFLOW_LOG_DIR": str(tmp / "logs"),
        "FSDP_BLOB_RETRIES": "1",
        # only the run this test triggers: no scheduled run when the DAG is unpaused
        "AIRFLOW__SCHEDULER__USE_JOB_SCHEDULE": "False",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
    })
    out = (tmp / "airflow.out").open("w")
    proc = subprocess.Popen(["scripts/airflow.sh", "--port", str(port)], cwd=harness.ROOT, env=env,
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while "Airflow UI" not in (tmp / "airflow.out").read_text():
            if proc.poll() is not None or time.monotonic() > deadline:
                logs = "\n".join(f"--- {p.name}\n{p.read_text()[-3000:]}" for p in (tmp / "logs").glob("*.log"))
                pytest.fail(f"scripts/airflow.sh did not start:\n{(tmp / 'airflow.out').read_text()}\n{logs}")
            time.sleep(1)
        yield {"base": base, "env": env, "tmp": tmp}
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)  # the process group this fixture started
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
        out.close()
        azurite.stop()


def test_trigger_from_the_ui_runs_the_pipeline_and_the_dbt_docs_open_in_airflow(airflow_ui):
    from playwright.sync_api import expect, sync_playwright

    base, env = airflow_ui["base"], airflow_ui["env"]
    token = _api(base, "POST", "/auth/token", {"username": "admin", "password": "admin"})["access_token"]
    # the dag-processor parses the bundle shortly after start
    deadline = time.monotonic() + 180
    while True:
        try:
            _api(base, "GET", "/api/v2/dags/fsdp_daily", token=token)
            break
        except urllib.error.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(2)

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), headless=True, args=CHROMIUM_FLAGS)
        page = browser.new_page()
        page.set_default_timeout(60_000)

        page.goto(base + "/")
        page.fill("input[name=username]", "admin")
        page.fill("input[name=password]", "admin")
        page.click("button[type=submit]")
        page.wait_for_url(lambda url: "/auth/login" not in url)

        page.goto(base + "/dags/fsdp_daily")
        page.get_by_role("button", name="Trigger").first.click()
        dialog = page.get_by_role("dialog")
        expect(dialog.get_by_text("Customers to generate")).to_be_visible()
        rows = dialog.locator("input[role=spinbutton]").first
        rows.fill("200")
        dialog.locator("[data-testid=trigger-dag-submit]").click()
        expect(dialog).to_be_hidden()

        # the run the form created
        deadline = time.monotonic() + 30
        runs = []
        while not runs and time.monotonic() < deadline:
            runs = _api(base, "GET", "/api/v2/dags/fsdp_daily/dagRuns?run_type=manual", token=token)["dag_runs"]
            time.sleep(1)
        assert len(runs) == 1, runs
        run = runs[0]
        assert run["conf"]["rows"] == 200

        deadline = time.monotonic() + RUN_TIMEOUT
        while run["state"] not in ("success", "failed") and time.monotonic() < deadline:
            time.sleep(5)
            run = _api(base, "GET", f"/api/v2/dags/fsdp_daily/dagRuns/{run['dag_run_id']}", token=token)
        if run["state"] != "success":
            tis = _api(base, "GET", f"/api/v2/dags/fsdp_daily/dagRuns/{run['dag_run_id']}/taskInstances?limit=200",
                       token=token)["task_instances"]
            failed = [t["task_id"] for t in tis if t["state"] in ("failed", "up_for_retry")]
            pytest.fail(f"run {run['dag_run_id']} ended {run['state']}; failed tasks: {failed}")

        # dbt docs, from Airflow's Browse menu (Cosmos' docs view serves this run's docs; the
        # menu opens it in a new tab)
        page.goto(base + "/")
        page.get_by_role("button", name="Browse").click()
        item = page.get_by_role("menuitem", name="dbt Docs (FSDP data product)")
        assert item.get_attribute("href").endswith("/cosmos/fsdp/dbt_docs_index.html")
        with page.expect_popup() as popup:
            item.click()
        docs_page = popup.value
        docs_page.wait_for_load_state("networkidle")
        assert "/cosmos/fsdp/dbt_docs_index.html" in docs_page.url
        # dbt docs render the project's models once manifest.json and catalog.json load
        expect(docs_page.get_by_text("customer_overview_dp").first).to_be_attached(timeout=60_000)
        browser.close()

    docs = Path(env["FSDP_DBT_DOCS_DIR"])
    assert (docs / "catalog.json").exists()
