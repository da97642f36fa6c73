"""What the API serves: the current serving copy through the semantic layer, per caller.

``DataService`` keeps one open semantic layer per serving copy and moves to a new copy as soon
as the pipeline switches the pointer (checked on every call: one ``stat``), without a restart;
calls in flight finish on the copy they started on, which is closed when the last one is done.

Per caller it decides, from the user group and ``include.governance`` (the one policy engine):
the members it may use (hidden ones do not exist for it), the governance role whose views every
relation of its queries resolves to (masking happens in SQL, so grouping, filtering and ordering
see masked values only), and the segments ANDed into every query. Results are cached per copy,
role and the full query (segments included), so a cached answer is never served to a caller of
another zone, role or copy.
"""
from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from include import serving
from include.api.auth import Principal
from include.api.errors import ApiError, bad_request
from include.api.query import LoadQuery, Member
from include.governance.engine import decide
from include.governance.policy import load_policy_set

log = logging.getLogger(__name__)


class NotReady(ApiError):
    def __init__(self, message: str):
        super().__init__(503, "NOT_READY", message)


def query_timeout(seconds: float) -> ApiError:
    return ApiError(408, "QUERY_TIMEOUT", f"the query ran longer than the {seconds:g} s time limit and was "
                                          "stopped; narrow it (filters, fewer dimensions, a date range)")


@dataclass
class Backend:
    """One serving copy opened: its semantic layer(s), members and governance roles."""

    copy: serving.ServingCopy
    # the semantic layer on serving.duckdb with the clear role tables (pii.duckdb) attached: this
    # process is the serving layer that enforces the policy, by resolving every relation of a
    # query to the caller's role schema (DuckDB shares one database instance per file within a
    # process, so a second, "plain" connection would not be any safer)
    layer: Any
    members: dict[str, Member]
    policy_set: Any
    leases: int = 0
    retired: bool = False
    lock: threading.Lock = field(default_factory=threading.Lock)

    def close(self) -> None:
        close = getattr(self.layer, "close", None)
        if close:
            try:
                close()
            except Exception:  # closing a finished copy must not fail a call
                log.warning("closing serving copy %s failed", self.copy.copy_id, exc_info=True)

    def role_schema(self, user_tags: frozenset[str]) -> str:
        for role in self.policy_set.roles:
            if role.tag in user_tags:
                return role.schema
        return self.policy_set.public_schema

    def layer_for(self, role: str):
        return self.layer


class ResultCache:
    """LRU of query results with a TTL; keys hold the copy, the role and the whole query."""

    def __init__(self, max_entries: int, ttl_seconds: int):
        self.max, self.ttl = max_entries, ttl_seconds
        self._data: OrderedDict = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key):
        if self.ttl <= 0:
            return None
        with self._lock:
            hit = self._data.get(key)
            if hit is None:
                return None
            expires, value = hit
            if expires < time.monotonic():
                del self._data[key]
                return None
            self._data.move_to_end(key)
            return value

    def put(self, key, value, ttl: int | None = None) -> None:
        ttl = self.ttl if ttl is None else ttl
        if ttl <= 0:
            return
        with self._lock:
            self._data[key] = (time.monotonic() + ttl, value)
            self._data.move_to_end(key)
            while len(self._data) > self.max:
                self._data.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


def members_from_catalog(catalog) -> dict[str, Member]:
    """The semantic layer's catalog as API members (name -> Member)."""
    from include.api import semantic_adapter

    return semantic_adapter.members(catalog)


class DataService:
    def __init__(self, serving_dir: Path | None, max_rows: int, timeout_s: float, cache: ResultCache,
                 opener=None):
        self.serving_dir = serving_dir
        self.max_rows, self.timeout_s = max_rows, timeout_s
        self.cache = cache
        self._opener = opener or open_backend
        self._lock = threading.Lock()
        self._backend: Backend | None = None
        self._stamp = None

    # ---- which copy ----
    def _refresh(self) -> Backend:
        stamp = serving.pointer_stamp(self.serving_dir)
        backend = self._backend
        if backend is not None and stamp == self._stamp:
            return backend
        with self._lock:
            if self._backend is not None and stamp == self._stamp:
                return self._backend
            copy = serving.current(self.serving_dir)
            if copy is None:
                raise NotReady("no serving copy is published yet: run the pipeline (scripts/run.sh)")
            if self._backend is not None and self._backend.copy.copy_id == copy.copy_id:
                self._stamp = stamp
                return self._backend
            new = self._opener(copy)
            old, self._backend, self._stamp = self._backend, new, stamp
            log.info("serving copy %s (run %s, %s)", copy.copy_id, copy.run_id, copy.logical_date)
        if old is not None:
            with old.lock:
                old.retired = True
                idle = old.leases == 0
            if idle:
                old.close()
        return new

    def lease(self) -> "_Lease":
        return _Lease(self)

    def status(self) -> dict:
        try:
            b = self._refresh()
        except ApiError as exc:
            return {"ready": False, "reason": exc.message}
        except Exception as exc:
            return {"ready": False, "reason": f"serving copy cannot be opened: {str(exc).splitlines()[0]}"}
        return {"ready": b.copy.quality.get("status", "").startswith("passed"), **data_meta(b.copy)}

    # ---- per caller ----
    def visible(self, backend: Backend, principal: Principal) -> dict[str, Member]:
        g = principal.group
        return {n: m for n, m in backend.members.items() if g.may_use(n, m.tags)}

    def masking(self, backend: Backend, principal: Principal, names) -> dict[str, str]:
        members = {n: backend.members[n].tags for n in names if n in backend.members}
        decisions = decide(backend.policy_set, principal.group.user_tags, members)
        return {n: d.treatment.describe() for n, d in decisions.items() if d.reason != "untagged"}

    def run(self, backend: Backend, principal: Principal, q: LoadQuery, ttl: int | None = None) -> dict:
        """Rows of ``q`` for the caller: cached per copy, role and effective query."""
        role = backend.role_schema(principal.group.user_tags)
        key = ("load", backend.copy.copy_id, role, q.key())
        hit = self.cache.get(key)
        if hit is not None:
            return {**hit, "cached": True}
        from include.api import semantic_adapter

        started = time.perf_counter()
        result = semantic_adapter.run(backend.layer_for(role), q, role, self.timeout_s, self.max_rows,
                                      on_timeout=lambda: query_timeout(self.timeout_s),
                                      hidden=self.hidden(backend, principal))
        value = {**result, "query_ms": round((time.perf_counter() - started) * 1000, 2)}
        self.cache.put(key, value, ttl)
        return {**value, "cached": False}

    def compile(self, backend: Backend, principal: Principal, q: LoadQuery) -> dict:
        from include.api import semantic_adapter

        role = backend.role_schema(principal.group.user_tags)
        return semantic_adapter.compile(backend.layer_for(role), q, role, self.hidden(backend, principal))

    def hidden(self, backend: Backend, principal: Principal) -> set[str]:
        """Names of the members the caller may not use (kept out of every message it gets)."""
        hidden = {n for n, m in backend.members.items() if not principal.group.may_use(n, m.tags)}
        return hidden | {backend.members[n].extra.get("mf_name") for n in hidden if backend.members[n].extra.get("mf_name")}


class _Lease:
    def __init__(self, service: DataService):
        self.service = service
        self.backend: Backend | None = None

    def __enter__(self) -> Backend:
        while True:
            b = self.service._refresh()
            with b.lock:
                if not b.retired:
                    b.leases += 1
                    self.backend = b
                    return b

    def __exit__(self, *exc) -> None:
        b = self.backend
        with b.lock:
            b.leases -= 1
            close = b.retired and b.leases == 0
        if close:
            b.close()


def data_meta(copy: serving.ServingCopy) -> dict:
    """What every response's meta says about the data: logical date, run, quality gate."""
    return {"logicalDate": copy.logical_date, "runId": copy.run_id, "publishedAt": copy.published_at,
            "qualityGate": copy.quality.get("status"), "servingCopy": copy.copy_id}


def open_backend(copy: serving.ServingCopy) -> Backend:
    from include.api import semantic_adapter

    layer = semantic_adapter.open_layer(copy, clear_pii="pii" in copy.role_schemas.values())
    policy_set = load_policy_set(copy.column_tags)
    members = members_from_catalog(layer.catalog())
    return Backend(copy=copy, layer=layer, members=members, policy_set=policy_set)


__all__ = ["Backend", "DataService", "NotReady", "ResultCache", "bad_request", "data_meta"]
