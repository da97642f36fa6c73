"""One error shape for every refusal: ``{"error": {"code", "message", ...}}`` with a 4xx status.

The 429 body is the market-place document's (code RATE_LIMIT_EXCEEDED, message, retryAfter,
limit, remaining, resetAt); the others follow the same shape so a client handles one format.
"""
from __future__ import annotations

from typing import Any


class ApiError(Exception):
    """A refusal: HTTP ``status``, a stable machine ``code``, a message a person can act on."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None,
                 **extra: Any):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message
        self.headers = headers or {}
        self.extra = extra

    def body(self) -> dict:
        return {"error": {"code": self.code, "message": self.message, **self.extra}}


def bad_request(message: str, code: str = "BAD_REQUEST", **extra) -> ApiError:
    return ApiError(400, code, message, **extra)


def unauthenticated(message: str) -> ApiError:
    return ApiError(401, "UNAUTHENTICATED", message, headers={"WWW-Authenticate": 'Bearer realm="fsdp-data-api"'})


def forbidden(message: str, code: str = "FORBIDDEN") -> ApiError:
    return ApiError(403, code, message)
