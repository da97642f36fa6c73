"""GraphQL (`/v2/graphql`, strawberry): the market-place document's query

    query { load(query: {measures: [...], dimensions: [...]}, limit: 10, offset: 0) { data meta } }

``data`` and ``meta`` are JSON scalars, as in the document's Studio-generated query. Its other
example selects ``meta { rateLimit { limit remaining resetAt } }``, which no schema can serve
next to ``{ data meta }`` (a field is either a scalar or an object; D15 in docs/reference-design.md): ``meta`` stays
the scalar and holds ``rateLimit``, and ``rateLimit { limit remaining resetAt used }`` is a typed
field beside it. Members are strings, so introspection shows the query shape, never the model's
members (``/v2/meta`` lists those, per caller).

Limits (document, "Query Complexity Limits"): depth at most 10, cost at most 1000 points (each
``load`` costs 100, any other field 1), at most 10,000 rows per ``load``. One HTTP call is one
request for the rate limits whatever it holds.
"""
from __future__ import annotations

import logging
from typing import Any

import strawberry
from fastapi import FastAPI, Request
from fastapi.responses import Response
from graphql import FieldNode, GraphQLError, OperationDefinitionNode, parse
from graphql.error import GraphQLSyntaxError
from strawberry.extensions import MaskErrors, MaxAliasesLimiter, QueryDepthLimiter
from strawberry.scalars import JSON

from include.api.app import ServiceState, audit_of, encode, json_body, load_response, principal_of
from include.api.errors import ApiError, bad_request
from include.api.query import parse_load

log = logging.getLogger("fsdp.api")
MAX_DEPTH = 10
MAX_COST = 1000
LOAD_COST = 100


@strawberry.input
class TimeDimensionInput:
    dimension: str
    granularity: str | None = None
    dateRange: list[str] | None = None  # noqa: N815 (the document's names)


@strawberry.input
class FilterInput:
    member: str
    operator: str
    values: list[str] | None = None


@strawberry.input
class OrderInput:
    member: str
    direction: str = "asc"


@strawberry.input
class LoadQueryInput:
    measures: list[str] | None = None
    dimensions: list[str] | None = None
    timeDimensions: list[TimeDimensionInput] | None = None  # noqa: N815
    filters: list[FilterInput] | None = None
    segments: list[str] | None = None
    order: list[OrderInput] | None = None


@strawberry.type
class RateLimitInfo:
    limit: int | None
    remaining: int | None
    resetAt: str | None  # noqa: N815
    used: int | None


@strawberry.type
class LoadResult:
    data: JSON
    meta: JSON
    rateLimit: RateLimitInfo | None  # noqa: N815


def _as_query(q: LoadQueryInput) -> dict:
    out: dict[str, Any] = {}
    for key in ("measures", "dimensions", "segments"):
        if getattr(q, key) is not None:
            out[key] = getattr(q, key)
    if q.timeDimensions:
        out["timeDimensions"] = [{k: v for k, v in vars(t).items() if v is not None} for t in q.timeDimensions]
    if q.filters:
        out["filters"] = [{k: v for k, v in vars(f).items() if v is not None} for f in q.filters]
    if q.order:
        out["order"] = [[o.member, o.direction] for o in q.order]
    return out


@strawberry.type
class Query:
    @strawberry.field(description="Run a query of the semantic model; data: rows keyed by member, meta: "
                                  "logical date, run, quality gate, limits, masking, rateLimit")
    def load(self, info: strawberry.Info, query: LoadQueryInput, limit: int | None = None,
             offset: int | None = None) -> LoadResult:
        state: ServiceState = info.context["state"]
        request: Request = info.context["request"]
        principal = principal_of(request)
        body = _as_query(query)
        audit = audit_of(request)
        audit.setdefault("query", []).append({**body, "limit": limit, "offset": offset})
        try:
            with state.data.lease() as backend:
                q = parse_load(body, state.data.visible(backend, principal), principal.group, principal.claims,
                               state.groups.defaults.max_rows, limit=limit, offset=offset)
                result = state.data.run(backend, principal, q)
                rate = request.scope["state"].get("rate_limit")
                payload = load_response(state, principal, q, backend, result, rate)
                audit["rows"] = (audit.get("rows") or 0) + len(result["rows"])
                audit.update(data_run_id=backend.copy.run_id, data_logical_date=backend.copy.logical_date)
        except ApiError as exc:
            raise GraphQLError(exc.message, extensions={"code": exc.code, "status": exc.status}) from None
        except Exception:
            log.exception("GraphQL load failed")
            raise GraphQLError("internal error", extensions={"code": "INTERNAL", "status": 500}) from None
        r = rate or {}
        return LoadResult(data=payload["data"], meta=payload["meta"],
                          rateLimit=RateLimitInfo(limit=r.get("limit"), remaining=r.get("remaining"),
                                                  resetAt=r.get("resetAt"), used=r.get("used")) if rate else None)


INTERNAL = "internal error; the audit line has the request id"
# an unexpected exception's text (a stack detail, SQL) never reaches the caller
schema = strawberry.Schema(query=Query, extensions=[
    QueryDepthLimiter(max_depth=MAX_DEPTH), MaxAliasesLimiter(max_alias_count=15),
    MaskErrors(should_mask_error=lambda e: e.original_error is not None
               and not isinstance(e.original_error, GraphQLError), error_message=INTERNAL)])


def _cost_and_depth(document) -> tuple[int, int]:
    """(cost, depth) of every operation and fragment, introspection fields included (strawberry's
    depth limiter skips them; a deep introspection query must not pass either)."""
    def walk(selection_set, depth: int) -> tuple[int, int]:
        cost, deepest = 0, depth
        for sel in selection_set.selections if selection_set else []:
            child = getattr(sel, "selection_set", None)
            if isinstance(sel, FieldNode):
                cost += LOAD_COST if sel.name.value == "load" else 1
                c, d = walk(child, depth + 1)
            else:
                c, d = walk(child, depth)
            cost, deepest = cost + c, max(deepest, d)
        return cost, deepest

    total, deepest = 0, 0
    for definition in document.definitions:
        if getattr(definition, "selection_set", None) is not None:
            c, d = walk(definition.selection_set, 0)
            total, deepest = total + c, max(deepest, d)
    return total, deepest


def _error_status(errors) -> int:
    statuses = [(e.extensions or {}).get("status") for e in errors]
    statuses = [s for s in statuses if isinstance(s, int)]
    if any(e.message == INTERNAL for e in errors):
        return 500
    return max(statuses) if statuses else 400


def register(app: FastAPI, state: ServiceState, path: str, include: bool) -> None:
    @app.post(path, tags=["semantic model"], include_in_schema=include,
              summary="GraphQL: load(query: {measures, dimensions, ...}, limit, offset) { data meta rateLimit }",
              openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {
                  "type": "object", "required": ["query"],
                  "properties": {"query": {"type": "string"}, "variables": {"type": "object"},
                                 "operationName": {"type": "string"}}}}}}})
    async def graphql_endpoint(request: Request) -> Response:
        body = await json_body(request)
        if not isinstance(body, dict) or not isinstance(body.get("query"), str):
            raise bad_request("a GraphQL request is {\"query\": \"...\", \"variables\": {...}}")
        if body.get("variables") is not None and not isinstance(body["variables"], dict):
            raise bad_request("variables must be an object")
        audit_of(request)["query"] = []
        try:
            document = parse(body["query"])
        except GraphQLSyntaxError as exc:
            return _reply({"data": None, "errors": [{"message": exc.message,
                                                     "extensions": {"code": "GRAPHQL_PARSE_FAILED"}}]}, 400)
        cost, depth = _cost_and_depth(document)
        if depth > MAX_DEPTH:
            raise ApiError(400, "QUERY_TOO_DEEP", f"query depth {depth} is over the maximum {MAX_DEPTH}")
        if cost > MAX_COST:
            raise ApiError(400, "QUERY_TOO_COMPLEX", f"query cost {cost} is over the maximum {MAX_COST} "
                                                     f"(each load costs {LOAD_COST}, other fields 1)")
        from starlette.concurrency import run_in_threadpool

        result = await run_in_threadpool(schema.execute_sync, body["query"], body.get("variables"),
                                         {"state": state, "request": request}, None, body.get("operationName"))
        out: dict[str, Any] = {"data": result.data}
        status = 200
        if result.errors:
            out["errors"] = [{"message": e.message, **({"path": e.path} if e.path else {}),
                              "extensions": {k: v for k, v in (e.extensions or {}).items()} or {"code": "GRAPHQL_VALIDATION_FAILED"}}
                             for e in result.errors]
            if not result.data or all(v is None for v in (result.data or {}).values()):
                status = _error_status(result.errors)
            audit_of(request)["error"] = out["errors"][0]["extensions"].get("code")
        return _reply(out, status)


def _reply(body: dict, status: int) -> Response:
    return Response(encode(body), status_code=status, media_type="application/json")
