"""Browser test: start the embedded Airflow UI (scripts/airflow.sh), log in, trigger fsdp_daily
from its trigger form in headless Chromium (Debian's chromium, driven by playwright) with enough
extra bad rows for a quality warning, wait for the run to succeed marked with warnings, open the
dbt docs and the run-report pages inside Airflow, and check the health DAG ran on the published
Assets. Screenshots go to FSDP_SCREENSHOT_DIR when set (docs/img holds the committed ones)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
from urllib.parse import quote
import urllib.request
from pathlib import Path

import pytest

from tests.conftest import AzuriteProcess
from tests.e2e import harness

pytestmark = [pytest.mark.azurite, pytest.mark.integration]

CHROMIUM_FLAGS = harness.CHROMIUM_FLAGS
RUN_TIMEOUT = 2400  # a UI-triggered run took 20+ min at load average 13 on 2 cores
SCREENSHOTS = os.environ.get("FSDP_SCREENSHOT_DIR")
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


def _task_instances(base: str, run_id: str, token: str) -> list[dict]:
    """Every task instance of a run: the API serves at most 100 per page (the DAG has more tasks)."""
    out: list[dict] = []
    while True:
        page = _api(base, "GET", f"/api/v2/dags/fsdp_daily/dagRuns/{quote(run_id, safe='')}/taskInstances"
                    f"?limit=100&offset={len(out)}", token=token)
        out += page["task_instances"]
        if not page["task_instances"] or len(out) >= page.get("total_entries", len(out)):
            return out


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
        # only the run this test triggers: no scheduled run when the DAG is unpaused. (Not
        # scheduler.use_job_schedule=False: it also stops the asset-triggered runs of fsdp_product_health.)
        "FSDP_DAILY_SCHEDULE": "none",
        "AIRFLOW__CORE__DAGS_ARE_PAUSED_AT_CREATION": "False",
    })
    out = (tmp / "airflow.out").open("w")
    proc = subprocess.Popen(["scripts/airflow.sh", "--port", str(port)], cwd=harness.ROOT, env=env,
                            stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 900  # 1-2 min on a quiet machine; over 5 min at load average 14
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
        # enough invalid customers for the rejected_share check to warn: a run marked with warnings
        dialog.locator("input[role=spinbutton]").nth(1).fill("60")
        dialog.locator("[data-testid=trigger-dag-submit]").click()
        expect(dialog).to_be_hidden(timeout=60_000)

        # the run the form created
        deadline = time.monotonic() + 30
        runs = []
        while not runs and time.monotonic() < deadline:
            runs = _api(base, "GET", "/api/v2/dags/fsdp_daily/dagRuns?run_type=manual", token=token)["dag_runs"]
            time.sleep(1)
        assert len(runs) == 1, runs
        run = runs[0]
        assert run["conf"]["rows"] == 200 and run["conf"]["bad_rows"] == 60

        # the UI's auto-refreshing pages cost a core while the run runs: wait through the API on a blank page
        page.goto("about:blank")
        deadline = time.monotonic() + RUN_TIMEOUT
        while run["state"] not in ("success", "failed") and time.monotonic() < deadline:
            time.sleep(5)
            run = _api(base, "GET", f"/api/v2/dags/fsdp_daily/dagRuns/{run['dag_run_id']}", token=token)
        if run["state"] != "success":
            tis = _task_instances(base, run["dag_run_id"], token)
            failed = [t["task_id"] for t in tis if t["state"] in ("failed", "up_for_retry")]
            pytest.fail(f"run {run['dag_run_id']} ended {run['state']}; failed tasks: {failed}")

        run_id = run["dag_run_id"]
        # the run succeeded, marked: quality_warnings failed (a teardown: the run stays green) and the note says so
        tis = {t["task_id"]: t["state"] for t in _task_instances(base, run_id, token)}
        assert tis["quality_warnings"] == "failed" and tis["run_report"] == "success"
        assert run["note"] and run["note"].startswith("Success with warnings") and "rejected_share" in run["note"]

        page.goto(f"{base}/dags/fsdp_daily/runs/{quote(run_id, safe='')}")
        expect(page.get_by_text("Success with warnings").first).to_be_visible()
        _shot(page, "run-with-warnings.png")

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
        # the project's overview, not dbt's generic welcome page
        expect(docs_page.get_by_text("The customer data product for financial services").first).to_be_attached()

        # the run reports, next to the dbt docs in the Browse menu
        page.goto(base + "/")
        page.get_by_role("button", name="Browse").click()
        item = page.get_by_role("menuitem", name="Run reports (FSDP data product)")
        assert "/fsdp-run-reports/" in item.get_attribute("href")
        with page.expect_popup() as popup:
            item.click()
        reports = popup.value
        reports.wait_for_load_state()
        expect(reports.get_by_role("heading", name="Run reports: fsdp_daily")).to_be_visible()
        row = reports.locator("tr", has=reports.get_by_role("link", name=run_id))
        expect(row.locator("[data-verdict=success_with_warnings]")).to_be_visible()
        row.get_by_role("link", name=run_id).click()
        reports.wait_for_load_state()
        expect(reports.locator("#section-quality")).to_contain_text("rejected_share")
        expect(reports.locator("#section-entities")).to_contain_text("customers")
        expect(reports.locator("#section-freshness")).to_contain_text("landing freshness")
        # the health DAG runs on the published Assets and adds its verdict to this run's report
        deadline = time.monotonic() + 900
        while time.monotonic() < deadline and not reports.locator("#section-product_health").count():
            time.sleep(5)
            reports.reload()
        expect(reports.locator("#section-product_health")).to_contain_text("degraded")
        expect(reports.locator("#section-tasks")).to_contain_text("tasks")
        _shot(reports, "run-report.png", full_page=True)
        browser.close()

    docs = Path(env["FSDP_DBT_DOCS_DIR"])
    assert (docs / "catalog.json").exists()
    health = _api(base, "GET", "/api/v2/dags/fsdp_product_health/dagRuns", token=token)["dag_runs"]
    assert [r["state"] for r in health] == ["success"] and health[0]["note"].startswith("Product health: DEGRADED")


def test_the_run_report_pages_refuse_anonymous_callers(airflow_ui):
    base = airflow_ui["base"]
    for path in ("/fsdp-run-reports/?dag_id=fsdp_daily", "/fsdp-run-reports/run.json?dag_id=fsdp_daily&run_id=x"):
        with pytest.raises(urllib.error.HTTPError) as err:
            urllib.request.urlopen(base + path, timeout=30)
        assert err.value.code in (401, 403), path
    with pytest.raises(urllib.error.HTTPError) as err:
        urllib.request.urlopen(urllib.request.Request(base + "/fsdp-run-reports/", headers={
            "Authorization": "Bearer not-a-token"}), timeout=30)
    assert err.value.code in (401, 403)


def _shot(page, name: str, full_page: bool = False) -> None:
    if SCREENSHOTS:
        Path(SCREENSHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(SCREENSHOTS) / name), full_page=full_page)
