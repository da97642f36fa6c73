"""Errors of the semantic layer: what the data API turns into a 400 (or, for a timeout, a 504)."""
from __future__ import annotations


class SemanticError(ValueError):
    """A request the semantic layer refuses: unknown member, bad operator, bad granularity, bad
    value ... ``member`` names the member concerned when there is one."""

    def __init__(self, message: str, member: str | None = None):
        super().__init__(message)
        self.member = member


class QueryTimeout(SemanticError):
    """The query ran longer than its ``timeout_s`` and was interrupted."""
