"""Load and validate the versioned policy YAML in ``policies/``: the seed's three DataOS-style
``type: policy`` manifests and one ``type: roles`` catalog (roles, view schemas, defaults).

Validation fails with one clear line naming the file: unknown operator, hash algorithm or
bucket precision; a column tag no dbt column carries; a user tag not of the form
``roles:id:<name>`` or not in the role catalog; duplicate policy names; two policies with the same
priority on a shared column tag (the priority rule could not decide between them); a
classification tag carried by a dbt column without a default treatment.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from include.governance.errors import GovernanceError
from include.governance.treatments import DATE_PRECISIONS, HASH_ALGOS, OPERATORS, Treatment

POLICIES_DIR = Path(__file__).resolve().parent / "policies"
USER_TAG = re.compile(r"^roles:id:[a-z0-9][a-z0-9_-]*$")
SCHEMA_NAME = re.compile(r"^[a-z_][a-z0-9_]*$")


@dataclass(frozen=True)
class Policy:
    """One data masking policy: who (user tags), what (column tags), how (treatment), and its priority."""

    name: str
    priority: int
    user_tags: frozenset[str]
    column_tags: frozenset[str]
    treatment: Treatment
    user_match: str = "any"  # any: the user holds one of user_tags; all: the user holds every one
    source: str = ""

    def applies_to_user(self, user_tags: frozenset[str]) -> bool:
        if self.user_match == "all":
            return self.user_tags <= user_tags
        return bool(self.user_tags & user_tags)


@dataclass(frozen=True)
class Role:
    tag: str
    schema: str
    description: str = ""


@dataclass(frozen=True)
class PolicySet:
    """Everything the engine needs: policies (lowest priority number first), roles and defaults."""

    policies: tuple[Policy, ...]
    roles: tuple[Role, ...]
    public_schema: str
    defaults: Mapping[str, Treatment]  # column tag -> treatment when no policy matches the user
    classification_prefix: str = "TW."
    governed_tags: frozenset[str] = field(default=frozenset())

    def role(self, tag: str) -> Role:
        return next(r for r in self.roles if r.tag == tag)


def _get(doc: Any, dotted: str, source: str, *, at: str = "", required: bool = True) -> Any:
    """``doc[a][b]...`` for ``dotted`` = "a.b..."; ``at`` is where ``doc`` sits, for the message."""
    node = doc
    for key in dotted.split("."):
        node = node.get(key) if isinstance(node, dict) else None
    if required and node is None:
        raise GovernanceError(f"{source}: {at + '.' if at else ''}{dotted} is required")
    return node


def _tags(doc: Any, dotted: str, source: str, *, at: str = "") -> frozenset[str]:
    tags = _get(doc, dotted, source, at=at)
    if not isinstance(tags, list) or not tags or not all(isinstance(t, str) and t for t in tags):
        raise GovernanceError(f"{source}: {at + '.' if at else ''}{dotted} must be a non-empty list of tags")
    return frozenset(tags)


def parse_mask(mask: Any, source: str, where: str) -> Treatment:
    """The treatment a ``mask:`` block declares, with its operator's parameter checked."""
    operator = _get(mask, "operator", source, at=where)
    if operator not in OPERATORS:
        raise GovernanceError(f"{source}: unknown mask operator '{operator}' (known: {', '.join(OPERATORS)})")
    if operator == "hash":
        algo = _get(mask, "hash.algo", source, at=where)
        if algo not in HASH_ALGOS:
            raise GovernanceError(f"{source}: unknown hash algo '{algo}' (known: {', '.join(HASH_ALGOS)})")
        return Treatment("hash", algo=algo)
    if operator == "bucket_date":
        precision = _get(mask, "bucket_date.precision", source, at=where)
        if precision not in DATE_PRECISIONS:
            raise GovernanceError(
                f"{source}: unknown bucket_date precision '{precision}' (known: {', '.join(DATE_PRECISIONS)})")
        return Treatment("bucket_date", precision=precision)
    return Treatment(operator)


def parse_policy(doc: dict, source: str) -> Policy:
    """One ``type: policy`` manifest (the seed's shape) as a :class:`Policy`."""
    name = _get(doc, "name", source)
    data = _get(doc, "policy.data", source)
    if not isinstance(data, dict):
        raise GovernanceError(f"{source}: policy.data must be a mapping")
    if data.get("type") != "mask":
        raise GovernanceError(f"{source}: policy.data.type must be 'mask' (got {data.get('type')!r})")
    priority = _get(data, "priority", source, at="policy.data")
    if not isinstance(priority, int) or isinstance(priority, bool) or priority < 0:
        raise GovernanceError(f"{source}: policy.data.priority must be a non-negative integer (got {priority!r})")
    match = _get(data, "selector.user.match", source, required=False) or "any"
    if match not in ("any", "all"):
        raise GovernanceError(f"{source}: policy.data.selector.user.match must be 'any' or 'all' (got {match!r})")
    user_tags = _tags(data, "selector.user.tags", source, at="policy.data")
    for tag in sorted(user_tags):
        if not USER_TAG.match(tag):
            raise GovernanceError(f"{source}: user tag '{tag}' is not of the form roles:id:<name>")
    return Policy(name=str(name), priority=priority, user_tags=user_tags, user_match=match,
                  column_tags=_tags(data, "selector.column.tags", source, at="policy.data"),
                  treatment=parse_mask(_get(data, "mask", source, at="policy.data"), source, "policy.data.mask"),
                  source=source)


def parse_roles(doc: dict, source: str) -> tuple[tuple[Role, ...], str, dict[str, Treatment], str]:
    """The ``type: roles`` catalog: roles, the public schema, defaults per tag, classification prefix."""
    roles = []
    for i, entry in enumerate(_get(doc, "roles", source)):
        tag, schema = _get(entry, "tag", source, at=f"roles[{i}]"), _get(entry, "schema", source, at=f"roles[{i}]")
        if not USER_TAG.match(str(tag)):
            raise GovernanceError(f"{source}: user tag '{tag}' is not of the form roles:id:<name>")
        roles.append(Role(tag=tag, schema=schema, description=entry.get("description", "")))
    public = _get(doc, "public.schema", source)
    schemas = [r.schema for r in roles] + [public]
    for schema in schemas:
        if not SCHEMA_NAME.match(str(schema)):
            raise GovernanceError(f"{source}: schema '{schema}' must be lower-case letters, digits and _")
    for what, values in (("role tag", [r.tag for r in roles]), ("schema", schemas)):
        dupes = sorted({v for v in values if values.count(v) > 1})
        if dupes:
            raise GovernanceError(f"{source}: duplicate {what} '{dupes[0]}'")
    defaults: dict[str, Treatment] = {}
    for i, entry in enumerate(_get(doc, "defaults", source)):
        treatment = parse_mask(_get(entry, "mask", source, at=f"defaults[{i}]"), source, f"defaults[{i}].mask")
        for tag in sorted(_tags(entry, "column.tags", source, at=f"defaults[{i}]")):
            if tag in defaults:
                raise GovernanceError(f"{source}: two defaults for column tag '{tag}'")
            defaults[tag] = treatment
    return tuple(roles), public, defaults, str(doc.get("classification_tag_prefix") or "")


def load_policy_set(column_tags: Iterable[str], policies_dir: str | Path = POLICIES_DIR) -> PolicySet:
    """Load and validate every ``*.yaml`` in ``policies_dir`` against the column tags dbt declares.

    ``column_tags`` is the set of tags carried by dbt columns (``manifest.all_column_tags``): a
    policy or default selecting any other tag is an error, because it would protect nothing.
    """
    known = frozenset(column_tags)
    folder = Path(policies_dir)
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    if not files:
        raise GovernanceError(f"no policy files (*.yaml) in {folder}")
    policies: dict[str, Policy] = {}
    catalog = None
    for path in files:
        source = path.name
        try:
            doc = yaml.safe_load(path.read_text())
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            at = f" at line {mark.line + 1}" if mark else ""
            raise GovernanceError(f"{source}: not valid YAML{at}") from None
        if not isinstance(doc, dict):
            raise GovernanceError(f"{source}: expected a YAML mapping")
        if doc.get("version") != "v1":
            raise GovernanceError(f"{source}: version must be v1 (got {doc.get('version')!r})")
        if doc.get("type") == "policy":
            policy = parse_policy(doc, source)
            if policy.name in policies:
                raise GovernanceError(
                    f"{source}: duplicate policy name '{policy.name}' (also in {policies[policy.name].source})")
            policies[policy.name] = policy
        elif doc.get("type") == "roles":
            if catalog:
                raise GovernanceError(f"{source}: a second role catalog (type: roles); keep one")
            catalog = (source, *parse_roles(doc, source))
        else:
            raise GovernanceError(f"{source}: type must be 'policy' or 'roles' (got {doc.get('type')!r})")
    if catalog is None:
        raise GovernanceError(f"no role catalog (type: roles) in {folder}")
    catalog_source, roles, public, defaults, prefix = catalog
    ordered = tuple(sorted(policies.values(), key=lambda p: (p.priority, p.name)))
    _check_tags(ordered, roles, defaults, prefix, known, catalog_source)
    classified = {t for t in known if prefix and t.startswith(prefix)}
    governed = frozenset().union(*(p.column_tags for p in ordered), defaults, classified)
    return PolicySet(policies=ordered, roles=roles, public_schema=public, defaults=defaults,
                     classification_prefix=prefix, governed_tags=governed)


def _check_tags(policies: tuple[Policy, ...], roles: tuple[Role, ...], defaults: Mapping[str, Treatment],
                prefix: str, known: frozenset[str], catalog_source: str) -> None:
    role_tags = {r.tag for r in roles}
    for p in policies:
        if unknown_users := sorted(p.user_tags - role_tags):
            raise GovernanceError(
                f"{p.source}: unknown user tag '{unknown_users[0]}' (not in the role catalog {catalog_source})")
        if unknown_columns := sorted(p.column_tags - known):
            raise GovernanceError(f"{p.source}: unknown column tag '{unknown_columns[0]}' (no dbt column carries it)")
    if unknown_defaults := sorted(set(defaults) - known):
        raise GovernanceError(
            f"{catalog_source}: unknown column tag '{unknown_defaults[0]}' in defaults (no dbt column carries it)")
    selected = frozenset().union(*(p.column_tags for p in policies))
    if undefaulted := sorted(t for t in known - set(defaults) if (prefix and t.startswith(prefix)) or t in selected):
        raise GovernanceError(
            f"{catalog_source}: column tag '{undefaulted[0]}' has no default treatment; add one so users "
            "without a matching policy never read it in clear")
    for i, a in enumerate(policies):
        for b in policies[i + 1:]:
            if a.priority == b.priority and a.column_tags & b.column_tags:
                raise GovernanceError(
                    f"{b.source}: policies '{a.name}' and '{b.name}' share priority {a.priority} on column tag "
                    f"'{sorted(a.column_tags & b.column_tags)[0]}'; the priority rule cannot choose between them")
