"""Rate limits: fixed windows counted with the `limits` library (in memory, or in Redis when
several replicas serve), plus concurrency slots per caller.

How the document's overlapping limits combine (D11 in docs/reference-design.md, README "Rate limits"):
every applicable window is counted and checked, the call is refused when any of them is over its
limit, and the ``X-RateLimit-*`` headers describe the window that answers: the refusing one, or
else the one with the fewest calls left (ties: the shortest window). The windows are the
client address's (every call, first, before authentication), then the caller's group windows,
the endpoint's window for that caller, and an API key's own windows. A refused call is counted
in the windows it reached (the document's ``Used``), and every window still resets at its time.
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone

from limits import RateLimitItemPerSecond
from limits.storage import storage_from_string

from include.api.errors import ApiError
from include.api.groups import Window


@dataclass(frozen=True)
class WindowState:
    scope: str          # "address" | "group" | "endpoint" | "api_key" | "concurrency"
    limit: int
    used: int           # calls counted in the window, at most ``limit``
    remaining: int
    reset: float        # unix time the window resets
    description: str
    refused: bool = False

    def headers(self) -> dict[str, str]:
        return {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Remaining": str(self.remaining),
                "X-RateLimit-Reset": str(int(self.reset + 0.999)), "X-RateLimit-Used": str(self.used)}

    def as_dict(self) -> dict:
        return {"scope": self.scope, "limit": self.limit, "remaining": self.remaining, "used": self.used,
                "resetAt": iso(self.reset)}


def iso(ts: float) -> str:
    return datetime.fromtimestamp(int(ts + 0.999), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def too_many(state: WindowState, now: float | None = None) -> ApiError:
    """The document's 429: body, Retry-After, and the headers of the refusing window."""
    now = time.time() if now is None else now
    retry = max(1, int(state.reset - now + 0.999))
    return ApiError(429, "RATE_LIMIT_EXCEEDED", f"Rate limit exceeded. Maximum {state.description}.",
                    headers={**state.headers(), "Retry-After": str(retry)},
                    retryAfter=retry, limit=state.limit, remaining=0, resetAt=iso(state.reset), scope=state.scope)


def binding(states: list[WindowState]) -> WindowState | None:
    """The window that answers: the refusing one, else the one with the fewest calls left."""
    refused = [s for s in states if s.refused]
    if refused:
        return refused[0]
    return min(states, key=lambda s: (s.remaining, s.reset - time.time())) if states else None


# acquire a concurrency slot across replicas: drop slots older than the stale age, add ours if room
_ACQUIRE = """
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1] - ARGV[2])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], ARGV[1], ARGV[4])
  redis.call('EXPIRE', KEYS[1], math.ceil(ARGV[2]))
  return 1
end
return 0
"""


class RateLimiter:
    """Counts calls in windows and holds concurrency slots; ``storage``: memory:// or redis://."""

    def __init__(self, storage: str = "memory://", stale_after_s: float = 120.0, prefix: str = "fsdp-api"):
        self.uri = storage
        self.redis = storage.startswith(("redis://", "rediss://"))
        options = {"implementation": "redispy"} if self.redis else {}
        self.storage = storage_from_string("async+" + storage, key_prefix=prefix, **options) if self.redis \
            else storage_from_string("async+memory://")
        self.prefix = prefix
        self.stale_after_s = stale_after_s
        self._items: dict[Window, RateLimitItemPerSecond] = {}
        self._slots: dict[str, int] = {}
        self._client = None
        self._acquire = None

    def _item(self, window: Window) -> RateLimitItemPerSecond:
        item = self._items.get(window)
        if item is None:
            item = self._items[window] = RateLimitItemPerSecond(window.requests, window.seconds)
        return item

    async def count(self, scope: str, identity: str, windows, description_prefix: str = "") -> list[WindowState]:
        """Count one call in each window of ``identity``; the states after counting."""
        states = []
        for window in windows:
            item = self._item(window)
            key = item.key_for(scope, identity)
            used = await self.storage.incr(key, item.get_expiry())
            reset = await self.storage.get_expiry(key)
            desc = window.describe() + (f" {description_prefix}" if description_prefix else "")
            states.append(WindowState(scope, window.requests, min(used, window.requests),
                                      max(0, window.requests - used), reset, desc, used > window.requests))
            if used > window.requests:
                break    # refused: later windows are not counted
        return states

    async def acquire_slot(self, identity: str, limit: int | None) -> str | None:
        """A concurrency slot for ``identity``; raises the 429 when ``limit`` slots are taken."""
        if not limit:
            return None
        token = uuid.uuid4().hex
        if self.redis:
            await self._redis()
            ok = await self._acquire(keys=[f"{self.prefix}:slots:{identity}"],
                                     args=[time.time(), self.stale_after_s, limit, token])
        else:
            ok = self._slots.get(identity, 0) < limit
            if ok:
                self._slots[identity] = self._slots.get(identity, 0) + 1
        if not ok:
            now = time.time()
            raise too_many(WindowState("concurrency", limit, limit, 0, now + 1,
                                       f"{limit} concurrent requests"), now)
        return token

    async def release_slot(self, identity: str, token: str | None) -> None:
        if token is None:
            return
        if self.redis:
            client = await self._redis()
            await client.zrem(f"{self.prefix}:slots:{identity}", token)
        else:
            left = self._slots.get(identity, 1) - 1
            if left <= 0:
                self._slots.pop(identity, None)
            else:
                self._slots[identity] = left

    async def _redis(self):
        if self._client is None:
            import redis.asyncio as aioredis

            self._client = aioredis.from_url(self.uri)
            self._acquire = self._client.register_script(_ACQUIRE)
        return self._client

    async def check(self) -> bool:
        """Storage reachable (readiness)."""
        return await self.storage.check()

    async def reset(self) -> None:
        await self.storage.reset()
        self._slots.clear()
