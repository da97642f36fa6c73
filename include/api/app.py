"""The data API service: FastAPI on uvicorn.

Every call passes one gate (``Gate``, a plain ASGI middleware) before any endpoint runs:
client address window -> authentication -> scope of the endpoint -> the caller's windows and
concurrency slot; and after it: the ``X-RateLimit-*`` headers and one audit line. The endpoints
then call the semantic layer through ``DataService`` (include/api/data.py).
"""
from __future__ import annotations

import json
import logging
import time
import uuid
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs

import msgspec
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from include.api import groups as groups_mod
from include.api.audit import AuditLog
from include.api.auth import ApiKeyStore, Authenticator, Principal, require_scope
from include.api.data import DataService, NotReady, ResultCache, data_meta
from include.api.errors import ApiError, bad_request
from include.api.query import LoadQuery, parse_load
from include.api.ratelimit import RateLimiter, binding, too_many
from include.api.settings import ApiSettings
from include.api.sqlapis import ApiDefinition, load_definitions

log = logging.getLogger("fsdp.api")
VERSION = "v2"
# the document's URLs (Lens and Talos), served as aliases so its examples work with the host changed
LENS_PREFIX = "/lens2/api/public:customer-data-market-place"
TALOS_PREFIX = "/talos/public:credit-debit-ratio-api"
PUBLIC_PATHS = {"/health", "/ready", "/openapi.json", "/docs", "/docs/oauth2-redirect", "/redoc"}
MAX_BODY = 256 * 1024
_encoder = msgspec.json.Encoder(decimal_format="number")


def encode(value: Any) -> bytes:
    return _encoder.encode(value)


@dataclass(frozen=True)
class Route:
    endpoint: str       # name in audit lines and per-endpoint limits
    scope: str | None   # api scope needed; None: public


class Gate:
    """Address limit, authentication, scope, caller limits, headers and the audit line."""

    def __init__(self, app, state: "ServiceState"):
        self.app, self.s = app, state

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        s = self.s
        started = time.perf_counter()
        path = scope["path"]
        route = s.route(path)
        client = (scope.get("client") or ("unknown", 0))[0]
        audit: dict[str, Any] = {"request_id": uuid.uuid4().hex[:16], "client": client,
                                 "method": scope["method"], "endpoint": route.endpoint if route else None,
                                 "path": path[:300]}
        scope.setdefault("state", {})["audit"] = audit
        headers: dict[str, str] = {}
        status_box = [0]
        principal: Principal | None = None
        slot = None

        async def send_wrapper(message):
            if message["type"] == "http.response.start":
                status_box[0] = message["status"]
                extra = [(k.lower().encode(), v.encode()) for k, v in headers.items()]
                extra.append((b"x-request-id", audit["request_id"].encode()))
                message = {**message, "headers": list(message.get("headers", [])) + extra}
            await send(message)

        try:
            states = await s.limiter.count("address", client, s.groups.defaults.per_address.windows,
                                           "per client address")
            answer = binding(states)
            if answer is not None:
                headers.update(answer.headers())
            if answer is not None and answer.refused:
                raise too_many(answer)
            if route is not None and route.scope is not None:
                hdrs = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
                principal = s.auth.authenticate(hdrs.get("authorization"), hdrs.get("x-api-key"))
                audit.update(caller=principal.subject, group=principal.group.name, auth=principal.method,
                             key_id=principal.key_id)
                require_scope(principal, route.scope)
                states += await s.limiter.count("group", principal.caller_id, principal.group.limits.windows,
                                                f"for group {principal.group.name}")
                endpoint_window = s.groups.defaults.per_endpoint.get(route.endpoint)
                if endpoint_window and not any(x.refused for x in states):
                    states += await s.limiter.count("endpoint", f"{route.endpoint}:{principal.caller_id}",
                                                    [endpoint_window], f"on {route.endpoint}")
                if principal.key_limits and not any(x.refused for x in states):
                    states += await s.limiter.count("api_key", principal.key_id, principal.key_limits.windows,
                                                    "per API key")
                answer = binding(states)
                headers.update(answer.headers())
                if answer.refused:
                    raise too_many(answer)
                slot = await s.limiter.acquire_slot(principal.caller_id, principal.group.limits.concurrent)
                scope["state"]["principal"] = principal
            audit["rate_limit"] = answer.as_dict() if answer else None
            scope["state"]["rate_limit"] = answer.as_dict() if answer else None
            await self.app(scope, receive, send_wrapper)
        except ApiError as exc:
            if exc.status == 429:
                headers.update({k: v for k, v in exc.headers.items()})
                audit["rate_limit"] = {"scope": exc.extra.get("scope"), "limit": exc.extra.get("limit"),
                                       "remaining": 0, "resetAt": exc.extra.get("resetAt")}
            else:
                headers.update(exc.headers)
            audit["error"] = exc.code
            await _send_error(send_wrapper, exc)
        finally:
            if slot is not None:
                await s.limiter.release_slot(principal.caller_id, slot)
            audit["status"] = status_box[0] or 500
            audit["latency_ms"] = round((time.perf_counter() - started) * 1000, 3)
            try:
                s.audit.write(audit)
            except OSError:
                log.exception("audit line could not be written")


async def _send_error(send, exc: ApiError) -> None:
    body = encode(exc.body())
    await send({"type": "http.response.start", "status": exc.status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})


class ServiceState:
    """Everything the service holds: settings, groups, auth, limits, audit, data, API files."""

    def __init__(self, settings: ApiSettings):
        self.settings = settings
        self.groups = groups_mod.load(settings.user_groups)
        self.auth = Authenticator(self.groups, jwt_secret=settings.jwt_secret, jwks_url=settings.jwks_url,
                                  issuer=settings.jwt_issuer, audience=settings.jwt_audience,
                                  keys=ApiKeyStore(settings.api_keys_file))
        self.limiter = RateLimiter(settings.rate_limit_storage,
                                   stale_after_s=self.groups.defaults.query_timeout_s + 60)
        self.audit = AuditLog(settings.audit_dir)
        self.data = DataService(settings.serving_dir, self.groups.defaults.max_rows,
                                self.groups.defaults.query_timeout_s,
                                ResultCache(settings.cache_max_entries, settings.cache_ttl_seconds))
        self.apis: list[ApiDefinition] = load_definitions(settings.apis_dir, self.groups.defaults.max_rows,
                                                          set(self.groups.groups))
        self._routes: dict[str, Route] = {}
        for prefix in ("", LENS_PREFIX):
            for name in ("load", "meta", "graphql", "sql"):
                self._routes[f"{prefix}/{VERSION}/{name}"] = Route(name, name if name != "load" else "data")
        for d in self.apis:
            for prefix in ("", TALOS_PREFIX):
                self._routes[prefix + d.url_path] = Route(d.name, "data")
        for p in PUBLIC_PATHS:
            self._routes[p] = Route(p.strip("/").split("/")[0] or "root", None)
        from include.api import studio

        for p, (endpoint, scope) in studio.routes().items():
            self._routes[p] = Route(endpoint, scope)

    def route(self, path: str) -> Route | None:
        return self._routes.get(path.rstrip("/") or "/") or self._routes.get(path)


# ---- request helpers ----------------------------------------------------------------------------

def principal_of(request: Request) -> Principal:
    return request.scope["state"]["principal"]


def audit_of(request: Request) -> dict:
    return request.scope["state"]["audit"]


async def json_body(request: Request) -> Any:
    raw = await request.body()
    if len(raw) > MAX_BODY:
        raise ApiError(413, "PAYLOAD_TOO_LARGE", f"request body over {MAX_BODY // 1024} KiB")
    if not raw:
        raise bad_request("the request has no JSON body")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise bad_request(f"malformed JSON: {str(exc)[:200]}", "MALFORMED_JSON") from None


def load_response(state: ServiceState, principal: Principal, q: LoadQuery, backend, result: dict, rate: dict | None,
                  extra_meta: dict | None = None) -> dict:
    members = backend.members
    annotation = {kind: {n: {"title": members[n].title or n, "type": members[n].type} for n in names if n in members}
                  for kind, names in (("measures", q.measures), ("dimensions", q.dimensions),
                                      ("timeDimensions", [t["dimension"] for t in q.time_dimensions]))}
    meta = {**data_meta(backend.copy), "rowLimit": state.groups.defaults.max_rows, "limit": q.limit,
            "offset": q.offset, "rows": len(result["rows"]), "truncated": result["truncated"],
            "group": principal.group.name, "segments": q.applied_segments,
            "masking": state.data.masking(backend, principal, q.members()), "cached": result["cached"],
            "rateLimit": rate, **(extra_meta or {})}
    return {"query": q.as_dict(), "data": result["rows"], "annotation": annotation, "meta": meta}


def run_load(state: ServiceState, request: Request, body: Any, limit=None, offset=None, ttl=None,
             max_rows: int | None = None, extra_meta=None) -> Response:
    principal = principal_of(request)
    audit = audit_of(request)
    audit["query"] = body
    with state.data.lease() as backend:
        members = state.data.visible(backend, principal)
        q = parse_load(body, members, principal.group, principal.claims, max_rows or state.groups.defaults.max_rows,
                       limit=limit, offset=offset)
        result = state.data.run(backend, principal, q, ttl=ttl)
        audit.update(rows=len(result["rows"]), data_run_id=backend.copy.run_id,
                     data_logical_date=backend.copy.logical_date)
        payload = load_response(state, principal, q, backend, result, request.scope["state"].get("rate_limit"),
                                extra_meta)
    return Response(encode(payload), media_type="application/json")


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    settings = settings or ApiSettings.from_env()
    state = ServiceState(settings)

    @asynccontextmanager
    async def lifespan(_app):
        # the audit trail folded into audit.duckdb for the governance dashboard (include.api.audit_table)
        from include.api.audit_table import Folder

        folder = Folder(settings.audit_dir, settings.audit_fold_seconds).start()
        try:
            yield
        finally:
            folder.stop()

    app = FastAPI(
        lifespan=lifespan,
        title="FSDP data API",
        version=VERSION,
        description=(
            "Governed data APIs of the customer data market place: the semantic model over REST "
            "(`/v2/load`), GraphQL (`/v2/graphql`) and the SQL it runs (`/v2/sql`), plus one API per "
            "SQL file. Authenticate with `Authorization: Bearer <JWT or API key>`. Every response has "
            "`X-RateLimit-Limit`, `-Remaining`, `-Reset`, `-Used`; over a limit: HTTP 429 with "
            "`Retry-After`. Results hold at most 10,000 rows per query."),
    )
    app.state.service = state

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError):
        audit = request.scope.get("state", {}).get("audit")
        if audit is not None:
            audit["error"] = exc.code
        return JSONResponse(exc.body(), status_code=exc.status, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError):
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(x) for x in first.get("loc", []))
        return await _api_error(request, bad_request(f"{where}: {first.get('msg', 'invalid request')}"))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        return await _api_error(request, ApiError(exc.status_code, code, str(exc.detail)))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        log.exception("unexpected error on %s", request.url.path)
        return await _api_error(request, ApiError(500, "INTERNAL", "internal error; the audit line has the request id"))

    from include.api import routes

    routes.register(app, state)

    def openapi() -> dict:
        if app.openapi_schema is None:
            from fastapi.openapi.utils import get_openapi

            spec = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
            spec.setdefault("components", {})["securitySchemes"] = {
                "bearerAuth": {"type": "http", "scheme": "bearer", "description": "a JWT (HS256 or RS256) or an API key"},
                "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key"}}
            for path, ops in spec["paths"].items():
                if path not in PUBLIC_PATHS:
                    for op in ops.values():
                        op["security"] = [{"bearerAuth": []}, {"apiKey": []}]
            app.openapi_schema = spec
        return app.openapi_schema

    app.openapi = openapi
    app.add_middleware(Gate, state=state)
    return app


__all__ = ["create_app", "encode", "run_load", "ServiceState"]
