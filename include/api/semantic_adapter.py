"""The one place the API calls the semantic layer (include/semantic): open it on a serving copy,
read its catalog as API members, compile and run validated queries as a governance role."""
from __future__ import annotations

from include.api.errors import ApiError, bad_request
from include.api.query import LoadQuery, Member
from include.serving import ServingCopy

KINDS = {"measure": "measure", "dimension": "dimension", "time_dimension": "time"}


def open_layer(copy: ServingCopy, clear_pii: bool):
    from include.semantic import SemanticLayer

    if copy.semantic_manifest is None:
        raise ApiError(503, "NOT_READY", f"serving copy {copy.copy_id} has no semantic manifest")
    return SemanticLayer(copy.path, copy.semantic_manifest, manifest_path=copy.manifest,
                         connection=copy.connect(clear_pii=clear_pii))


def members(catalog) -> dict[str, Member]:
    return {m.name: Member(name=m.name, kind=KINDS[m.kind], type=m.type, title=m.title, description=m.description,
                           tags=frozenset(m.tags), granularities=tuple(m.granularities), table=m.table,
                           extra={"mf_name": m.mf_name})
            for m in catalog.members.values()}


def _query(q: LoadQuery):
    from include.semantic import Query

    return Query(measures=list(q.measures), dimensions=list(q.dimensions),
                 time_dimensions=[dict(t) for t in q.time_dimensions], filters=[dict(f) for f in q.filters],
                 order=list(q.order), limit=q.limit if q.explicit_limit else None, offset=q.offset)


def _refusal(exc, hidden: set[str]) -> ApiError:
    from include.semantic import QueryTimeout

    if isinstance(exc, QueryTimeout):
        return None
    message = str(exc)
    # a refusal must not name a member the caller may not use
    if any(name in message for name in hidden):
        message = "the semantic layer cannot answer this query"
    return bad_request(message[:500], "INVALID_QUERY")


def run(layer, q: LoadQuery, role: str, timeout_s: float, max_rows: int, on_timeout, hidden: set[str]) -> dict:
    from include.semantic import QueryTimeout, SemanticError

    try:
        result = layer.run(_query(q), role=role, timeout_s=timeout_s, max_rows=q.limit)
    except QueryTimeout:
        raise on_timeout() from None
    except SemanticError as exc:
        raise _refusal(exc, hidden) from None
    return {"rows": result.rows, "columns": result.columns, "truncated": bool(result.truncated) and not q.explicit_limit}


def compile(layer, q: LoadQuery, role: str, hidden: set[str]) -> dict:
    from include.semantic import SemanticError

    try:
        compiled = layer.compile(_query(q), role=role)
    except SemanticError as exc:
        raise _refusal(exc, hidden) from None
    return {"sql": compiled.sql, "params": compiled.parameters, "columns": compiled.columns}
