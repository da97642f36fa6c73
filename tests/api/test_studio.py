"""The Studio's routes over HTTP (the browser tests are in test_studio_browser.py): the page and
its files with their security headers and nothing the CSP would have to allow inline; the member
list per group (what /v2/meta lists for the caller, behind the data scope); no credential in
any answer or audit line."""
from __future__ import annotations

from html.parser import HTMLParser

import pytest

from include import serving
from include.api import studio

pytestmark = [pytest.mark.azurite, pytest.mark.integration]

PERSONAL = {"TW.mask", "TW.dob"}


@pytest.fixture(scope="module")
def tags(serving_dir) -> dict[str, frozenset[str]]:
    """member -> governance column tags, from the serving copy's own semantic catalog."""
    from include.api.semantic_adapter import members, open_layer

    copy = serving.current(serving_dir)
    layer = open_layer(copy, clear_pii=False)
    try:
        return {name: m.tags for name, m in members(layer.catalog()).items()}
    finally:
        layer.close()


def names(body: dict) -> set[str]:
    return {m["name"] for cube in body["cubes"] for kind in ("measures", "dimensions", "segments") for m in cube[kind]}


class _Inline(HTMLParser):
    def __init__(self):
        super().__init__()
        self.problems: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "script" and not attrs.get("src"):
            self.problems.append("inline <script>")
        if tag == "style":
            self.problems.append("inline <style>")
        self.problems += [f"{tag} {k}=" for k in attrs if k.startswith("on") or k == "style"]
        for k in ("href", "src", "action"):
            if str(attrs.get(k, "")).startswith(("http:", "https:", "//", "javascript:")):
                self.problems.append(f"{tag} {k} leaves the origin: {attrs[k]}")


def test_the_page_and_its_files_carry_a_strict_csp_and_no_inline_code(client):
    for path in ("/studio/", "/studio/studio.js", "/studio/studio.css"):
        resp = client.get(path)
        assert resp.status_code == 200, (path, resp.text)
        h = resp.headers
        policy = dict(p.strip().split(" ", 1) for p in h["content-security-policy"].split(";"))
        assert policy["default-src"] == "'none'" and policy["script-src"] == "'self'"
        assert policy["connect-src"] == "'self'" and policy["form-action"] == "'none'"
        assert policy["frame-ancestors"] == "'none'" and policy["require-trusted-types-for"] == "'script'"
        assert "unsafe" not in h["content-security-policy"]
        assert h["referrer-policy"] == "no-referrer" and h["x-content-type-options"] == "nosniff"
        assert h["x-frame-options"] == "DENY"
        # revalidated, not downloaded again
        again = client.get(path, headers={"If-None-Match": h["etag"]})
        assert again.status_code == 304 and again.content == b""
    assert client.get("/studio/").headers["content-type"].startswith("text/html")
    assert client.get("/studio/studio.js").headers["content-type"].startswith("text/javascript")
    parser = _Inline()
    parser.feed(client.get("/studio/").text)
    assert parser.problems == []
    # the JavaScript never turns a string into markup (Trusted Types would refuse it anyway)
    js = client.get("/studio/studio.js").text
    for sink in ("innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "new Function"):
        assert sink not in js, sink


def test_the_studio_is_reached_at_its_own_and_the_documents_url(client):
    for path in ("/studio", studio.DOCUMENT_PATH):
        resp = client.get(path, follow_redirects=False)
        assert resp.status_code == 308 and resp.headers["location"] == "/studio/"
    assert client.get("/no-such-file.js").status_code == 404
    assert client.get("/studio/../app.py").status_code == 404


def test_the_member_list_needs_a_credential_and_is_what_meta_lists_for_the_caller(client, tags):
    assert client.get("/studio/members").status_code == 401
    assert client.get("/studio/members", headers={"Authorization": "Bearer nope"}).status_code == 401
    admin = client.get("/studio/members", headers=client.auth("admin", sub="studio-admin")).json()
    assert admin["cubes"] == client.get("/v2/meta", headers=client.auth("admin")).json()["cubes"]
    assert admin["caller"] == {"subject": "studio-admin", "group": "admin", "auth": "jwt", "keyId": None,
                               "scopes": ["data", "graphql", "meta", "sql"]}
    assert set(admin["filterOperators"]) >= {"equals", "notEquals", "in", "gt", "contains", "set", "inDateRange"}
    assert names(admin) == set(tags)

    # the analyst has no meta scope, and gets the member list of its role (a test group with the
    # same governance role and the meta scope answers /v2/meta with the same members and masking)
    analyst = client.get("/studio/members", headers=client.auth("analyst", zone="North")).json()
    assert analyst["caller"]["scopes"] == ["data", "graphql", "sql"]
    assert client.get("/v2/meta", headers=client.auth("analyst", zone="North")).status_code == 403
    assert analyst["cubes"] == client.get("/v2/meta", headers=client.auth("role-bucketing")).json()["cubes"]
    assert [s["name"] for s in analyst["meta"]["segmentsApplied"]] == ["own_zone"]

    # the viewer: no personal member at all
    viewer = client.get("/studio/members", headers=client.auth("viewer")).json()
    personal = {n for n, t in tags.items() if t & PERSONAL}
    assert personal >= {"customers.email_addr", "customers.cust_dob", "customers.cust_first_name"}
    assert names(viewer) == set(tags) - personal
    public = client.get("/v2/meta", headers=client.auth("role-public")).json()
    for cube in public["cubes"]:
        for kind in ("measures", "dimensions"):
            cube[kind] = [m for m in cube[kind] if m["name"] not in personal]
    assert viewer["cubes"] == [c for c in public["cubes"] if c["measures"] or c["dimensions"] or c["segments"]]
    assert viewer["caller"]["scopes"] == ["data"]


def test_no_studio_answer_or_audit_line_holds_the_token(api, client):
    token = client.token("analyst", sub="studio-leak-check", zone="North")
    headers = {"Authorization": f"Bearer {token}"}
    answers = [client.get("/studio/members", headers=headers), client.get("/studio/", headers=headers),
               client.load({"measures": ["transactions.debit_to_credit_ratio"]}, headers)]
    assert all(r.status_code == 200 for r in answers)
    assert not any(token in r.text or token in str(r.headers) for r in answers)
    mine = [x for x in api.audit_lines() if x.get("caller") == "studio-leak-check"]
    assert {x["endpoint"] for x in mine} == {"studio_members", "load"}
    assert token not in str(api.audit_lines()) and token not in api.log.read_text()
