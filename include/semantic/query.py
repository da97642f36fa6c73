"""A query in logical names (Cube / Lens shape) and its translation to a MetricFlow request.

Filter values never reach SQL text: every value becomes a named DuckDB parameter (``$p0`` ...),
typed by the member's type (a number must parse as a number, a date as an ISO date, a boolean as
true/false), so no value can change the SQL. The SQL text depends only on the query's structure,
which is what the compiled-SQL cache keys on.
"""
from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Sequence

from include.semantic.errors import SemanticError
from include.semantic.model import GRANULARITIES, Catalog, Member

OPERATORS = ("equals", "notEquals", "in", "notIn", "gt", "gte", "lt", "lte", "contains", "notContains",
             "startsWith", "endsWith", "set", "notSet", "inDateRange", "notInDateRange", "beforeDate", "afterDate")
MAX_VALUES = 1000          # values of one filter
MAX_VALUE_LENGTH = 1000    # characters of one string value
MAX_MEMBERS = 50           # measures + dimensions + time dimensions of one query


@dataclass
class Query:
    """Measures, dimensions, time dimensions, filters, order, limit and offset in logical names."""

    measures: Sequence[str] = ()
    dimensions: Sequence[str] = ()
    time_dimensions: Sequence[dict] = ()     # {"dimension", "granularity"?, "dateRange"?: [from, to]}
    filters: Sequence[dict] = ()             # {"member", "operator", "values"}
    order: Sequence[tuple[str, str]] | dict = ()
    limit: int | None = None
    offset: int = 0

    @classmethod
    def from_dict(cls, body: dict) -> "Query":
        """A Query from a Cube-style JSON body (``measures``, ``dimensions``, ``timeDimensions``,
        ``filters``, ``order``, ``limit``, ``offset``)."""
        if not isinstance(body, dict):
            raise SemanticError("a query is a JSON object")
        known = {"measures", "dimensions", "timeDimensions", "time_dimensions", "filters", "order", "limit", "offset"}
        extra = sorted(set(body) - known)
        if extra:
            raise SemanticError(f"unknown query field '{extra[0]}'")
        order = body.get("order") or ()
        if isinstance(order, dict):
            order = list(order.items())
        return cls(measures=body.get("measures") or (), dimensions=body.get("dimensions") or (),
                   time_dimensions=body.get("timeDimensions") or body.get("time_dimensions") or (),
                   filters=body.get("filters") or (), order=order, limit=body.get("limit"),
                   offset=body.get("offset") or 0)


@dataclass(frozen=True)
class Column:
    key: str            # the row key: member name (time dimensions: "<member>.<granularity>")
    member: Member
    mf_column: str      # the column MetricFlow's SQL returns
    granularity: str | None = None

    @property
    def type(self) -> str:
        return self.member.type


@dataclass
class Plan:
    """What a query becomes: the MetricFlow request parts and the outer select around its SQL."""

    metric_names: list[str]
    group_by_names: list[str]
    where: list[str]                        # MetricFlow where constraints (Jinja + $params)
    outer_where: list[str]                  # filters on measures, applied to MetricFlow's result
    columns: list[Column]
    aliases: list[tuple[str, str]]          # extra row keys: (key, source key) e.g. "t.txn_ts" -> "t.txn_ts.month"
    order: list[tuple[str, str]]            # (row key, asc|desc)
    limit: int | None
    offset: int
    params: dict[str, Any] = field(default_factory=dict)

    def cache_key(self, role: str | None) -> tuple:
        """Everything the SQL text depends on (not the filter values, which are parameters)."""
        return (role, tuple(self.metric_names), tuple(self.group_by_names), tuple(self.where),
                tuple(self.outer_where), tuple((c.key, c.mf_column) for c in self.columns), tuple(self.aliases),
                tuple(self.order), self.limit, self.offset)


def _as_list(value: Any, what: str) -> list:
    if value is None:
        return []
    if isinstance(value, (str, bytes)) or not isinstance(value, (list, tuple)):
        raise SemanticError(f"{what} must be a list")
    return list(value)


class _Params:
    def __init__(self):
        self.values: dict[str, Any] = {}

    def bind(self, value: Any) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"


def _value(member: Member, value: Any, *, as_text: bool = False) -> Any:
    """A filter value checked against the member's type (the value is bound, never inlined)."""
    name = member.name
    if isinstance(value, bool) or value is None or isinstance(value, (dict, list, tuple)):
        if member.type == "boolean" and isinstance(value, bool):
            return value
        raise SemanticError(f"filter on '{name}': {value!r} is not a valid value", member=name)
    if as_text or member.type == "string":
        text = str(value)
        if len(text) > MAX_VALUE_LENGTH:
            raise SemanticError(f"filter on '{name}': a value is longer than {MAX_VALUE_LENGTH} characters", member=name)
        return text
    if member.type == "number":
        try:
            number = Decimal(str(value).strip())
        except Exception:
            raise SemanticError(f"filter on '{name}': {value!r} is not a number", member=name) from None
        if not number.is_finite():
            raise SemanticError(f"filter on '{name}': {value!r} is not a finite number", member=name)
        return float(number) if number != number.to_integral_value() or abs(number) > 2**62 else int(number)
    if member.type == "boolean":
        text = str(value).strip().lower()
        if text in ("true", "1", "yes"):
            return True
        if text in ("false", "0", "no"):
            return False
        raise SemanticError(f"filter on '{name}': {value!r} is not true or false", member=name)
    if member.type == "time":
        return _date(name, value)
    raise SemanticError(f"filter on '{name}': unsupported type {member.type}", member=name)  # pragma: no cover


def _date(name: str, value: Any) -> dt.datetime:
    if isinstance(value, dt.datetime):
        return value
    if isinstance(value, dt.date):
        return dt.datetime.combine(value, dt.time())
    text = str(value).strip()
    try:
        return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).replace(tzinfo=None)
    except ValueError:
        raise SemanticError(f"filter on '{name}': {value!r} is not an ISO date (YYYY-MM-DD)", member=name) from None


def _date_range(name: str, value: Any) -> tuple[dt.datetime, dt.datetime, bool]:
    """[from, to] -> (from, to, to_is_a_day): a plain date as the end means the whole day."""
    values = _as_list(value, f"dateRange of '{name}'")
    if len(values) != 2:
        raise SemanticError(f"dateRange of '{name}' must be [from, to]", member=name)
    start, end = _date(name, values[0]), _date(name, values[1])
    whole_day = isinstance(values[1], str) and len(values[1].strip()) == 10 or (
        isinstance(values[1], dt.date) and not isinstance(values[1], dt.datetime))
    if end < start:
        raise SemanticError(f"dateRange of '{name}' ends before it starts", member=name)
    return start, end, whole_day


def plan_query(query: Query, catalog: Catalog, params: _Params | None = None) -> Plan:
    """Validate ``query`` against the catalog and translate it; SemanticError names the member at fault."""
    params = params or _Params()
    measures = [catalog.member(m, ("measure",)) for m in _as_list(query.measures, "measures")]
    dimensions = [catalog.member(d, ("dimension",)) for d in _as_list(query.dimensions, "dimensions")]
    time_dims = _as_list(query.time_dimensions, "timeDimensions")
    if len(measures) + len(dimensions) + len(time_dims) > MAX_MEMBERS:
        raise SemanticError(f"a query selects at most {MAX_MEMBERS} members")
    if not measures and not dimensions and not any(isinstance(t, dict) and t.get("granularity") for t in time_dims):
        raise SemanticError("a query needs at least one measure or dimension")
    if len({m.name for m in measures}) != len(measures) or len({d.name for d in dimensions}) != len(dimensions):
        raise SemanticError("a member is selected twice")
    agg_times = {a for m in measures for a in m.agg_time}
    uses_metric_time = bool(measures) and all(len(m.agg_time) == 1 for m in measures) and len(agg_times) == 1

    def time_name(member: Member) -> str:
        return "metric_time" if uses_metric_time and member.name in agg_times else member.mf_name

    columns: list[Column] = [Column(d.name, d, d.mf_name) for d in dimensions]
    where: list[str] = []
    grains_of: dict[str, list[str]] = {}
    for t in time_dims:
        if not isinstance(t, dict):
            raise SemanticError("each timeDimensions entry is an object with 'dimension'")
        extra = sorted(set(t) - {"dimension", "granularity", "dateRange", "date_range"})
        if extra:
            raise SemanticError(f"unknown timeDimensions field '{extra[0]}'")
        member = catalog.member(t.get("dimension"), ("time_dimension",))
        grain = t.get("granularity")
        if grain is not None:
            if grain not in member.granularities:
                raise SemanticError(f"granularity '{grain}' of '{member.name}' is not one of "
                                    f"{', '.join(member.granularities)}", member=member.name)
            key = f"{member.name}.{grain}"
            if key in {c.key for c in columns}:
                raise SemanticError(f"'{member.name}' is selected twice at granularity {grain}", member=member.name)
            columns.append(Column(key, member, f"{time_name(member)}__{grain}", grain))
            grains_of.setdefault(member.name, []).append(key)
        date_range = t.get("dateRange", t.get("date_range"))
        if date_range is not None:
            where.append(_range_sql(time_name(member), member, date_range, params, negate=False))
    aliases = [(name, keys[0]) for name, keys in grains_of.items() if len(keys) == 1]
    columns += [Column(m.name, m, m.mf_name) for m in measures]

    outer_where: list[str] = []
    for f in _as_list(query.filters, "filters"):
        if not isinstance(f, dict):
            raise SemanticError("each filter is an object with 'member', 'operator' and 'values'")
        extra = sorted(set(f) - {"member", "dimension", "operator", "values"})
        if extra:
            raise SemanticError(f"unknown filter field '{extra[0]}'")
        member = catalog.member(f.get("member", f.get("dimension")))
        op = f.get("operator")
        if op not in OPERATORS:
            raise SemanticError(f"unknown filter operator {op!r} on '{member.name}' (operators: {', '.join(OPERATORS)})",
                                member=member.name)
        values = _as_list(f.get("values"), f"values of the filter on '{member.name}'")
        if len(values) > MAX_VALUES:
            raise SemanticError(f"filter on '{member.name}': at most {MAX_VALUES} values", member=member.name)
        if member.kind == "measure":
            selected = {c.member.name: c for c in columns}
            if member.name not in selected:
                raise SemanticError(f"filter on measure '{member.name}' needs the measure in the query", member=member.name)
            outer_where.append(_filter_sql(f'mf."{member.mf_name}"', member, op, values, params))
        elif member.kind == "time_dimension":
            expr = "{{ TimeDimension('%s', 'day') }}" % time_name(member)
            if op in ("inDateRange", "notInDateRange"):
                where.append(_range_sql(time_name(member), member, values, params, negate=op == "notInDateRange"))
            else:
                where.append(_filter_sql(expr, member, op, values, params))
        else:
            where.append(_filter_sql("{{ Dimension('%s') }}" % member.mf_name if member.mf_name.count("__")
                                     else "{{ Entity('%s') }}" % member.mf_name, member, op, values, params))

    keys = {c.key: c for c in columns} | {a: next(c for c in columns if c.key == k) for a, k in aliases}
    order = []
    raw_order = query.order.items() if isinstance(query.order, dict) else query.order
    for item in raw_order or ():
        if isinstance(item, (list, tuple)) and len(item) == 2:
            name, direction = item
        else:
            raise SemanticError("order entries are [member, 'asc'|'desc']")
        direction = str(direction).lower()
        if direction not in ("asc", "desc"):
            raise SemanticError(f"order direction of '{name}' must be asc or desc", member=str(name))
        if name not in keys:
            catalog.member(name)  # unknown member: its own message
            raise SemanticError(f"cannot order by '{name}': it is not selected", member=str(name))
        order.append((keys[name].key, direction))
    # ties broken by every selected dimension, so pages of a result never overlap
    for c in columns:
        if c.member.kind != "measure" and c.key not in {k for k, _ in order}:
            order.append((c.key, "asc"))

    limit = query.limit
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise SemanticError("limit must be a non-negative integer")
    offset = query.offset or 0
    if isinstance(offset, bool) or not isinstance(offset, int) or offset < 0:
        raise SemanticError("offset must be a non-negative integer")
    return Plan(metric_names=[m.mf_name for m in measures],
                group_by_names=[c.mf_column for c in columns if c.member.kind != "measure"],
                where=where, outer_where=outer_where, columns=columns, aliases=aliases, order=order,
                limit=limit, offset=offset, params=params.values)


def _range_sql(mf_time: str, member: Member, values: Any, params: _Params, *, negate: bool) -> str:
    start, end, whole_day = _date_range(member.name, values)
    expr = "{{ TimeDimension('%s', 'day') }}" % mf_time
    if whole_day:
        end = end + dt.timedelta(days=1)
        clause = f"({expr} >= {params.bind(start)} and {expr} < {params.bind(end)})"
    else:
        clause = f"({expr} >= {params.bind(start)} and {expr} <= {params.bind(end)})"
    return f"not {clause}" if negate else clause


def _filter_sql(expr: str, member: Member, op: str, values: list, params: _Params) -> str:
    name = member.name
    if op in ("set", "notSet"):
        if values:
            raise SemanticError(f"operator {op} on '{name}' takes no values", member=name)
        return f"{expr} is {'not ' if op == 'set' else ''}null"
    if not values:
        raise SemanticError(f"operator {op} on '{name}' needs at least one value", member=name)
    if op in ("equals", "in", "notEquals", "notIn"):
        bound = ", ".join(params.bind(_value(member, v)) for v in values)
        if op in ("equals", "in"):
            return f"{expr} in ({bound})"
        return f"({expr} not in ({bound}) or {expr} is null)"
    if op in ("gt", "gte", "lt", "lte", "beforeDate", "afterDate"):
        if len(values) != 1:
            raise SemanticError(f"operator {op} on '{name}' takes one value", member=name)
        if member.type not in ("number", "time"):
            raise SemanticError(f"operator {op} needs a number or time member, '{name}' is a {member.type}", member=name)
        if op in ("beforeDate", "afterDate") and member.type != "time":
            raise SemanticError(f"operator {op} needs a time member", member=name)
        sign = {"gt": ">", "gte": ">=", "lt": "<", "lte": "<=", "beforeDate": "<", "afterDate": ">"}[op]
        return f"{expr} {sign} {params.bind(_value(member, values[0]))}"
    if op in ("contains", "notContains", "startsWith", "endsWith"):
        if member.type != "string":
            raise SemanticError(f"operator {op} needs a string member, '{name}' is a {member.type}", member=name)
        fn = {"contains": "contains", "notContains": "contains", "startsWith": "starts_with",
              "endsWith": "ends_with"}[op]
        parts = [f"{fn}(lower({expr}), lower({params.bind(_value(member, v, as_text=True))}))" for v in values]
        clause = "(" + " or ".join(parts) + ")"
        return f"not coalesce({clause}, false)" if op == "notContains" else clause
    if op in ("inDateRange", "notInDateRange"):
        raise SemanticError(f"operator {op} needs a time member, '{name}' is a {member.type}", member=name)
    raise SemanticError(f"unknown filter operator {op!r}", member=name)  # pragma: no cover


def json_value(value: Any) -> Any:
    """A result value as JSON can carry it (Decimal -> float, dates -> ISO strings; NaN -> None)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    return value


__all__ = ["Query", "Plan", "Column", "plan_query", "OPERATORS", "json_value", "GRANULARITIES"]
