"""Column treatments (mask operators): each one is a DuckDB SQL expression and a pure Python
function that give the same result, so role views (SQL) and a data API (Python rows) agree.

Operators follow the DataOS names of the seed's policies: ``hash`` (with ``algo``),
``bucket_date`` (with ``precision``), ``pass_through``, plus ``redact`` (DataOS has it too) for
the default treatment of a date of birth. NULL stays NULL under every operator.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from include.governance.errors import GovernanceError

HASH_ALGOS = ("sha256",)  # the only algorithm DuckDB and the seed share
DATE_PRECISIONS = ("day", "week", "month", "quarter", "year")
# Used only to combine treatments (a column with several tags, several defaults): the most
# restrictive wins. Policies never tie: the loader rejects equal priorities on shared tags.
RESTRICTIVENESS = {"pass_through": 0, "bucket_date": 1, "hash": 2, "redact": 3}
OPERATORS = tuple(RESTRICTIVENESS)
DATE_TYPES = ("DATE", "TIMESTAMP", "TIMESTAMP_NS", "TIMESTAMP_MS", "TIMESTAMP_S", "TIMESTAMP WITH TIME ZONE")


def quote(identifier: str) -> str:
    """A DuckDB identifier, double-quoted so any column name is safe in generated SQL."""
    return '"' + identifier.replace('"', '""') + '"'


@dataclass(frozen=True)
class Treatment:
    """What a reader sees of one column: ``operator`` plus its one parameter, if it has one."""

    operator: str
    algo: str | None = None
    precision: str | None = None

    @property
    def restrictiveness(self) -> int:
        return RESTRICTIVENESS[self.operator]

    def describe(self) -> str:
        param = self.algo or self.precision
        return f"{self.operator}({param})" if param else self.operator

    def sql(self, column: str, data_type: str) -> str:
        """The DuckDB expression that reads ``column`` (of DuckDB type ``data_type``) under this treatment."""
        col = quote(column)
        if self.operator == "pass_through":
            return col
        if self.operator == "hash":
            # sha256 of NULL is NULL in DuckDB; the varchar cast is the text hash_value() hashes
            return f"sha256(cast({col} as varchar))"
        if self.operator == "bucket_date":
            if data_type.upper() not in DATE_TYPES:
                raise GovernanceError(
                    f"bucket_date needs a DATE or TIMESTAMP column; {column} is {data_type}")
            # cast back: DuckDB 2.0's date_trunc returns a timestamp for a date (1.0 kept the date),
            # and a view must keep the column's type
            return f"cast(date_trunc('{self.precision}', {col}) as {data_type})"
        if self.operator == "redact":
            return f"cast(null as {data_type})"
        raise GovernanceError(f"unknown mask operator '{self.operator}'")

    def apply(self, value: Any) -> Any:
        """The Python twin of :meth:`sql` for one value (what a data API applies to rows)."""
        if value is None or self.operator == "redact":
            return None
        if self.operator == "pass_through":
            return value
        if self.operator == "hash":
            return hash_value(value)
        if self.operator == "bucket_date":
            return bucket_date(value, self.precision or "")
        raise GovernanceError(f"unknown mask operator '{self.operator}'")


def duckdb_text(value: Any) -> str:
    """The text ``cast(value as varchar)`` gives in DuckDB, for the types a tagged column holds."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int)):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise TypeError("hash_value: timezone-aware timestamps are not supported")
        text = value.isoformat(sep=" ")
        # DuckDB prints fractional seconds without trailing zeros (10:00:00.12, not .120000)
        return text.rstrip("0") if "." in text else text
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"hash_value: no DuckDB text form known for {type(value).__name__}")


def hash_value(value: Any) -> str | None:
    """SHA-256 hex of the value's DuckDB text, equal to DuckDB's ``sha256(cast(col as varchar))``."""
    if value is None:
        return None
    return hashlib.sha256(duckdb_text(value).encode("utf-8")).hexdigest()


def bucket_date(value: date | datetime | None, precision: str) -> date | datetime | None:
    """The start of the ``precision`` period holding ``value``, like DuckDB's ``date_trunc``."""
    if value is None:
        return None
    if precision not in DATE_PRECISIONS:
        raise GovernanceError(f"unknown bucket_date precision '{precision}'")
    if precision == "week":  # ISO weeks start on Monday, as in DuckDB
        start = date.fromordinal(value.toordinal() - value.weekday())
    else:
        month = {"day": value.month, "month": value.month, "year": 1,
                 "quarter": (value.month - 1) // 3 * 3 + 1}[precision]
        start = date(value.year, month, value.day if precision == "day" else 1)
    if isinstance(value, datetime):
        return datetime(start.year, start.month, start.day, tzinfo=value.tzinfo)
    return start


def most_restrictive(treatments: list[Treatment]) -> Treatment:
    """The treatment that reveals least; ``redact`` if the list is empty (fail closed)."""
    return max(treatments, key=lambda t: t.restrictiveness, default=Treatment("redact"))
