"""APIs from files: every ``apis/<name>.yaml`` (+ ``<name>.sql`` or a saved ``query:``) is a GET
route of the data API, listed in OpenAPI with its parameters.

The SQL is the market-place document's semantic SQL (Cube's SQL API dialect): members of the
semantic model, ``MEASURE(...)`` for measures, logical tables joined with ``CROSS JOIN`` (the
model knows the join path), ``GROUP BY`` ordinals, and ``WHERE`` conditions whose values may be
parameters ``:name``. It is translated into a semantic-layer query, so the caller's governance
role, segments and member scope apply exactly as on /v2/load, and a parameter is a filter value
bound by the semantic layer: it is never formatted into SQL text.

A definition (YAML; the document's ``urlPath``, ``description``, ``source`` plus ours):

    urlPath: /debit_credit_ratio_api
    description: ...
    source: customer_data_market_place
    sql: debit-credit-ratio.sql          # default: the YAML's name with .sql; or `query:` (saved query)
    allowedGroups: [admin, analyst, viewer]
    rowLimit: 10000                      # at most the service's maxRowsPerQuery
    cache: {ttlSeconds: 300}
    request:                             # VulcanSQL/Talos style parameters
      - fieldName: zone
        fieldIn: query
        type: string                     # string | integer | number | boolean | date
        description: ...
        required: false
        default: null
        enum: [...]                      # optional: pattern, min, max, maxLength, maxItems (lists)
        list: false                      # true: ?zone=a&zone=b, for IN conditions
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import yaml

from include.api.errors import bad_request

PARAM_TYPES = ("string", "integer", "number", "boolean", "date")
NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,62}$")
URL_RE = re.compile(r"^/[A-Za-z0-9_\-/]{1,200}$")


class ApiDefinitionError(ValueError):
    """An API definition file is invalid (raised at start-up, naming the file)."""


@dataclass(frozen=True)
class Param:
    name: str
    type: str = "string"
    description: str = ""
    required: bool = False
    default: Any = None
    enum: tuple | None = None
    pattern: str | None = None
    min: float | None = None
    max: float | None = None
    max_length: int | None = 200
    is_list: bool = False
    max_items: int = 100

    def coerce(self, raw: list[str] | None) -> Any:
        """The value from the query string (validated), the default, or None when absent."""
        if not raw:
            if self.required:
                raise bad_request(f"parameter {self.name!r} is required", "MISSING_PARAMETER")
            return self.default
        if not self.is_list and len(raw) > 1:
            raise bad_request(f"parameter {self.name!r} takes one value", "BAD_PARAMETER")
        if len(raw) > self.max_items:
            raise bad_request(f"parameter {self.name!r}: at most {self.max_items} values", "BAD_PARAMETER")
        values = [self._one(v) for v in raw]
        return values if self.is_list else values[0]

    def _one(self, text: str) -> Any:
        bad = lambda why: bad_request(f"parameter {self.name!r}: {why}", "BAD_PARAMETER")  # noqa: E731
        if self.max_length and len(text) > self.max_length:
            raise bad(f"longer than {self.max_length} characters")
        value: Any = text
        try:
            if self.type == "integer":
                if not re.fullmatch(r"-?\d{1,18}", text):
                    raise ValueError
                value = int(text)
            elif self.type == "number":
                value = float(text)
                if value != value or value in (float("inf"), float("-inf")):
                    raise ValueError
            elif self.type == "boolean":
                if text.lower() not in ("true", "false"):
                    raise ValueError
                value = text.lower() == "true"
            elif self.type == "date":
                value = date.fromisoformat(text).isoformat()
        except ValueError:
            raise bad(f"not a valid {self.type}") from None
        if self.enum is not None and value not in self.enum:
            raise bad(f"must be one of {', '.join(map(str, self.enum))}")
        if self.pattern and not re.fullmatch(self.pattern, text):
            raise bad(f"must match {self.pattern}")
        if self.min is not None and value < self.min:
            raise bad(f"must be >= {self.min:g}")
        if self.max is not None and value > self.max:
            raise bad(f"must be <= {self.max:g}")
        return value


@dataclass(frozen=True)
class Ref:
    """A parameter reference in a saved query or SQL (``:name``)."""

    name: str


@dataclass(frozen=True)
class Template:
    """A query with parameter references, as parsed from SQL or a saved query."""

    measures: tuple[str, ...]
    dimensions: tuple[str, ...]
    time_dimensions: tuple[dict, ...]
    filters: tuple[dict, ...]          # values may hold Ref
    order: tuple[tuple[str, str], ...]
    limit: Any = None                  # int | Ref | None
    offset: Any = None
    aliases: dict = field(default_factory=dict)   # member -> output column name

    def bind(self, values: dict[str, Any]) -> dict:
        """A /v2/load-shaped query with parameter values in place; a condition whose optional
        parameter is absent is dropped."""
        filters = []
        for f in self.filters:
            vals, drop = [], False
            for v in f.get("values", []):
                if isinstance(v, Ref):
                    got = values.get(v.name)
                    if got is None:
                        drop = True
                        break
                    vals.extend(got if isinstance(got, list) else [got])
                else:
                    vals.append(v)
            if drop:
                continue
            entry = {"member": f["member"], "operator": f["operator"]}
            if "values" in f:
                entry["values"] = [v if isinstance(v, (int, float)) and not isinstance(v, bool) else str(v)
                                   for v in vals]
            filters.append(entry)
        out = {"measures": list(self.measures), "dimensions": list(self.dimensions),
               "timeDimensions": [dict(t) for t in self.time_dimensions], "filters": filters,
               "order": [list(o) for o in self.order]}
        for key in ("limit", "offset"):
            v = getattr(self, key)
            v = values.get(v.name) if isinstance(v, Ref) else v
            if v is not None:
                out[key] = v
        return out


@dataclass(frozen=True)
class ApiDefinition:
    name: str
    url_path: str
    description: str
    source: str
    template: Template
    params: tuple[Param, ...]
    allowed_groups: frozenset[str] | None
    row_limit: int
    cache_ttl: int
    file: str
    sql: str | None = None

    def bind(self, query_params: dict[str, list[str]]) -> tuple[dict, dict]:
        unknown = set(query_params) - {p.name for p in self.params}
        if unknown:
            raise bad_request(f"unknown parameter {sorted(unknown)[0][:60]!r} (this API takes: "
                              f"{', '.join(p.name for p in self.params) or 'none'})", "BAD_PARAMETER")
        values = {p.name: p.coerce(query_params.get(p.name)) for p in self.params}
        return self.template.bind(values), values


# ---- the semantic SQL dialect -------------------------------------------------------------------

TOKEN_RE = re.compile(r"""
    (?P<ws>\s+|--[^\n]*) |
    (?P<string>'(?:[^']|'')*') |
    (?P<number>-?\d+(?:\.\d+)?) |
    (?P<param>:[A-Za-z_][A-Za-z0-9_]*) |
    (?P<ident>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?) |
    (?P<op><>|!=|>=|<=|=|<|>) |
    (?P<punct>[(),*;])
""", re.VERBOSE)
KEYWORDS = {"select", "from", "cross", "join", "where", "and", "group", "by", "order", "asc", "desc",
            "limit", "offset", "as", "measure", "in", "not", "is", "null", "between", "like", "date_trunc"}
COMPARISONS = {"=": "equals", "<>": "notEquals", "!=": "notEquals", ">": "gt", ">=": "gte", "<": "lt", "<=": "lte"}


class _Tokens:
    def __init__(self, sql: str):
        self.items: list[tuple[str, str]] = []
        pos = 0
        while pos < len(sql):
            m = TOKEN_RE.match(sql, pos)
            if not m:
                raise ApiDefinitionError(f"unexpected text at {sql[pos:pos + 20]!r}")
            pos = m.end()
            kind = m.lastgroup
            if kind == "ws":
                continue
            text = m.group()
            if kind == "ident" and text.lower() in KEYWORDS:
                kind, text = "kw", text.lower()
            self.items.append((kind, text))
        while self.items and self.items[-1] == ("punct", ";"):
            self.items.pop()
        self.i = 0

    def peek(self, offset: int = 0) -> tuple[str, str]:
        j = self.i + offset
        return self.items[j] if j < len(self.items) else ("end", "")

    def take(self) -> tuple[str, str]:
        tok = self.peek()
        self.i += 1
        return tok

    def kw(self, *words: str) -> bool:
        if self.peek()[0] == "kw" and self.peek()[1] in words:
            self.i += 1
            return True
        return False

    def expect(self, kind: str, text: str | None = None) -> str:
        k, t = self.take()
        if k != kind or (text is not None and t != text):
            raise ApiDefinitionError(f"expected {text or kind}, found {t or 'the end'!r}")
        return t


def _value(toks: _Tokens) -> Any:
    kind, text = toks.take()
    if kind == "param":
        return Ref(text[1:])
    if kind == "string":
        return text[1:-1].replace("''", "'")
    if kind == "number":
        return float(text) if "." in text else int(text)
    raise ApiDefinitionError(f"expected a value or :parameter, found {text or 'the end'!r}")


def parse_sql(sql: str) -> Template:
    """The semantic SQL of an API file as a query template (raises ApiDefinitionError)."""
    t = _Tokens(sql)
    t.expect("kw", "select")
    items: list[tuple[str, str, str | None, str | None]] = []   # (kind, member, granularity, alias)
    while True:
        if t.kw("measure"):
            t.expect("punct", "(")
            member = t.expect("ident")
            t.expect("punct", ")")
            item = ("measure", member, None)
        elif t.kw("date_trunc"):
            t.expect("punct", "(")
            gran = _value(t)
            t.expect("punct", ",")
            member = t.expect("ident")
            t.expect("punct", ")")
            if not isinstance(gran, str):
                raise ApiDefinitionError("DATE_TRUNC takes a granularity string")
            item = ("time", member, gran)
        else:
            member = t.expect("ident")
            item = ("dimension", member, None)
        alias = t.expect("ident") if t.kw("as") else None
        items.append((*item, alias))
        if not (t.peek() == ("punct", ",")):
            break
        t.take()
    t.expect("kw", "from")
    tables = [t.expect("ident")]
    while t.peek() == ("punct", ",") or t.peek() == ("kw", "cross") or t.peek() == ("kw", "join"):
        if t.kw("cross"):
            t.expect("kw", "join")
        elif not t.kw("join"):
            t.take()
        tables.append(t.expect("ident"))
    filters: list[dict] = []
    if t.kw("where"):
        while True:
            filters.append(_condition(t))
            if not t.kw("and"):
                break
    group_by: list = []
    if t.kw("group"):
        t.expect("kw", "by")
        while True:
            group_by.append(_value(t) if t.peek()[0] == "number" else t.expect("ident"))
            if t.peek() != ("punct", ","):
                break
            t.take()
    order: list[tuple[str, str]] = []
    if t.kw("order"):
        t.expect("kw", "by")
        while True:
            ref = _value(t) if t.peek()[0] == "number" else t.expect("ident")
            direction = "desc" if t.kw("desc") else ("asc" if t.kw("asc") or True else "asc")
            order.append((_resolve(ref, items), direction))
            if t.peek() != ("punct", ","):
                break
            t.take()
    limit = offset = None
    if t.kw("limit"):
        limit = _value(t)
    if t.kw("offset"):
        offset = _value(t)
    if t.peek()[0] != "end":
        raise ApiDefinitionError(f"unexpected {t.peek()[1]!r} after the query")
    for kind, m, _, _ in items:
        if "." not in m:
            raise ApiDefinitionError(f"{m!r}: select members as <table>.<member>")
    grouped = {_resolve(g, items) for g in group_by}
    non_measures = {m for k, m, _, _ in items if k != "measure"}
    if group_by and grouped != non_measures:
        raise ApiDefinitionError("GROUP BY must list every selected dimension (the semantic layer groups by them)")
    used_tables = {m.split(".")[0] for _, m, _, _ in items} | {f["member"].split(".")[0] for f in filters}
    missing = used_tables - set(tables)
    if missing:
        raise ApiDefinitionError(f"members of {sorted(missing)[0]} are used but it is not in FROM")
    return Template(
        measures=tuple(m for k, m, _, _ in items if k == "measure"),
        dimensions=tuple(m for k, m, _, _ in items if k == "dimension"),
        time_dimensions=tuple({"dimension": m, "granularity": g} for k, m, g, _ in items if k == "time"),
        filters=tuple(filters), order=tuple(order), limit=limit, offset=offset,
        aliases={m: a for _, m, _, a in items if a})


def _resolve(ref: Any, items) -> str:
    if isinstance(ref, int):
        if not 1 <= ref <= len(items):
            raise ApiDefinitionError(f"ordinal {ref} is not a selected column")
        return items[ref - 1][1]
    for _, m, _, alias in items:
        if ref in (m, alias):
            return m
    raise ApiDefinitionError(f"{ref!r} is not a selected column")


def _condition(t: _Tokens) -> dict:
    member = t.expect("ident")
    if "." not in member:
        raise ApiDefinitionError(f"{member!r}: filter on <table>.<member>")
    if t.kw("is"):
        negated = t.kw("not")
        t.expect("kw", "null")
        return {"member": member, "operator": "set" if negated else "notSet"}
    negated = t.kw("not")
    if t.kw("in"):
        if t.peek()[0] == "param":
            values = [_value(t)]
        else:
            t.expect("punct", "(")
            values = [_value(t)]
            while t.peek() == ("punct", ","):
                t.take()
                values.append(_value(t))
            t.expect("punct", ")")
        return {"member": member, "operator": "notIn" if negated else "in", "values": values}
    if t.kw("between"):
        lo = _value(t)
        t.expect("kw", "and")
        hi = _value(t)
        return {"member": member, "operator": "notInDateRange" if negated else "inDateRange", "values": [lo, hi]}
    if t.kw("like"):
        pattern = _value(t)
        if isinstance(pattern, Ref):
            return {"member": member, "operator": "notContains" if negated else "contains", "values": [pattern]}
        if not isinstance(pattern, str) or "_" in pattern.strip("%") or "%" in pattern.strip("%"):
            raise ApiDefinitionError("LIKE supports 'x%', '%x' and '%x%' only")
        core = pattern.strip("%")
        if pattern.startswith("%") and pattern.endswith("%"):
            op = "notContains" if negated else "contains"
        elif negated:
            raise ApiDefinitionError("NOT LIKE supports '%x%' only")
        elif pattern.endswith("%"):
            op = "startsWith"
        else:
            op = "endsWith"
        return {"member": member, "operator": op, "values": [core]}
    if negated:
        raise ApiDefinitionError("NOT goes with IN, BETWEEN, LIKE or IS NULL")
    kind, op = t.take()
    if kind != "op":
        raise ApiDefinitionError(f"expected a comparison after {member}, found {op!r}")
    return {"member": member, "operator": COMPARISONS[op], "values": [_value(t)]}


# ---- loading definitions -----------------------------------------------------------------------

def _param(doc: Any, where: str) -> Param:
    if not isinstance(doc, dict) or not isinstance(doc.get("fieldName"), str) or not NAME_RE.match(doc["fieldName"]):
        raise ApiDefinitionError(f"{where}: fieldName must be a name like zone or from_date")
    known = {"fieldName", "fieldIn", "type", "description", "required", "default", "enum", "pattern", "min", "max",
             "maxLength", "list", "maxItems"}
    if set(doc) - known:
        raise ApiDefinitionError(f"{where}: unknown field {sorted(set(doc) - known)[0]}")
    if doc.get("fieldIn", "query") != "query":
        raise ApiDefinitionError(f"{where}: only query parameters are supported (fieldIn: query)")
    ptype = doc.get("type", "string")
    if ptype not in PARAM_TYPES:
        raise ApiDefinitionError(f"{where}: type must be one of {', '.join(PARAM_TYPES)}")
    if doc.get("pattern"):
        re.compile(doc["pattern"])
    p = Param(name=doc["fieldName"], type=ptype, description=str(doc.get("description") or ""),
              required=bool(doc.get("required", False)), default=doc.get("default"),
              enum=tuple(doc["enum"]) if doc.get("enum") is not None else None, pattern=doc.get("pattern"),
              min=doc.get("min"), max=doc.get("max"), max_length=doc.get("maxLength", 200),
              is_list=bool(doc.get("list", False)), max_items=int(doc.get("maxItems", 100)))
    if p.default is not None:
        p.coerce([str(d) for d in p.default] if isinstance(p.default, list) else [str(p.default)])
    return p


def _saved_query(doc: Any, where: str) -> Template:
    if not isinstance(doc, dict):
        raise ApiDefinitionError(f"{where}: query must be a mapping like a /v2/load query")

    def refs(values):
        return [Ref(v["param"]) if isinstance(v, dict) and set(v) == {"param"} else v for v in values or []]

    filters = tuple({**f, **({"values": refs(f.get("values"))} if "values" in f else {})}
                    for f in doc.get("filters") or [])
    order = doc.get("order") or []
    order = tuple((list(o.items()) if isinstance(o, dict) else [o])[0] if isinstance(o, dict) else tuple(o)
                  for o in (order if isinstance(order, list) else [{k: v} for k, v in order.items()]))
    lim = doc.get("limit")
    return Template(measures=tuple(doc.get("measures") or []), dimensions=tuple(doc.get("dimensions") or []),
                    time_dimensions=tuple(doc.get("timeDimensions") or []), filters=filters, order=order,
                    limit=Ref(lim["param"]) if isinstance(lim, dict) else lim)


def load_definition(path: Path, max_rows: int, groups: set[str]) -> ApiDefinition:
    where = path.name
    try:
        doc = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise ApiDefinitionError(f"{where}: not valid YAML ({exc})") from None
    if not isinstance(doc, dict):
        raise ApiDefinitionError(f"{where}: expected a mapping")
    known = {"urlPath", "description", "source", "sql", "query", "allowedGroups", "rowLimit", "cache", "request"}
    if set(doc) - known:
        raise ApiDefinitionError(f"{where}: unknown field {sorted(set(doc) - known)[0]}")
    url = doc.get("urlPath")
    if not isinstance(url, str) or not URL_RE.match(url) or url.startswith(("/v2/", "/health", "/ready", "/docs",
                                                                            "/openapi")):
        raise ApiDefinitionError(f"{where}: urlPath must be a path like /my_api, outside /v2/ and the service's own")
    params = tuple(_param(p, f"{where}: request[{i}]") for i, p in enumerate(doc.get("request") or []))
    if len({p.name for p in params}) != len(params):
        raise ApiDefinitionError(f"{where}: a parameter is declared twice")
    sql_text = None
    try:
        if "query" in doc:
            if "sql" in doc:
                raise ApiDefinitionError(f"{where}: give sql or query, not both")
            template = _saved_query(doc["query"], where)
        else:
            sql_file = path.with_name(doc.get("sql") or path.with_suffix(".sql").name)
            if sql_file.parent != path.parent or not sql_file.exists():
                raise ApiDefinitionError(f"{where}: SQL file {sql_file.name} not found next to it")
            sql_text = sql_file.read_text()
            template = parse_sql(sql_text)
    except ApiDefinitionError as exc:
        msg = str(exc)
        raise ApiDefinitionError(msg if msg.startswith(where) else f"{where}: {msg}") from None
    declared = {p.name for p in params}
    used = {v.name for f in template.filters for v in f.get("values", []) if isinstance(v, Ref)}
    used |= {x.name for x in (template.limit, template.offset) if isinstance(x, Ref)}
    if used - declared:
        raise ApiDefinitionError(f"{where}: parameter :{sorted(used - declared)[0]} is not declared under request")
    allowed = doc.get("allowedGroups")
    if allowed is not None:
        unknown = set(allowed) - groups
        if unknown:
            raise ApiDefinitionError(f"{where}: allowedGroups names unknown group {sorted(unknown)[0]}")
    row_limit = doc.get("rowLimit", max_rows)
    if isinstance(row_limit, bool) or not isinstance(row_limit, int) or row_limit < 1:
        raise ApiDefinitionError(f"{where}: rowLimit must be a whole number >= 1")
    row_limit = min(row_limit, max_rows)   # never above the service's cap (maxRowsPerQuery)
    ttl = int((doc.get("cache") or {}).get("ttlSeconds", 300))
    return ApiDefinition(name=path.stem, url_path=url, description=str(doc.get("description") or ""),
                         source=str(doc.get("source") or ""), template=template, params=params,
                         allowed_groups=frozenset(allowed) if allowed is not None else None,
                         row_limit=row_limit, cache_ttl=max(0, ttl), file=path.name, sql=sql_text)


def load_definitions(directory: Path, max_rows: int, groups: set[str]) -> list[ApiDefinition]:
    defs = [load_definition(p, max_rows, groups) for p in sorted(Path(directory).glob("*.yaml"))]
    seen: dict[str, str] = {}
    for d in defs:
        if d.url_path in seen:
            raise ApiDefinitionError(f"{d.file}: urlPath {d.url_path} is also used by {seen[d.url_path]}")
        seen[d.url_path] = d.file
    return defs
