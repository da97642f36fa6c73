"""The endpoints: /v2/load, /v2/meta, /v2/sql, /v2/graphql, health and readiness, and one GET
route per API definition file. Each is also served under the document's Lens/Talos URL prefix."""
from __future__ import annotations

import inspect
import json
from typing import Any

from fastapi import Body, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response

from include.api.app import LENS_PREFIX, TALOS_PREFIX, ServiceState, audit_of, encode, json_body, principal_of, run_load
from include.api.data import data_meta
from include.api.errors import ApiError, bad_request, forbidden
from include.api.query import parse_load
from include.api.sqlapis import ApiDefinition

LOAD_EXAMPLE = {"query": {"measures": ["transactions.debit_to_credit_ratio"],
                          "dimensions": ["customers.zone", "customers.city", "customers.branch_name",
                                         "transactions.channel"]}}
ERROR_RESPONSES = {
    400: {"description": "bad query: unknown member, bad operator or granularity, malformed JSON, limit out of range"},
    401: {"description": "no or invalid credentials"},
    403: {"description": "the caller's group lacks the scope, or a claim its segments need"},
    408: {"description": "the query ran longer than the time limit"},
    429: {"description": "rate limit exceeded (body: error.code RATE_LIMIT_EXCEEDED, retryAfter, limit, "
                         "remaining, resetAt; header Retry-After)"},
}


def _query_of(body: Any) -> Any:
    if isinstance(body, dict) and "query" in body and set(body) <= {"query", "queryType"}:
        return body["query"]
    if isinstance(body, dict) and "query" in body:
        raise bad_request(f"unknown request field {sorted(set(body) - {'query', 'queryType'})[0][:60]!r}")
    return body


def _get_query(query: str | None) -> Any:
    if query is None:
        raise bad_request("GET /v2/load needs a `query` parameter (the query as JSON)")
    try:
        return json.loads(query)
    except ValueError as exc:
        raise bad_request(f"malformed JSON in `query`: {str(exc)[:200]}", "MALFORMED_JSON") from None


def register(app: FastAPI, state: ServiceState) -> None:
    for prefix, include in (("", True), (LENS_PREFIX, False)):
        _register_v2(app, state, prefix, include)
    for d in state.apis:
        for prefix, include in (("", True), (TALOS_PREFIX, False)):
            _register_file_api(app, state, d, prefix, include)

    from include.api import studio

    studio.register(app, state, meta_body)

    @app.get("/health", tags=["service"], summary="liveness: the process answers")
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/ready", tags=["service"], summary="readiness: a serving copy that passed the quality gate is open")
    def ready() -> Response:
        status = state.data.status()
        return JSONResponse(status, status_code=200 if status.get("ready") else 503)


def _register_v2(app: FastAPI, state: ServiceState, prefix: str, include: bool) -> None:
    v2 = f"{prefix}/v2"

    @app.post(f"{v2}/load", tags=["semantic model"], include_in_schema=include, responses=ERROR_RESPONSES,
              summary="Run a query of the semantic model (measures, dimensions, filters, time dimensions)",
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {
                  "schema": {"type": "object", "properties": {"query": {"type": "object"}}},
                  "example": LOAD_EXAMPLE}}}})
    async def load_post(request: Request) -> Response:
        body = _query_of(await json_body(request))
        return await _threaded(run_load, state, request, body)

    @app.get(f"{v2}/load", tags=["semantic model"], include_in_schema=include, responses=ERROR_RESPONSES,
             summary="Run a query given as JSON in the `query` parameter")
    async def load_get(request: Request, query: str | None = Query(None, description="the query as JSON")) -> Response:
        return await _threaded(run_load, state, request, _query_of(_get_query(query)))

    @app.head(f"{v2}/load", tags=["semantic model"], include_in_schema=include,
              summary="Check the rate-limit headers without running a query (the document's `curl -I`)")
    def load_head() -> Response:
        return Response(status_code=200)

    @app.get(f"{v2}/meta", tags=["semantic model"], include_in_schema=include, responses=ERROR_RESPONSES,
             summary="The logical tables, measures, dimensions and segments the caller may use")
    def meta(request: Request) -> Response:
        with state.data.lease() as backend:
            body = meta_body(state, principal_of(request), backend, request.scope["state"].get("rate_limit"))
        return Response(encode(body), media_type="application/json")

    @app.post(f"{v2}/sql", tags=["semantic model"], include_in_schema=include, responses=ERROR_RESPONSES,
              summary="The SQL a query would run for the caller (its role views and segments), without running it")
    async def sql(request: Request) -> Response:
        body = _query_of(await json_body(request))
        return await _threaded(_sql, state, request, body)

    @app.get(f"{v2}/sql", tags=["semantic model"], include_in_schema=include, responses=ERROR_RESPONSES,
             summary="Like POST /v2/sql, the query as JSON in the `query` parameter")
    async def sql_get(request: Request, query: str | None = Query(None)) -> Response:
        return await _threaded(_sql, state, request, _query_of(_get_query(query)))

    from include.api import graphql

    graphql.register(app, state, f"{v2}/graphql", include)


def meta_body(state: ServiceState, principal, backend, rate_limit: dict | None) -> dict:
    """What /v2/meta answers the caller (the Studio's member list is the same): the logical
    tables with the measures, dimensions (with their masking) and segments it may use; limits."""
    visible = state.data.visible(backend, principal)
    masking = state.data.masking(backend, principal, visible)
    tables: dict[str, dict] = {}
    for m in visible.values():
        t = tables.setdefault(m.table, {"name": m.table, "measures": [], "dimensions": [], "segments": []})
        entry = {"name": m.name, "title": m.title, "description": m.description, "type": m.type}
        if m.kind == "time":
            entry["granularities"] = list(m.granularities)
        if m.name in masking:
            entry["masking"] = masking[m.name]
        key = {"measure": "measures", "segment": "segments"}.get(m.kind, "dimensions")
        t[key].append(entry)
    g = principal.group
    return {"cubes": sorted(tables.values(), key=lambda t: t["name"]),
            "meta": {**data_meta(backend.copy), "group": g.name,
                     "rowLimit": state.groups.defaults.max_rows,
                     "queryTimeoutSeconds": state.groups.defaults.query_timeout_s,
                     "segmentsApplied": [{"name": s.name, "description": s.description} for s in g.segments],
                     "rateLimits": {"requestsPerMinute": _window(g.limits, 60),
                                    "requestsPerHour": _window(g.limits, 3600),
                                    "concurrentRequests": g.limits.concurrent},
                     "rateLimit": rate_limit}}


def _sql(state: ServiceState, request: Request, body: Any) -> Response:
    principal = principal_of(request)
    audit_of(request)["query"] = body
    with state.data.lease() as backend:
        q = parse_load(body, state.data.visible(backend, principal), principal.group, principal.claims,
                       state.groups.defaults.max_rows)
        compiled = state.data.compile(backend, principal, q)
        payload = {"sql": {"sql": [compiled["sql"], compiled.get("params", [])]}, "query": q.as_dict(),
                   "meta": {**data_meta(backend.copy), "group": principal.group.name, "segments": q.applied_segments,
                            "role": backend.role_schema(principal.group.user_tags),
                            "masking": state.data.masking(backend, principal, q.members())}}
    return Response(encode(payload), media_type="application/json")


def _window(limits, seconds: int):
    return next((w.requests for w in limits.windows if w.seconds == seconds), None)


async def _threaded(fn, *args):
    from starlette.concurrency import run_in_threadpool

    return await run_in_threadpool(fn, *args)


_PY_TYPES = {"string": str, "integer": int, "number": float, "boolean": bool, "date": str}


def _register_file_api(app: FastAPI, state: ServiceState, d: ApiDefinition, prefix: str, include: bool) -> None:
    def endpoint(request: Request, **_ignored) -> Response:
        principal = principal_of(request)
        if d.allowed_groups is not None and principal.group.name not in d.allowed_groups:
            raise forbidden(f"API {d.url_path} is not open to group {principal.group.name}", "API_NOT_ALLOWED")
        raw: dict[str, list[str]] = {}
        for k, v in request.query_params.multi_items():
            raw.setdefault(k, []).append(v)
        audit_of(request)["params"] = raw
        body, values = d.bind(raw)
        return run_load(state, request, body, ttl=d.cache_ttl, max_rows=d.row_limit,
                        extra_meta={"api": d.url_path, "params": values})

    # OpenAPI: one query parameter per declared field (FastAPI reads the signature); the values are
    # read and validated by the definition itself
    params = [inspect.Parameter("request", inspect.Parameter.POSITIONAL_OR_KEYWORD, annotation=Request)]
    for p in d.params:
        ann = list[_PY_TYPES[p.type]] if p.is_list else _PY_TYPES[p.type]
        params.append(inspect.Parameter(p.name, inspect.Parameter.KEYWORD_ONLY, annotation=ann | None,
                                        default=Query(None, description=p.description + (
                                            f" (one of: {', '.join(map(str, p.enum))})" if p.enum else ""))))
    endpoint.__signature__ = inspect.Signature(params)
    endpoint.__name__ = f"api_{d.name.replace('-', '_')}{'_alias' if prefix else ''}"
    app.add_api_route(prefix + d.url_path, endpoint, methods=["GET"], tags=["APIs from files"],
                      include_in_schema=include, responses=ERROR_RESPONSES, summary=d.description,
                      description=f"Defined by include/api/apis/{d.file}. Source: {d.source}. "
                                  f"At most {d.row_limit} rows; cached {d.cache_ttl} s per serving copy and caller scope.")
