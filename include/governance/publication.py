"""The no-clear-PII rule for everything that leaves the warehouse (the output port's files, the
serving copy readers open, any export).

**Rule.** Rows leave the warehouse only through :func:`published_select`: the SQL of one table
as the policy engine decides it for a declared *audience* (the user tags of the consumers the
copy is for; no tags = the public defaults). Two refusals make it fail closed:

* an audience whose decisions read any governed column (``TW.*``) in clear (``pass_through``) is
  refused unless the destination is declared clear (``Audience(..., clear=True)``), which only a
  separately configured destination may be (the output port's clear export, see
  include/output_port/README.md);
* a table the dbt manifest does not describe is refused: without its column tags nobody can say
  which of its columns are PII.

The decisions are the same ones the role views use (include/governance/engine.py), so a file in
the output port holds exactly what that audience reads in its role view.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from include.governance.engine import Decision, decide
from include.governance.errors import GovernanceError
from include.governance.manifest import all_column_tags, load_manifest, model_columns
from include.governance.policy import PolicySet, load_policy_set
from include.governance.treatments import quote


class ClearPIIRefused(GovernanceError):
    """A copy would carry a governed column in clear to a destination not declared clear."""


@dataclass(frozen=True)
class Audience:
    """Who a copy of the data is for: a name for messages, the user tags deciding its masking,
    and whether its destination was configured as a clear one."""

    name: str
    user_tags: frozenset[str] = frozenset()
    clear: bool = False

    @classmethod
    def of(cls, name: str, user_tags: Iterable[str] = (), clear: bool = False) -> "Audience":
        return cls(name, frozenset(t.strip() for t in user_tags if t and t.strip()), clear)


@dataclass(frozen=True)
class PublishedSelect:
    """One table as an audience may receive it."""

    schema: str
    table: str
    sql: str                                  # select <treated columns> from "schema"."table"
    columns: tuple[tuple[str, str], ...]      # (name, DuckDB type of the stored column), in table order
    decisions: dict[str, Decision]

    @property
    def relation(self) -> str:
        return f"{self.schema}.{self.table}"

    def treatments(self) -> dict[str, str]:
        """Governed columns and what the audience gets of them (e.g. ``{"email_addr": "hash(sha256)"}``)."""
        return {c: d.treatment.describe() for c, d in self.decisions.items() if d.reason != "untagged"}


def load_rules(manifest: dict | None = None, manifest_path=None) -> tuple[dict, PolicySet]:
    """The dbt manifest (column tags) and the policy set validated against it."""
    manifest = manifest if manifest is not None else load_manifest(manifest_path)
    return manifest, load_policy_set(all_column_tags(manifest))


def check_no_clear_pii(relation: str, decisions: dict[str, Decision], audience: Audience) -> None:
    """Raise :class:`ClearPIIRefused` when a governed column would pass in clear to a destination
    not declared clear."""
    clear = sorted(c for c, d in decisions.items() if d.reason != "untagged" and d.treatment.operator == "pass_through")
    if clear and not audience.clear:
        raise ClearPIIRefused(
            f"{relation}: audience '{audience.name}' (user tags {sorted(audience.user_tags) or 'none'}) would read "
            f"{', '.join(clear)} in clear; a destination that receives clear PII must be configured as one "
            f"(include/output_port/README.md, clear export)")


def published_select(con, schema: str, table: str, audience: Audience, *, manifest: dict | None = None,
                     policy_set: PolicySet | None = None, exclude: Iterable[str] = ()) -> PublishedSelect:
    """The select that gives ``audience`` its copy of ``schema.table`` (columns in table order,
    ``exclude`` left out), after checking the no-clear-PII rule."""
    if manifest is None or policy_set is None:
        manifest, policy_set = load_rules(manifest)
    try:
        source = model_columns(manifest, table)
    except GovernanceError as exc:
        raise GovernanceError(f"{schema}.{table} cannot be published: {exc} (its PII column tags are unknown)") from None
    rows = con.execute("select column_name, data_type from information_schema.columns "
                       "where table_schema = ? and table_name = ? order by ordinal_position", [schema, table]).fetchall()
    if not rows:
        raise GovernanceError(f"table {schema}.{table} not found in the warehouse")
    skip = {c.lower() for c in exclude}
    columns = tuple((n, t) for n, t in rows if n.lower() not in skip)
    present = {n.lower() for n, _ in rows}
    tagged_missing = sorted(c for c, tags in source.column_tags.items() if tags and c not in present)
    if tagged_missing:
        raise GovernanceError(f"{schema}.{table} has no column {tagged_missing[0]}, which the dbt manifest tags")
    decisions = decide(policy_set, audience.user_tags,
                       {n: source.column_tags.get(n.lower(), frozenset()) for n, _ in columns})
    check_no_clear_pii(f"{schema}.{table}", decisions, audience)
    types = dict(columns)
    exprs = []
    for col, decision in decisions.items():
        expr = decision.treatment.sql(col, types[col])
        exprs.append(expr if expr == quote(col) else f"{expr} as {quote(col)}")
    sql = "select " + ", ".join(exprs) + f" from {quote(schema)}.{quote(table)}"
    return PublishedSelect(schema=schema, table=table, sql=sql, columns=columns, decisions=decisions)
