"""Superset for tests and the benchmark: scripts/dashboards.sh in an isolated home, a JSON API
client per user, and a headless-Chromium dashboard renderer that records the chart-data answers
the dashboard really received.

    with SupersetServer(tmp, serving_dir) as ss:
        api = ss.api("admin", ss.admin_password)
        with browser() as b:
            render = render_dashboard(b, ss.base, "lead-generation", ss.admin_user, ss.admin_password, shot)
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from http.cookiejar import CookieJar
from pathlib import Path

from tests.e2e.harness import CHROMIUM_FLAGS, browser, chromium, free_port

ROOT = Path(__file__).resolve().parents[2]
SUPERSET_PYTHON = ROOT / ".venv-superset" / "bin" / "python"
START_TIMEOUT = 900        # bootstrap + first start on a busy 2-core machine
RENDER_TIMEOUT = 300


class ApiError(RuntimeError):
    def __init__(self, status: int, body: str):
        super().__init__(f"HTTP {status}: {body[:500]}")
        self.status, self.body = status, body


class Api:
    """Superset's REST API as one user: JWT for reads, session + CSRF token for SQL Lab."""

    def __init__(self, base: str, username: str, password: str):
        self.base = base
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(CookieJar()))
        self.token = self.call("POST", "/api/v1/security/login",
                               {"username": username, "password": password, "provider": "db", "refresh": False},
                               auth=False)["access_token"]
        self._csrf: str | None = None

    def call(self, method: str, path: str, body=None, auth: bool = True, csrf: bool = False) -> dict:
        headers = {"Content-Type": "application/json", "Referer": self.base}
        if auth:
            headers["Authorization"] = f"Bearer {self.token}"
        if csrf:
            if self._csrf is None:
                self._csrf = self.call("GET", "/api/v1/security/csrf_token/")["result"]
            headers["X-CSRFToken"] = self._csrf
        req = urllib.request.Request(self.base + path, method=method, headers=headers,
                                     data=json.dumps(body).encode() if body is not None else None)
        try:
            with self.opener.open(req, timeout=180) as resp:
                return json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as exc:
            raise ApiError(exc.code, exc.read().decode(errors="replace")) from None

    def get(self, path: str, **q) -> dict:
        if q:
            path += "?q=" + urllib.parse.quote(_rison(q))
        return self.call("GET", path)

    def chart_data(self, query_context: dict) -> dict:
        return self.call("POST", "/api/v1/chart/data", query_context)

    def sql_lab(self, database_id: int, sql: str) -> dict:
        return self.call("POST", "/api/v1/sqllab/execute/", {"database_id": database_id, "sql": sql, "runAsync": False,
                                                            "schema": None, "tab": "test"},
                         csrf=True)


def _rison(value) -> str:
    """Enough of Rison for Superset's list queries (dicts, lists, strings, numbers)."""
    if isinstance(value, dict):
        return "(" + ",".join(f"{k}:{_rison(v)}" for k, v in value.items()) + ")"
    if isinstance(value, (list, tuple)):
        return "!(" + ",".join(_rison(v) for v in value) + ")"
    if isinstance(value, bool):
        return "!t" if value else "!f"
    if isinstance(value, (int, float)):
        return str(value)
    text = str(value)
    return text if text.replace("_", "").isalnum() else "'" + text.replace("!", "!!").replace("'", "!'") + "'"


@dataclass
class SupersetServer:
    """scripts/dashboards.sh on a free port, its home and logs under ``tmp``, reading ``serving_dir``."""

    tmp: Path
    serving_dir: Path
    extra_env: dict = field(default_factory=dict)
    port: int = field(default_factory=free_port)

    def __post_init__(self):
        self.base = f"http://127.0.0.1:{self.port}"
        self.home = self.tmp / "superset"
        self.logs = self.tmp / "logs"
        self.proc: subprocess.Popen | None = None
        self.started_s: float | None = None

    @property
    def env(self) -> dict[str, str]:
        env = {k: v for k, v in os.environ.items() if not k.startswith(("SUPERSET_", "FSDP_SUPERSET"))}
        env.update({"FSDP_SUPERSET_HOME": str(self.home), "FSDP_SERVING_DIR": str(self.serving_dir),
                    "FSDP_SUPERSET_LOG_DIR": str(self.logs), "FSDP_SUPERSET_PORT": str(self.port),
                    **self.extra_env})
        return env

    def __enter__(self) -> "SupersetServer":
        self.tmp.mkdir(parents=True, exist_ok=True)
        self.out_path = self.tmp / "dashboards.out"
        out = self.out_path.open("w")
        started = time.monotonic()
        self.proc = subprocess.Popen(["scripts/dashboards.sh", "--port", str(self.port)], cwd=ROOT, env=self.env,
                                     stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = started + START_TIMEOUT
        while "Superset   :" not in self.out_path.read_text():
            if self.proc.poll() is not None or time.monotonic() > deadline:
                log = (self.logs / "superset.log").read_text()[-4000:] if (self.logs / "superset.log").exists() else ""
                self.__exit__()
                raise RuntimeError(f"scripts/dashboards.sh did not start:\n{self.out_path.read_text()[-4000:]}\n{log}")
            time.sleep(1)
        self.started_s = time.monotonic() - started
        self.admin_user = "admin"
        self.admin_password = (self.home / "admin_password").read_text().strip()
        return self

    def __exit__(self, *exc) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)   # the process group this harness started
            try:
                self.proc.wait(60)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def pid_tree_rss_mb(self) -> float:
        """Resident memory of the server's process group (gunicorn master and workers), MiB."""
        import psutil

        total = 0
        for proc in psutil.process_iter(["pid"]):
            try:
                if os.getpgid(proc.pid) == self.proc.pid:
                    total += proc.memory_info().rss
            except (psutil.Error, ProcessLookupError):
                continue
        return total / 2**20

    def api(self, username: str, password: str) -> Api:
        return Api(self.base, username, password)

    def cli(self, *args: str) -> dict:
        """``python -m include.dashboards ...`` in the server's environment; the last JSON line it printed."""
        env = {**self.env, "SUPERSET_ADMIN_PASSWORD": self.admin_password,
               "SUPERSET_SECRET_KEY": (self.home / "secret_key").read_text().strip()}
        from include.dashboards.embedded import superset_env

        env.update(superset_env(env))
        proc = subprocess.run([str(SUPERSET_PYTHON), "-m", "include.dashboards", *args], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=600)
        if proc.returncode != 0:
            raise RuntimeError(f"include.dashboards {' '.join(args)} exited {proc.returncode}:\n{proc.stderr[-3000:]}")
        return json.loads([line for line in proc.stdout.splitlines() if line.startswith("{")][-1])


@dataclass
class Render:
    slug: str
    seconds: float                       # from navigation to every chart rendered
    charts: dict[int, dict]              # slice id -> {"viz_type", "name", "text", "drawn"}
    answers: dict[int, dict]             # slice id -> the chart-data JSON the dashboard received
    requests: dict[int, dict]            # slice id -> the query context it sent
    errors: list[str]


def login(page, base: str, username: str, password: str, timeout: float = RENDER_TIMEOUT) -> None:
    """Log in through Superset's login form. The form is drawn by React: on a loaded machine it can be
    drawn again after the fields were filled (a click then submits nothing), so fill and submit are
    repeated until the page leaves /login or ``timeout`` passes; the failure says what the page showed."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    deadline = time.monotonic() + timeout
    page.goto(base + "/login/")
    attempts = 0
    while True:
        attempts += 1
        page.fill("[data-test=username-input]", username)
        page.fill("[data-test=password-input]", password)
        page.click("[data-test=login-button]")
        try:
            page.wait_for_url(lambda url: "/login" not in url, timeout=30_000)
            return
        except PlaywrightTimeout:
            if time.monotonic() > deadline:
                shown = page.inner_text("body")[:1500]
                raise AssertionError(f"login as {username} still on {page.url} after {attempts} attempts "
                                     f"in {timeout:.0f} s; the page shows:\n{shown}") from None


def render_dashboard(page, base: str, slug: str, screenshot: Path | None = None,
                     timeout: float = RENDER_TIMEOUT) -> Render:
    """Open a dashboard in a logged-in page, wait until every chart has its data and has drawn
    (canvas, svg or table; no loading indicator), return what it received; ``screenshot`` saves
    the whole page."""
    answers, requests, failures = {}, {}, []

    def on_response(resp) -> None:
        if "/api/v1/chart/data" not in resp.url:
            return
        try:
            body = resp.request.post_data_json or {}
            slice_id = (body.get("form_data") or {}).get("slice_id")
            if slice_id is None:
                q = urllib.parse.parse_qs(urllib.parse.urlsplit(resp.url).query)
                slice_id = json.loads(q.get("form_data", ["{}"])[0]).get("slice_id")
            answers[int(slice_id)] = resp.json()
            requests[int(slice_id)] = body
            if resp.status != 200:
                failures.append(f"chart {slice_id}: HTTP {resp.status}")
        except Exception as exc:  # noqa: BLE001 - recorded, the test fails on it
            failures.append(f"chart-data response unreadable: {exc}")

    page.on("response", on_response)
    started = time.monotonic()
    page.goto(f"{base}/superset/dashboard/{slug}/")
    page.wait_for_selector("[data-test-chart-id]", timeout=timeout * 1000)
    deadline = started + timeout
    stable_since = None
    while True:
        charts = page.evaluate("""() => Object.fromEntries(Array.from(document.querySelectorAll('[data-test-chart-id]'))
            .map(e => [e.getAttribute('data-test-chart-id'), {
                viz_type: e.getAttribute('data-test-viz-type'), name: e.getAttribute('data-test-chart-name'),
                drawn: e.querySelectorAll('canvas, svg, table, .header-line').length,
                loading: e.querySelectorAll('[data-test=loading-indicator]').length,
                error: Array.from(e.querySelectorAll('[role=alert], .alert-danger, [data-test=error-alert]'))
                    .map(a => a.innerText).join(' | '),
                text: e.innerText}]))""")
        done = all(int(cid) in answers and c["drawn"] and not c["loading"] for cid, c in charts.items())
        if done and stable_since is None:
            stable_since, seconds = time.monotonic(), time.monotonic() - started
        elif not done:
            stable_since = None
        # drawn, and still drawn a second later (a chart that re-mounts is not done)
        if (stable_since is not None and time.monotonic() - stable_since >= 1.0) or time.monotonic() > deadline:
            break
        time.sleep(0.25)
    if stable_since is None:
        seconds = time.monotonic() - started
    page.remove_listener("response", on_response)
    errors = list(failures)
    for cid, c in charts.items():
        if int(cid) not in answers:
            errors.append(f"chart {cid} ({c['name']}): no chart-data answer within {timeout} s")
        elif not c["drawn"] or c["loading"]:
            errors.append(f"chart {cid} ({c['name']}): not drawn within {timeout} s")
        if c["error"]:
            errors.append(f"chart {cid} ({c['name']}): shows an error: {c['error'][:300]}")
    for cid, answer in answers.items():
        for result in answer.get("result") or []:
            if result.get("error") or result.get("status") not in (None, "success"):
                errors.append(f"chart {cid}: query failed: {result.get('error')}")
    if screenshot is not None:
        # the viewport grown to the whole dashboard first: a full-page capture resizes the page
        # while capturing, and Superset re-lays out (and redraws) its charts on a resize
        size = page.viewport_size
        height = page.evaluate("() => document.documentElement.scrollHeight")
        page.set_viewport_size({"width": size["width"], "height": max(height, size["height"])})
        redraw_deadline = time.monotonic() + 60
        while time.monotonic() < redraw_deadline:
            time.sleep(1.0)
            state = page.evaluate("""() => Array.from(document.querySelectorAll('[data-test-chart-id]')).map(e =>
                e.querySelectorAll('canvas, svg, table, .header-line').length > 0
                && e.querySelectorAll('[data-test=loading-indicator]').length == 0)""")
            if all(state):
                break
        screenshot.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(screenshot))
        page.set_viewport_size(size)
    return Render(slug, seconds, {int(k): v for k, v in charts.items()}, answers, requests, errors)
