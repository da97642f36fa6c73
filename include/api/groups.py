"""User groups (``user_groups.yml``): scopes, governance role, hidden members, segments, rate limits.

Loaded once at start-up and validated strictly: a mistake is one error naming the group and the
field, never a group that silently gets more than it should.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

SCOPES = ("data", "graphql", "meta", "sql")
FILTER_OPERATORS = ("equals", "notEquals", "in", "notIn", "gt", "gte", "lt", "lte", "contains",
                    "notContains", "startsWith", "endsWith", "set", "notSet", "inDateRange",
                    "notInDateRange", "beforeDate", "afterDate")


class GroupsError(ValueError):
    """user_groups.yml is invalid."""


@dataclass(frozen=True)
class Window:
    """``requests`` calls per ``seconds``."""

    requests: int
    seconds: int

    def describe(self) -> str:
        unit = {1: "second", 60: "minute", 3600: "hour", 86400: "day"}.get(self.seconds)
        return f"{self.requests} requests per {unit}" if unit else f"{self.requests} requests in {self.seconds} seconds"


@dataclass(frozen=True)
class RateLimits:
    windows: tuple[Window, ...]
    concurrent: int | None = None


@dataclass(frozen=True)
class SegmentFilter:
    member: str
    operator: str
    values: tuple[Any, ...]        # plain values or {"claim": name}


@dataclass(frozen=True)
class Segment:
    name: str
    description: str
    filters: tuple[SegmentFilter, ...]

    def claims(self) -> set[str]:
        return {v["claim"] for f in self.filters for v in f.values if isinstance(v, dict)}


@dataclass(frozen=True)
class UserGroup:
    name: str
    description: str
    scopes: frozenset[str]
    user_tags: frozenset[str]
    limits: RateLimits
    segments: tuple[Segment, ...] = ()
    exclude_members: tuple[str, ...] = ()
    exclude_tagged: frozenset[str] = frozenset()

    def may_use(self, member: str, tags) -> bool:
        """Whether the group may use ``member`` (governance column ``tags``) in any form."""
        if any(fnmatch.fnmatchcase(member, pattern) for pattern in self.exclude_members):
            return False
        return not (frozenset(tags or ()) & self.exclude_tagged)


@dataclass(frozen=True)
class Defaults:
    max_rows: int
    query_timeout_s: float
    per_key: RateLimits
    per_endpoint: dict[str, Window]
    per_address: RateLimits


@dataclass(frozen=True)
class UserGroups:
    groups: dict[str, UserGroup]
    defaults: Defaults
    source: str = ""
    raw: dict = field(default_factory=dict, repr=False)

    def get(self, name: str) -> UserGroup | None:
        return self.groups.get(name)


def _int(doc: dict, key: str, where: str, *, required: bool = True, minimum: int = 1) -> int | None:
    value = doc.get(key)
    if value is None:
        if required:
            raise GroupsError(f"{where}: {key} is required")
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise GroupsError(f"{where}: {key} must be a whole number >= {minimum} (got {value!r})")
    return value


def _seconds(doc: dict, key: str, where: str) -> float:
    value = doc.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        raise GroupsError(f"{where}: {key} must be a number of seconds > 0 (got {value!r})")
    return float(value)


def _windows(doc: Any, where: str, *, concurrent: bool, required: bool = True) -> RateLimits:
    if not isinstance(doc, dict):
        raise GroupsError(f"{where}: expected a mapping of limits")
    unknown = set(doc) - {"requestsPerMinute", "requestsPerHour", "concurrentRequests", "burst"}
    if unknown:
        raise GroupsError(f"{where}: unknown field {sorted(unknown)[0]}")
    windows = []
    for key, seconds in (("requestsPerMinute", 60), ("requestsPerHour", 3600)):
        n = _int(doc, key, where, required=required)
        if n is not None:
            windows.append(Window(n, seconds))
    if "burst" in doc:
        burst = doc["burst"]
        if not isinstance(burst, dict):
            raise GroupsError(f"{where}.burst: expected {{requests: N, seconds: S}}")
        windows.append(Window(_int(burst, "requests", f"{where}.burst"), _int(burst, "seconds", f"{where}.burst")))
    conc = _int(doc, "concurrentRequests", where, required=concurrent and required) if concurrent else None
    if not concurrent and "concurrentRequests" in doc:
        raise GroupsError(f"{where}: concurrentRequests only applies to groups")
    return RateLimits(tuple(windows), conc)


def _segment(doc: Any, where: str, known_claims_ok: bool = True) -> Segment:
    if not isinstance(doc, dict) or not doc.get("name"):
        raise GroupsError(f"{where}: a segment needs a name and filters")
    filters = []
    for i, f in enumerate(doc.get("filters") or []):
        at = f"{where}.filters[{i}]"
        if not isinstance(f, dict) or not isinstance(f.get("member"), str):
            raise GroupsError(f"{at}: member is required")
        if f.get("operator") not in FILTER_OPERATORS:
            raise GroupsError(f"{at}: unknown operator {f.get('operator')!r}")
        values = f.get("values") or []
        if not isinstance(values, list):
            raise GroupsError(f"{at}: values must be a list")
        for v in values:
            if isinstance(v, dict) and (set(v) != {"claim"} or not isinstance(v["claim"], str)):
                raise GroupsError(f"{at}: a value is a literal or {{claim: NAME}}")
        filters.append(SegmentFilter(f["member"], f["operator"], tuple(values)))
    if not filters:
        raise GroupsError(f"{where}: segment {doc['name']} has no filters")
    return Segment(doc["name"], str(doc.get("description") or ""), tuple(filters))


def parse(doc: Any, source: str = "user_groups.yml") -> UserGroups:
    if not isinstance(doc, dict) or doc.get("version") != "v1":
        raise GroupsError(f"{source}: expected a mapping with version: v1")
    d = doc.get("defaults") or {}
    endpoint = d.get("perEndpoint") or {}
    if not isinstance(endpoint, dict):
        raise GroupsError(f"{source}: defaults.perEndpoint must map endpoint -> requests per minute")
    defaults = Defaults(
        max_rows=_int(d, "maxRowsPerQuery", f"{source}: defaults"),
        query_timeout_s=_seconds(d, "queryTimeoutSeconds", f"{source}: defaults"),
        per_key=_windows(d.get("perApiKey") or {}, f"{source}: defaults.perApiKey", concurrent=False),
        per_endpoint={name: Window(_int(endpoint, name, f"{source}: defaults.perEndpoint"), 60) for name in endpoint},
        per_address=_windows(d.get("perAddress") or {}, f"{source}: defaults.perAddress", concurrent=False),
    )
    groups: dict[str, UserGroup] = {}
    for i, g in enumerate(doc.get("userGroups") or []):
        where = f"{source}: userGroups[{i}]"
        if not isinstance(g, dict) or not isinstance(g.get("name"), str) or not g["name"]:
            raise GroupsError(f"{where}: name is required")
        name = g["name"]
        where = f"{source}: group {name}"
        if name in groups:
            raise GroupsError(f"{where}: defined twice")
        known = {"name", "description", "api_scopes", "userTags", "segments", "rateLimits", "members", "membersTagged"}
        if set(g) - known:
            raise GroupsError(f"{where}: unknown field {sorted(set(g) - known)[0]}")
        scopes = g.get("api_scopes") or []
        bad = [s for s in scopes if s not in SCOPES]
        if bad:
            raise GroupsError(f"{where}: unknown api scope {bad[0]!r} (known: {', '.join(SCOPES)})")
        tags = g.get("userTags") or []
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise GroupsError(f"{where}: userTags must be a list of governance user tags")
        if len(tags) > 1:
            raise GroupsError(f"{where}: give a group one governance role (userTags has {len(tags)}); "
                              "a combination has no role view to read")
        if "rateLimits" not in g:
            raise GroupsError(f"{where}: rateLimits is required")
        members = g.get("members") or {}
        tagged = g.get("membersTagged") or {}
        groups[name] = UserGroup(
            name=name, description=" ".join(str(g.get("description") or "").split()),
            scopes=frozenset(scopes), user_tags=frozenset(tags),
            limits=_windows(g["rateLimits"], f"{where}.rateLimits", concurrent=True),
            segments=tuple(_segment(s, f"{where}.segments[{j}]") for j, s in enumerate(g.get("segments") or [])),
            exclude_members=tuple(members.get("exclude") or []),
            exclude_tagged=frozenset(tagged.get("exclude") or []),
        )
    if not groups:
        raise GroupsError(f"{source}: no userGroups")
    return UserGroups(groups, defaults, source, doc)


def load(path: str | Path) -> UserGroups:
    path = Path(path)
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise GroupsError(f"{path}: cannot read ({exc})") from None
    return parse(doc, path.name)
