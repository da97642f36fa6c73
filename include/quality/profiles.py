"""Column profiles of the product tables (the seed's ``wf-customer-overview-profile`` Flare job):
per column null %, distinct count, min/max, mean/stddev, quantiles and top values.

Computed with DuckDB SQL, one aggregate query per table plus one top-values query, not with Soda
Core 3's ``profile columns`` (measured on 3.5.6 + DuckDB): it skips date and timestamp columns,
has no quantiles and no row filter (the seed's filtered profile), and lists the most frequent
values of every column, names and e-mails included. Nothing here imports soda.

What a profile does not hold, because it is stored in the warehouse next to the masked role views
(include/governance): min/max of free text (that would be one customer's name or e-mail) and top
values that single out a few customers. Text columns get min/max *length* instead; top values are
kept for columns with at most ``TOP_VALUES_MAX_DISTINCT`` values, and only values shared by at
least ``TOP_VALUES_MIN_COUNT`` rows (a small filtered profile has no top values of names or dates).
Columns the dbt project tags for masking (``TW.mask``, ``TW.dob``: read from the marts' YAML, the
one place those tags are declared) get neither min/max nor top values.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Mapping

TOP_VALUES = 5
TOP_VALUES_MAX_DISTINCT = 50
TOP_VALUES_MIN_COUNT = 5
QUANTILES = (0.25, 0.5, 0.75)

DBT_MARTS_DIR = Path(__file__).resolve().parents[2] / "dbt_project" / "models" / "marts"
SENSITIVE_TAGS = frozenset({"TW.mask", "TW.dob"})

_NUMERIC = ("TINYINT", "SMALLINT", "INTEGER", "BIGINT", "HUGEINT", "UTINYINT", "USMALLINT", "UINTEGER",
            "UBIGINT", "FLOAT", "DOUBLE", "REAL")
_TEMPORAL = ("DATE", "TIMESTAMP", "TIMESTAMP WITH TIME ZONE", "TIME")

# The seed's filtered profile: WHERE cust_segment = 'Semi' AND country = 'United States'
# AND occupation = 'Salaried' AND city = 'Chicago' (on customer_overview_dp).
SEED_PROFILE_FILTER: dict[str, str] = {
    "cust_segment": "Semi", "country": "United States", "occupation": "Salaried", "city": "Chicago"}

# D2: the seed's generator (and so its filter) says 'Semi'; staging maps it to the
# spelling the product serves, 'Semi-Urban' (dbt macro value_aliases). Applied to filter values so
# the seed's filter still selects the customers it meant.
VALUE_ALIASES: dict[str, dict[str, str]] = {
    "cust_segment": {"semi": "Semi-Urban", "semi urban": "Semi-Urban", "semiurban": "Semi-Urban"},
}


@dataclass(frozen=True)
class ColumnProfile:
    dataset: str
    profile: str                  # "full", or "filtered" for a profile with a row filter
    row_filter: str | None        # the filter as applied, e.g. "cust_segment = 'Semi-Urban' and ..."
    row_count: int
    column_name: str
    data_type: str
    null_count: int
    null_pct: float | None        # 0..100; None on an empty table
    distinct_count: int
    min: str | None = None        # numeric and temporal columns only (as text)
    max: str | None = None
    min_length: int | None = None  # text columns only
    max_length: int | None = None
    mean: float | None = None     # numeric columns only
    stddev: float | None = None
    quantiles: dict = field(default_factory=dict)   # {"p25": .., "p50": .., "p75": ..} numeric only
    top_values: list = field(default_factory=list)  # [{"value": .., "count": ..}], see module docstring

    def as_dict(self) -> dict:
        return asdict(self)


@lru_cache(maxsize=4)
def sensitive_columns(marts_dir: Path = DBT_MARTS_DIR) -> dict[str, frozenset[str]]:
    """model -> columns carrying a masking tag, from the dbt marts' YAML ({} when absent)."""
    import yaml

    out: dict[str, frozenset[str]] = {}
    for path in sorted(marts_dir.glob("*.yml")):
        for model in (yaml.safe_load(path.read_text()) or {}).get("models") or []:
            cols = {c["name"] for c in model.get("columns") or [] if SENSITIVE_TAGS & set(c.get("tags") or [])}
            if cols:
                out[model["name"]] = frozenset(cols)
    return out


def normalise_filter(row_filter: Mapping[str, str] | None) -> dict[str, str]:
    """The filter with each value in the spelling the product serves (``Semi`` -> ``Semi-Urban``)."""
    out = {}
    for column, value in (row_filter or {}).items():
        out[column] = VALUE_ALIASES.get(column, {}).get(str(value).strip().lower(), value)
    return out


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _literal(value: str) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _kind(data_type: str) -> str:
    t = data_type.upper()
    if t in _NUMERIC or t.startswith("DECIMAL"):
        return "numeric"
    if t in _TEMPORAL or t.startswith("TIMESTAMP"):
        return "temporal"
    if t == "VARCHAR":
        return "text"
    return "other"


def table_columns(con, table: str) -> list[tuple[str, str]]:
    """(column, DuckDB type) of ``table`` in the connection's current schema, in table order."""
    rows = con.execute(
        "select column_name, data_type from information_schema.columns "
        "where table_name = ? and table_schema = current_schema() order by ordinal_position", [table]).fetchall()
    return [(name, dtype) for name, dtype in rows]


def profile_table(con, table: str, row_filter: Mapping[str, str] | None = None,
                  sensitive: frozenset[str] | None = None) -> list[ColumnProfile]:
    """Profiles of every column of ``table`` (current schema of ``con``), optionally over the rows
    matching ``row_filter`` (column -> value, all must match; values go through VALUE_ALIASES).
    ``sensitive``: columns without min/max or top values (default: the dbt masking tags)."""
    if sensitive is None:
        sensitive = sensitive_columns().get(table, frozenset())
    # lineage columns (_source_file, _landed_date, ...) describe the pipeline, not the data
    columns = [(c, t) for c, t in table_columns(con, table) if not c.startswith("_")]
    if not columns:
        raise ValueError(f"table {table} not found or has no columns")
    names = {c for c, _ in columns}
    filt = normalise_filter(row_filter)
    unknown = sorted(set(filt) - names)
    if unknown:
        raise ValueError(f"profile filter columns not in {table}: {', '.join(unknown)}")
    # the filter is shown in the profile as SQL text; values are escaped literals (they come from
    # a trigger form or a CLI flag)
    where_sql = " and ".join(f"{_quote(c)} = {_literal(v)}" for c, v in filt.items()) or None
    source = f"(select * from {_quote(table)}{' where ' + where_sql if where_sql else ''}) as t"

    selects = ["count(*)"]
    for name, dtype in columns:
        col, kind = _quote(name), _kind(dtype)
        selects += [f"count({col})", f"count(distinct {col})"]
        if kind in ("numeric", "temporal") and name not in sensitive:
            selects += [f"cast(min({col}) as varchar)", f"cast(max({col}) as varchar)"]
        else:
            selects += ["null", "null"]
        if kind == "text":
            selects += [f"min(length({col}))", f"max(length({col}))"]
        else:
            selects += ["null", "null"]
        if kind == "numeric":
            qs = ", ".join(str(q) for q in QUANTILES)
            selects += [f"avg({col})::double", f"stddev_samp({col})::double",
                        f"approx_quantile({col}::double, [{qs}])"]
        else:
            selects += ["null", "null", "null"]
    row = con.execute(f"select {', '.join(selects)} from {source}").fetchone()
    total = int(row[0])

    stats = {}
    for i, (name, dtype) in enumerate(columns):
        (non_null, distinct, mn, mx, min_len, max_len, mean, std, quants) = row[1 + 9 * i: 1 + 9 * (i + 1)]
        stats[name] = dict(non_null=int(non_null), distinct=int(distinct), min=mn, max=mx, min_len=min_len,
                           max_len=max_len, mean=mean, std=std, quants=quants)

    low_card = [n for n, _ in columns
                if 0 < stats[n]["distinct"] <= TOP_VALUES_MAX_DISTINCT and n not in sensitive]
    tops: dict[str, list] = {n: [] for n in low_card}
    if low_card:
        parts = [
            f"select {_literal(n)} as column_name, cast({_quote(n)} as varchar) as value, count(*) as n "
            f"from {source} where {_quote(n)} is not null group by 2 having count(*) >= {TOP_VALUES_MIN_COUNT}"
            for n in low_card]
        top_sql = (f"select column_name, value, n from ({' union all '.join(parts)}) "
                   f"qualify row_number() over (partition by column_name order by n desc, value) <= {TOP_VALUES} "
                   f"order by column_name, n desc, value")
        for column_name, value, n in con.execute(top_sql).fetchall():
            tops[column_name].append({"value": value, "count": int(n)})

    out = []
    for name, dtype in columns:
        s = stats[name]
        nulls = total - s["non_null"]
        quants = s["quants"]
        out.append(ColumnProfile(
            dataset=table, profile="filtered" if where_sql else "full", row_filter=where_sql,
            row_count=total, column_name=name, data_type=dtype, null_count=nulls,
            null_pct=round(100.0 * nulls / total, 4) if total else None, distinct_count=s["distinct"],
            min=s["min"], max=s["max"], min_length=s["min_len"], max_length=s["max_len"],
            mean=s["mean"], stddev=s["std"],
            quantiles={f"p{round(q * 100)}": v for q, v in zip(QUANTILES, quants)} if quants else {},
            top_values=tops.get(name, []),
        ))
    return out


def profile_tables(con, tables, row_filter: Mapping[str, str] | None = None) -> list[ColumnProfile]:
    """Full profiles of ``tables``; plus, when ``row_filter`` is given, filtered profiles of the
    tables that have every filter column (the seed's filter fits customer_overview_dp only)."""
    out: list[ColumnProfile] = []
    filtered = False
    for table in tables:
        out += profile_table(con, table)
        if row_filter and set(row_filter) <= {c for c, _ in table_columns(con, table)}:
            out += profile_table(con, table, row_filter)
            filtered = True
    if row_filter and not filtered:
        raise ValueError(f"profile filter columns {', '.join(sorted(row_filter))} are not all in any of "
                         f"{', '.join(tables)}")
    return out


def to_json(profiles: list[ColumnProfile]) -> str:
    return json.dumps([p.as_dict() for p in profiles], default=str)
