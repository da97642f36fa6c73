"""The policy engine: for a user's tags, the treatment of every column. Role views and the data
API both call :func:`decide`, so SQL consumers and API consumers see the same thing.

The rule, per governed column tag (a tag some policy or default speaks about, or a
classification tag such as ``TW.*``):

1. Among the policies that apply to the user and select the tag, the **lowest priority number
   wins** (DataOS semantics: a lower number is a higher precedence). With the seed's numbers the
   PII grant (pii-reader, 75) beats the hash (restricted-acess, 80) and the bucketing
   (dob-bucketing, 85): a user granted clear PII keeps it whatever mask roles they also hold.
   Read the other way (highest number wins), the grant could never override a mask it was
   written for, and bucketing would beat the grant of clear dates of birth.
2. If no policy applies, the tag's default from the role catalog (fail closed: hash for
   ``TW.mask``, redact for ``TW.dob``; ``redact`` for a governed tag without one).

A column with several governed tags gets the most restrictive of its per-tag treatments, so a
grant on one tag never unmasks what another tag protects. Untagged columns pass through.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from include.governance.policy import PolicySet
from include.governance.treatments import Treatment, most_restrictive

PASS = Treatment("pass_through")


@dataclass(frozen=True)
class Decision:
    """A column's treatment for one user, and why (the deciding policy, ``default``, or ``untagged``)."""

    column: str
    treatment: Treatment
    reason: str


def _tag_decision(policy_set: PolicySet, user_tags: frozenset[str], tag: str) -> tuple[Treatment, str]:
    for policy in policy_set.policies:  # ordered by priority, lowest number first
        if tag in policy.column_tags and policy.applies_to_user(user_tags):
            return policy.treatment, f"{policy.name} (priority {policy.priority})"
    return policy_set.defaults.get(tag, Treatment("redact")), "default"


def decide_column(policy_set: PolicySet, user_tags: Iterable[str], column: str,
                  column_tags: Iterable[str]) -> Decision:
    """How a user holding ``user_tags`` reads ``column`` (tagged ``column_tags``)."""
    held = frozenset(user_tags)
    governed = sorted(frozenset(column_tags) & policy_set.governed_tags)
    if not governed:
        return Decision(column, PASS, "untagged")
    per_tag = [_tag_decision(policy_set, held, tag) for tag in governed]
    treatment = most_restrictive([t for t, _ in per_tag])
    reasons = sorted({why for t, why in per_tag if t == treatment})
    return Decision(column, treatment, ", ".join(reasons))


def decide(policy_set: PolicySet, user_tags: Iterable[str],
           columns: Mapping[str, Iterable[str]]) -> dict[str, Decision]:
    """Every column's decision for a user, in the order of ``columns`` (name -> column tags)."""
    held = frozenset(user_tags)
    return {name: decide_column(policy_set, held, name, tags) for name, tags in columns.items()}


def mask_row(decisions: Mapping[str, Decision], row: Mapping[str, Any]) -> dict[str, Any]:
    """A row as the user may read it; a column without a decision is withheld (never leaked)."""
    return {col: decisions[col].treatment.apply(value) for col, value in row.items() if col in decisions}
