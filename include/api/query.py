"""The /v2/load request (the market-place document's and Cube's query shape), validated before
anything reaches the semantic layer, and the group's segments added to it.

    {"query": {"measures": [...], "dimensions": [...],
               "timeDimensions": [{"dimension": "transactions.txn_ts", "granularity": "month",
                                   "dateRange": ["2026-01-01", "2026-12-31"]}],
               "filters": [{"member": "customers.zone", "operator": "equals", "values": ["North"]}],
               "segments": [...], "order": {"transactions.debit_to_credit_ratio": "desc"},
               "limit": 100, "offset": 0}}

Every member named anywhere (selected, filtered, ordered, time dimension) must be one the caller
may use; one it may not is answered exactly like a member that does not exist, so a refusal
tells nothing about what is hidden. Values are data, never SQL: they go to the semantic layer,
which binds them.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from include.api.errors import ApiError, bad_request, forbidden
from include.api.groups import FILTER_OPERATORS, UserGroup

QUERY_KEYS = {"measures", "dimensions", "timeDimensions", "filters", "segments", "order", "limit", "offset",
              "timezone", "total", "renewQuery", "ungrouped"}
GRANULARITIES = ("day", "week", "month", "quarter", "year")
VALUELESS = ("set", "notSet")
MAX_MEMBERS = 50
MAX_VALUES = 1000
MAX_VALUE_LENGTH = 1000
MAX_OFFSET = 1_000_000_000


@dataclass(frozen=True)
class Member:
    """A member of the semantic model as the API sees it."""

    name: str
    kind: str                       # measure | dimension | time | segment
    type: str                       # string | number | time | boolean
    title: str = ""
    description: str = ""
    tags: frozenset[str] = frozenset()
    granularities: tuple[str, ...] = ()
    table: str = ""
    extra: dict = field(default_factory=dict)


@dataclass
class LoadQuery:
    """A validated query: the semantic layer's Query arguments plus what meta reports."""

    measures: list[str]
    dimensions: list[str]
    time_dimensions: list[dict]
    filters: list[dict]
    segments: list[str]
    order: list[tuple[str, str]]
    limit: int
    offset: int
    applied_segments: list[str] = field(default_factory=list)
    explicit_limit: bool = False

    def members(self) -> list[str]:
        return [*self.measures, *self.dimensions, *(t["dimension"] for t in self.time_dimensions)]

    def key(self) -> tuple:
        """Everything that decides the result (cache key part)."""
        import json

        return (tuple(self.measures), tuple(self.dimensions), json.dumps(self.time_dimensions, sort_keys=True),
                json.dumps(self.filters, sort_keys=True, default=str), tuple(self.segments), tuple(self.order),
                self.limit, self.offset, self.explicit_limit)

    def as_dict(self) -> dict:
        out: dict[str, Any] = {"measures": self.measures, "dimensions": self.dimensions}
        if self.time_dimensions:
            out["timeDimensions"] = self.time_dimensions
        if self.filters:
            out["filters"] = self.filters
        if self.segments:
            out["segments"] = self.segments
        if self.order:
            out["order"] = [[m, d] for m, d in self.order]
        out["limit"], out["offset"] = self.limit, self.offset
        return out


def unknown_member(name: Any) -> ApiError:
    # identical for "does not exist" and "exists but not for you": nothing is learnt from it
    return bad_request(f"unknown member {str(name)[:200]!r} (GET /v2/meta lists the members you may use)",
                       "UNKNOWN_MEMBER")


def _str_list(value: Any, key: str) -> list[str]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise bad_request(f"'{key}' must be a list of member names")
    if len(value) > MAX_MEMBERS:
        raise bad_request(f"'{key}' names {len(value)} members; at most {MAX_MEMBERS}")
    return list(dict.fromkeys(value))


def _values(values: Any, where: str) -> list:
    if not isinstance(values, list):
        raise bad_request(f"{where}: 'values' must be a list")
    if len(values) > MAX_VALUES:
        raise bad_request(f"{where}: at most {MAX_VALUES} values")
    out = []
    for v in values:
        if isinstance(v, bool) or v is None or not isinstance(v, (str, int, float)):
            raise bad_request(f"{where}: values must be strings or numbers")
        if isinstance(v, str) and len(v) > MAX_VALUE_LENGTH:
            raise bad_request(f"{where}: a value is longer than {MAX_VALUE_LENGTH} characters")
        out.append(v)
    return out


def _int(value: Any, key: str, lo: int, hi: int, hint: str = "") -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        else:
            raise bad_request(f"'{key}' must be a whole number")
    if value < lo or value > hi:
        raise bad_request(f"'{key}' must be between {lo} and {hi}{hint} (got {value})", "LIMIT_OUT_OF_RANGE"
                          if key == "limit" else "BAD_REQUEST")
    return value


def _order(value: Any) -> list[tuple[str, str]]:
    if value is None:
        return []
    pairs = list(value.items()) if isinstance(value, dict) else value
    if not isinstance(pairs, list):
        raise bad_request("'order' must be {member: asc|desc} or [[member, asc|desc], ...]")
    out = []
    for p in pairs:
        if not (isinstance(p, (list, tuple)) and len(p) == 2 and isinstance(p[0], str) and isinstance(p[1], str)):
            raise bad_request("'order' must be {member: asc|desc} or [[member, asc|desc], ...]")
        direction = p[1].lower()
        if direction not in ("asc", "desc"):
            raise bad_request(f"order of {p[0][:200]!r}: direction must be asc or desc")
        out.append((p[0], direction))
    return out


def parse_load(body: Any, members: dict[str, Member], group: UserGroup, claims: dict, max_rows: int,
               limit: Any = None, offset: Any = None) -> LoadQuery:
    """Validate a query against the caller's members; add the group's segments. ``members`` holds
    only what the caller may use."""
    if not isinstance(body, dict):
        raise bad_request("the query must be a JSON object")
    unknown = set(body) - QUERY_KEYS
    if unknown:
        raise bad_request(f"unknown query field {sorted(unknown)[0][:100]!r}")
    if body.get("ungrouped"):
        raise bad_request("ungrouped queries are not served: the API serves aggregates of the semantic model")

    def member(name: Any, kinds: tuple[str, ...]) -> Member:
        m = members.get(name) if isinstance(name, str) else None
        if m is None:
            raise unknown_member(name)
        if m.kind not in kinds:
            raise bad_request(f"{name!r} is a {m.kind}, not a {' or '.join(kinds)}", "WRONG_MEMBER_KIND")
        return m

    measures = _str_list(body.get("measures"), "measures")
    dimensions = _str_list(body.get("dimensions"), "dimensions")
    for m in measures:
        member(m, ("measure",))
    for d in dimensions:
        m = member(d, ("dimension", "time"))
        if m.kind == "time":
            raise bad_request(f"{d!r} is a time dimension: query it in timeDimensions with a granularity",
                              "WRONG_MEMBER_KIND")
    tds = []
    raw_tds = body.get("timeDimensions") or []
    if not isinstance(raw_tds, list):
        raise bad_request("'timeDimensions' must be a list")
    for i, td in enumerate(raw_tds):
        where = f"timeDimensions[{i}]"
        if not isinstance(td, dict) or set(td) - {"dimension", "granularity", "dateRange", "compareDateRange"}:
            raise bad_request(f"{where}: expected {{dimension, granularity, dateRange}}")
        if "compareDateRange" in td:
            raise bad_request(f"{where}: compareDateRange is not supported")
        m = member(td.get("dimension"), ("time",))
        out = {"dimension": m.name}
        if td.get("granularity") is not None:
            g = td["granularity"]
            allowed = m.granularities or GRANULARITIES
            if g not in allowed:
                raise bad_request(f"{where}: granularity {str(g)[:50]!r} is not one of {', '.join(allowed)}",
                                  "BAD_GRANULARITY")
            out["granularity"] = g
        if td.get("dateRange") is not None:
            dr = td["dateRange"]
            if isinstance(dr, str):
                raise bad_request(f"{where}: dateRange must be [from, to] dates (relative ranges are not supported)")
            if not (isinstance(dr, list) and len(dr) == 2 and all(isinstance(x, str) and len(x) <= 40 for x in dr)):
                raise bad_request(f"{where}: dateRange must be [from, to]")
            out["dateRange"] = dr
        tds.append(out)
    if not measures and not dimensions and not tds:
        raise bad_request("the query selects nothing: give measures, dimensions or timeDimensions")
    filters = [_filter(f, f"filters[{i}]", member) for i, f in enumerate(body.get("filters") or [])] \
        if isinstance(body.get("filters") or [], list) else _bad_filters()
    segments = _str_list(body.get("segments"), "segments")
    for s in segments:
        member(s, ("segment",))
    order = _order(body.get("order"))
    selected = set(measures) | set(dimensions) | {t["dimension"] for t in tds}
    for name, _ in order:
        member(name, ("measure", "dimension", "time"))
        if name not in selected:
            raise bad_request(f"order by {name!r}: order only by members the query selects")
    lim = _int(body.get("limit") if limit is None else limit, "limit", 1, max_rows,
               f" (at most {max_rows} rows per query)") if (body.get("limit") is not None or limit is not None) else max_rows
    off = _int(body.get("offset") if offset is None else offset, "offset", 0, MAX_OFFSET) \
        if (body.get("offset") is not None or offset is not None) else 0
    explicit = body.get("limit") is not None or limit is not None
    q = LoadQuery(measures, dimensions, tds, filters, segments, order, lim, off, explicit_limit=explicit)
    apply_segments(q, group, claims)
    return q


def _bad_filters():
    raise bad_request("'filters' must be a list")


def _filter(f: Any, where: str, member) -> dict:
    if not isinstance(f, dict):
        raise bad_request(f"{where}: a filter is {{member, operator, values}}")
    if "or" in f or "and" in f:
        raise bad_request(f"{where}: boolean 'or'/'and' filters are not supported; filters are combined with AND")
    if set(f) - {"member", "dimension", "operator", "values"}:
        raise bad_request(f"{where}: unknown filter field {sorted(set(f) - {'member', 'dimension', 'operator', 'values'})[0][:50]!r}")
    m = member(f.get("member", f.get("dimension")), ("measure", "dimension", "time"))
    op = f.get("operator")
    if op not in FILTER_OPERATORS:
        raise bad_request(f"{where}: unknown operator {str(op)[:50]!r} (known: {', '.join(FILTER_OPERATORS)})",
                          "BAD_OPERATOR")
    out = {"member": m.name, "operator": op}
    if op in VALUELESS:
        if f.get("values"):
            raise bad_request(f"{where}: operator {op} takes no values")
    else:
        values = _values(f.get("values"), where)
        if not values:
            raise bad_request(f"{where}: operator {op} needs values")
        out["values"] = values
    return out


def apply_segments(q: LoadQuery, group: UserGroup, claims: dict) -> None:
    """AND the group's segment filters into the query; claim values come from the caller's token."""
    for segment in group.segments:
        for f in segment.filters:
            values = []
            for v in f.values:
                if isinstance(v, dict):
                    claim = claims.get(v["claim"])
                    if claim is None or isinstance(claim, (dict, list, bool)) or claim == "":
                        raise forbidden(f"group {group.name} serves rows by the caller's '{v['claim']}' "
                                        f"(segment {segment.name}); this caller has none", "MISSING_CLAIM")
                    values.append(str(claim))
                else:
                    values.append(v)
            entry = {"member": f.member, "operator": f.operator}
            if f.operator not in VALUELESS:
                entry["values"] = values
            q.filters.append(entry)
        q.applied_segments.append(segment.name)
