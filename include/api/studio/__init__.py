"""The Studio (``GET /studio/``): a web page of the data API service itself where a caller logs
in with their token, picks measures, dimensions, filters, a time dimension, order, limit and
offset among the members they may use, runs ``/v2/load``, reads the rows and the answer's
``meta``, and copies the same query as cURL, GraphQL and the SQL ``/v2/sql`` returns.

The page is three static files of this folder (``index.html``, ``studio.js``, ``studio.css``):
plain HTML, CSS and a JavaScript module, no build step, no front-end library, nothing fetched at
run time. They are read once at start-up and served with an ETag. Every Studio response carries
a strict Content-Security-Policy (scripts, styles and calls only from this origin, no inline
script, no form submission, not framed, Trusted Types required so no string can become HTML)
and ``Referrer-Policy: no-referrer``.

The page holds the token in memory only: it goes into the ``Authorization`` header of the calls
the page makes, never into a URL, a cookie, storage or a log line.

``GET /studio/members`` is the page's member list: exactly what ``/v2/meta`` lists for the caller
(the same function), plus who the caller is and which scopes they hold. It needs the ``data``
scope, not ``meta``: the document has analysts build queries in its Studio although its
user_groups.yml gives the ``meta`` scope to admins only, and a member list tells a caller nothing
its ``data`` scope does not (``/v2/load`` annotates every member it may use, and answers any
other name as unknown). ``/v2/meta`` keeps the document's ``meta`` scope.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response

HERE = Path(__file__).resolve().parent
BASE = "/studio"
# the document's Studio URL (Data Market Place -> customer-data-market-place -> studio), with the host changed
DOCUMENT_PATH = "/dph/explore/customer-data-market-place-dp/public:customer-data-market-place/studio"
ASSETS = {"index.html": "text/html; charset=utf-8", "studio.js": "text/javascript; charset=utf-8",
          "studio.css": "text/css; charset=utf-8"}
CSP = "; ".join([
    "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:",
    "connect-src 'self'", "form-action 'none'", "base-uri 'none'", "frame-ancestors 'none'",
    "require-trusted-types-for 'script'", "trusted-types 'none'"])
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=()",
}


@dataclass(frozen=True)
class Asset:
    body: bytes
    media_type: str
    etag: str


def load_assets(folder: Path = HERE) -> dict[str, Asset]:
    out = {}
    for name, media_type in ASSETS.items():
        body = (folder / name).read_bytes()
        out[name] = Asset(body, media_type, '"' + hashlib.sha256(body).hexdigest()[:20] + '"')
    return out


def _asset_response(request: Request, asset: Asset) -> Response:
    # no-cache: the browser revalidates (ETag) so a new release is seen at once, without a download
    headers = {**SECURITY_HEADERS, "ETag": asset.etag, "Cache-Control": "no-cache"}
    if asset.etag in [t.strip() for t in request.headers.get("if-none-match", "").split(",")]:
        return Response(status_code=304, headers=headers)
    return Response(asset.body, media_type=asset.media_type, headers=headers)


def routes() -> dict[str, tuple[str, str | None]]:
    """Path -> (endpoint name in audit lines and limits, scope needed) of every Studio route."""
    out: dict[str, tuple[str, str | None]] = {BASE: ("studio", None), DOCUMENT_PATH: ("studio", None),
                                              f"{BASE}/members": ("studio_members", "data")}
    for name in ASSETS:
        if name != "index.html":
            out[f"{BASE}/{name}"] = ("studio", None)
    return out


def register(app: FastAPI, state, meta_body) -> None:
    """Add the Studio's routes; ``meta_body(state, principal, backend, rate_limit)`` is /v2/meta's."""
    from include.api.app import encode, principal_of
    from include.api.groups import FILTER_OPERATORS

    assets = load_assets()

    @app.get(BASE, include_in_schema=False)
    @app.get(DOCUMENT_PATH, include_in_schema=False)
    def studio_redirect(request: Request) -> Response:
        return RedirectResponse(f"{BASE}/", status_code=308, headers=SECURITY_HEADERS)

    @app.get(f"{BASE}/", tags=["studio"], summary="The Studio: build, preview and copy a query of the semantic model")
    def studio_page(request: Request) -> Response:
        return _asset_response(request, assets["index.html"])

    for name in ASSETS:
        if name == "index.html":
            continue

        def serve(request: Request, _asset=assets[name]) -> Response:
            return _asset_response(request, _asset)

        app.add_api_route(f"{BASE}/{name}", serve, methods=["GET"], include_in_schema=False,
                          name=f"studio_{name.replace('.', '_')}")

    @app.get(f"{BASE}/members", tags=["studio"],
             summary="The members the caller may use (what /v2/meta lists for them), who they are, their scopes")
    def studio_members(request: Request) -> Response:
        principal = principal_of(request)
        with state.data.lease() as backend:
            body = meta_body(state, principal, backend, request.scope["state"].get("rate_limit"))
        g = principal.group
        body["caller"] = {"subject": principal.subject, "group": g.name, "auth": principal.method,
                          "keyId": principal.key_id, "scopes": sorted(g.scopes)}
        body["filterOperators"] = list(FILTER_OPERATORS)
        return Response(encode(body), media_type="application/json",
                        headers={"Cache-Control": "no-store", **SECURITY_HEADERS})


__all__ = ["register", "routes", "CSP", "SECURITY_HEADERS", "BASE"]
