"""The Studio in a real browser (Debian's chromium via playwright) against a real uvicorn over
the dbt-built serving copy: an analyst and a viewer are offered exactly the members they may use;
the document's debit-to-credit query built by clicking gives /v2/load's rows; the copied cURL
(run by a shell) and GraphQL (posted as copied) give the same rows; warehouse values are text,
never markup; the token never reaches a URL, the page's markup or a log. Screenshot of the built
query: FSDP_TEST_ARTIFACTS/studio/studio.png (FSDP_UPDATE_SCREENSHOTS=1: also docs/img/studio.png)."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest

from include import serving
from tests.api import fixtures
from tests.api.server import ApiServer, mint_token, SECRET
from tests.api.studio_page import DOCUMENT_QUERY, StudioPage, browser, chromium, same_rows

pytestmark = [pytest.mark.azurite, pytest.mark.integration]

PERSONAL = {"TW.mask", "TW.dob"}
ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = Path(os.environ.get("FSDP_TEST_ARTIFACTS") or ROOT / ".local" / "test-artifacts") / "studio"
README_SHOT = ROOT / "docs" / "img" / "studio.png"      # FSDP_UPDATE_SCREENSHOTS=1 refreshes it
RATIO = "transactions.debit_to_credit_ratio"


@pytest.fixture(scope="module")
def studio_api(serving_dir, tmp_path_factory):
    """The service as shipped (the project's user_groups.yml), on its own audit trail."""
    server = ApiServer(tmp_path_factory.mktemp("studio_api"), serving_dir, trust_proxy=False).start()
    yield server
    server.stop()


@pytest.fixture(scope="module")
def chrome():
    if chromium() is None:
        pytest.skip("Debian's chromium is not installed (scripts/lib.sh ensure_chromium installs it)")
    with browser() as b:
        yield b


@pytest.fixture
def studio(chrome, studio_api):
    pages: list[StudioPage] = []

    def open_page() -> StudioPage:
        pages.append(StudioPage(chrome, studio_api.url).open())
        return pages[-1]

    yield open_page
    for p in pages:
        assert p.console_errors == [], p.console_errors
        p.close()


@pytest.fixture(scope="module")
def tags(serving_dir) -> dict[str, frozenset[str]]:
    from include.api.semantic_adapter import members, open_layer

    layer = open_layer(serving.current(serving_dir), clear_pii=False)
    try:
        return {name: m.tags for name, m in members(layer.catalog()).items() if m.kind != "segment"}
    finally:
        layer.close()


def token(group: str, sub: str, **claims) -> str:
    return mint_token(SECRET, sub, group, 900, **claims)


def load(api: ApiServer, tok: str, query: dict) -> dict:
    resp = httpx.post(api.url + "/v2/load", json={"query": query}, headers={"Authorization": f"Bearer {tok}"}, timeout=120)
    assert resp.status_code == 200, resp.text
    return resp.json()


@pytest.mark.parametrize("group, claims", [("analyst", {"zone": "North"}), ("viewer", {})])
def test_each_group_is_offered_exactly_the_members_it_may_use(studio, tags, group, claims):
    page = studio().log_in(token(group, f"studio-{group}", **claims))
    assert page.who().startswith(f"studio-{group} · group {group}")
    offered = page.offered_members()
    personal = {n for n, t in tags.items() if t & PERSONAL}
    assert personal, "the model has personal members (TW.mask / TW.dob)"
    expected = set(tags) - (personal if group == "viewer" else set())
    assert offered == expected
    html = page.page.content()
    if group == "viewer":
        # not offered, and not named anywhere in the page
        assert not any(f'"{name}"' in html or f">{name}<" in html for name in personal)
    else:
        # the analyst may use them, masked (governance dob-bucketing)
        email = page.page.locator("label.member", has=page.page.locator("input[value='customers.email_addr']"))
        assert "masked: hash" in email.inner_text()
        assert "own_zone" in page.page.locator("#segments").inner_text()


def test_the_documents_query_built_by_clicking_runs_and_its_copied_calls_work_as_pasted(studio, studio_api):
    tok = token("analyst", "studio-browser-analyst", zone="North")
    page = studio().log_in(tok)
    page.pick(*DOCUMENT_QUERY["measures"], *DOCUMENT_QUERY["dimensions"])
    page.add_sort(RATIO, "desc")
    page.set_paging(10, 0)
    assert "rows in" in page.run(), page.error()

    query = {**DOCUMENT_QUERY, "order": [[RATIO, "desc"]], "limit": 10, "offset": 0}
    expected = load(studio_api, tok, query)
    columns = DOCUMENT_QUERY["dimensions"] + DOCUMENT_QUERY["measures"]
    assert page.columns() == columns
    shown = page.rows()
    assert 0 < len(shown) <= 10 and same_rows(shown, expected["data"], columns), (shown, expected["data"])
    assert {r[0] for r in shown} == {"North"}            # the analyst's zone only
    meta = page.meta()
    assert meta["Data date"] == str(fixtures.DAY) and meta["Run"] == "test-run"
    assert meta["Quality gate"] == expected["meta"]["qualityGate"] and meta["Quality gate"].startswith("passed")
    assert meta["Row filters"] == "own_zone"
    assert "calls left in the" in meta["Rate limit"] and len(meta["Request id"]) == 16
    assert "customers.email_addr" not in meta["Masking"]
    # the README's screenshot: the document's query built, run and previewed
    shot = ARTIFACTS / "studio.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    page.page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 20_000
    if os.environ.get("FSDP_UPDATE_SCREENSHOTS"):
        README_SHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, README_SHOT)

    # cURL, exactly as copied, run by a shell
    curl = page.copy("cURL")
    assert curl.startswith("curl --location ") and tok in curl
    assert tok not in page.shown_code("cURL")            # on screen the token is shortened
    done = subprocess.run(["bash", "-c", curl], capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["data"] == expected["data"]

    # GraphQL, exactly as copied, posted to the endpoint the tab names
    graphql = page.copy("GraphQL")
    assert "load(" in graphql and "limit: 10" in graphql and "offset: 0" in graphql
    resp = httpx.post(studio_api.url + "/v2/graphql", json={"query": graphql},
                      headers={"Authorization": f"Bearer {tok}"}, timeout=120)
    assert resp.status_code == 200, resp.text
    assert resp.json()["data"]["load"]["data"] == expected["data"]

    # SQL: what /v2/sql says the service runs for this caller
    sql = page.copy("SQL")
    answer = httpx.post(studio_api.url + "/v2/sql", json={"query": query},
                        headers={"Authorization": f"Bearer {tok}"}, timeout=120).json()
    assert sql == answer["sql"]["sql"][0] and "role_dob_bucketing" in sql

    # a value with quotes and markup: quoted for the shell and for GraphQL, still the same rows
    page.add_filter("customers.city", "notEquals", ["it's \"<b>\" $HOME `id`"])
    assert "rows in" in page.run(), page.error()
    assert same_rows(page.rows(), expected["data"], columns)
    with_var = page.copy("cURL", credentials="variable")
    assert tok not in with_var and "$FSDP_API_TOKEN" in with_var
    done = subprocess.run(["bash", "-c", with_var], capture_output=True, text=True, timeout=180,
                          env={**os.environ, "FSDP_API_TOKEN": tok})
    assert done.returncode == 0, done.stderr
    body = json.loads(done.stdout)
    assert body["data"] == expected["data"]
    assert body["query"]["filters"][0]["values"] == ["it's \"<b>\" $HOME `id`"]
    resp = httpx.post(studio_api.url + "/v2/graphql", json={"query": page.copy("GraphQL")},
                      headers={"Authorization": f"Bearer {tok}"}, timeout=120)
    assert resp.json()["data"]["load"]["data"] == expected["data"]

    # the token went nowhere but the Authorization header
    assert not any(tok in url for url in page.requests)
    assert tok not in page.page.content() and tok not in page.page.url
    assert tok not in studio_api.log.read_text() and tok not in json.dumps(studio_api.audit_lines())
    calls = [x for x in studio_api.audit_lines() if x.get("caller") == "studio-browser-analyst"]
    assert {x["endpoint"] for x in calls} >= {"studio_members", "load", "sql"}


def test_the_viewer_copies_a_working_curl_and_is_told_graphql_and_sql_are_not_its_scopes(studio, studio_api):
    tok = token("viewer", "studio-browser-viewer")
    page = studio().log_in(tok)
    page.pick(RATIO, "customers.zone")
    assert "rows in" in page.run(), page.error()
    expected = load(studio_api, tok, {"measures": [RATIO], "dimensions": ["customers.zone"], "limit": 10, "offset": 0})
    assert same_rows(page.rows(), expected["data"], ["customers.zone", RATIO])
    assert {r[0] for r in page.rows()} == {"North", "South", "West"}
    done = subprocess.run(["bash", "-c", page.copy("cURL")], capture_output=True, text=True, timeout=180)
    assert json.loads(done.stdout)["data"] == expected["data"]
    page.tab("GraphQL")
    assert "no graphql scope" in page.page.locator("#graphql-note").inner_text()
    page.tab("SQL")
    assert "no sql scope" in page.page.locator("#sql-note").inner_text()
    assert page.page.locator("#code-sql").inner_text() == ""


def test_a_time_dimension_filters_and_paging_give_loads_rows_in_the_page_and_in_the_copied_calls(studio, studio_api):
    tok = token("admin", "studio-browser-admin")
    page = studio().log_in(tok)
    page.pick("transactions.transaction_count", "transactions.channel")
    page.page.get_by_label("Time dimension", exact=True).select_option("transactions.txn_ts")
    page.page.get_by_label("Granularity").select_option("day")
    page.page.get_by_label("From", exact=True).fill(str(fixtures.DAY))
    page.page.get_by_label("To", exact=True).fill(str(fixtures.DAY))
    page.add_filter("transactions.channel", "in", ["Mobile", "Web"])
    page.add_sort("transactions.txn_ts", "asc")
    page.add_sort("transactions.channel", "desc")
    page.set_paging(1, 1)
    assert "rows in" in page.run(), page.error()
    query = {"measures": ["transactions.transaction_count"], "dimensions": ["transactions.channel"],
             "timeDimensions": [{"dimension": "transactions.txn_ts", "granularity": "day",
                                 "dateRange": [str(fixtures.DAY), str(fixtures.DAY)]}],
             "filters": [{"member": "transactions.channel", "operator": "in", "values": ["Mobile", "Web"]}],
             "order": [["transactions.txn_ts", "asc"], ["transactions.channel", "desc"]], "limit": 1, "offset": 1}
    expected = load(studio_api, tok, query)
    columns = ["transactions.channel", "transactions.txn_ts.day", "transactions.transaction_count"]
    assert page.columns() == columns
    assert expected["data"] and expected["data"][0]["transactions.channel"] == "Mobile"   # page 2 of Web, Mobile
    assert same_rows(page.rows(), expected["data"], columns)
    done = subprocess.run(["bash", "-c", page.copy("cURL")], capture_output=True, text=True, timeout=180)
    assert json.loads(done.stdout)["data"] == expected["data"]
    resp = httpx.post(studio_api.url + "/v2/graphql", json={"query": page.copy("GraphQL")},
                      headers={"Authorization": f"Bearer {tok}"}, timeout=120)
    assert resp.json()["data"]["load"]["data"] == expected["data"]
    # every control has a name a screen reader reads out
    unnamed = page.page.evaluate("""() => [...document.querySelectorAll('input, select, textarea, button')]
        .filter(e => !e.closest('[hidden]') && !(e.labels && e.labels.length) && !e.getAttribute('aria-label')
                     && !(e.tagName === 'BUTTON' && e.textContent.trim()))
        .map(e => e.outerHTML)""")
    assert unnamed == []


def test_values_are_rendered_as_text_and_the_page_refuses_markup_from_strings(studio, studio_api):
    tok = token("admin", "studio-browser-admin")
    page = studio().log_in(tok)
    page.pick(RATIO, "customers.city")
    evil = '<img src=x onerror="window.__xss=1"><script>window.__xss=2</script>'

    def hostile(route):
        # a warehouse value with markup, as /v2/load would return it
        real = route.fetch()
        body = real.json()
        for row in body["data"]:
            row["customers.city"] = evil
        route.fulfill(response=real, body=json.dumps(body))

    page.page.route("**/v2/load", hostile)
    assert "rows in" in page.run()
    cells = page.page.locator("#rows tbody td:first-child")
    assert cells.first.text_content() == evil
    assert page.page.locator("#rows img, #rows script").count() == 0
    assert page.page.evaluate("window.__xss") is None
    # Trusted Types (the CSP): a string cannot become markup, whatever code tries
    refused = page.page.evaluate("""() => { try { document.body.insertAdjacentHTML('beforeend', '<b>x</b>'); return 'allowed'; }
                                            catch (e) { return e.name; } }""")
    assert refused == "TypeError"
    # and nothing but the service itself was ever asked for anything
    assert all(url.startswith(studio_api.url) for url in page.requests), page.requests
    page.console_errors.clear()   # the refused markup above logs a CSP violation, on purpose


def test_a_bad_token_is_refused_at_log_in_with_the_services_message(studio):
    page = studio()
    page.page.get_by_label("Your token or API key").fill("not-a-token")
    page.page.get_by_role("button", name="Log in").click()
    from playwright.sync_api import expect

    expect(page.page.locator("#login-error")).to_contain_text("401 UNAUTHENTICATED")
    assert page.page.locator("#workspace").is_hidden()
    page.console_errors.clear()   # chromium logs the refused call (401) as a console error
