"""Superset roles and row-level security generated from the data API's user groups
(include/api/user_groups.yml, read with include.api.groups: one definition of who may see what).

    plan = access_plan(groups, datasets, claim_values={"zone": ["North", ...]}, tagged_columns=...)

Pure: no Superset import, so the rules are unit-tested in the pipeline venv; include.dashboards.bootstrap
applies the plan inside Superset. The rules (include/dashboards/README.md, Access):

- One role per group, ``group:<name>``. A group with no segment and no excluded member
  (admin) reads everything through Superset, SQL Lab included (Alpha + sql_lab): there is no row
  filter to bypass. Any other group gets Gamma (read dashboards, explore) plus access to each
  dataset of the dashboards-as-code tree that it may use, and no SQL Lab: SQL Lab reads tables
  directly, past row-level security and dataset column lists.
- A dataset is denied to a group when one of its columns is a member the group may not use
  (``members.exclude``, ``membersTagged.exclude``). A dataset column whose name is a governed
  (TW.*) column of the dbt project is refused outright: the tree may not serve PII to anyone.
- Segments become Superset RLS filters on every dataset that carries the segment's member (a
  column whose ``extra.fsdp_member`` names it). A dataset without it is denied to the group:
  nobody is served unfiltered. A literal value is one filter on the group's role. A value
  ``{claim: zone}`` (a token claim in the API) becomes one role per value, ``zone:<value>``,
  with its filter, plus a filter ``1 = 0`` on the group's role under the same group key:
  filters sharing a group key are OR-ed, so a user of the group sees the rows of the zone roles
  they hold, and nothing without one (the API refuses a caller without the claim).
  A zone role can be given to any user: a viewer holding ``zone:North`` sees only North.
- A dataset with ``extra.fsdp_groups`` (the governance dashboard's audit dataset: ``[admin]``)
  is given to the listed groups only, whatever else they may read. An unrestricted group left
  out of one keeps Alpha's abilities but not its ``all_datasource_access`` /
  ``all_database_access`` (``RoleSpec.all_data`` is False): it reads the datasets listed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Iterable

GROUP_ROLE = "group:{}"
CLAIM_ROLE = "{}:{}"
SUPPORTED = {"equals": "=", "notEquals": "<>", "in": "in", "notIn": "not in"}


class AccessError(ValueError):
    """The groups cannot be translated into Superset access safely."""


@dataclass(frozen=True)
class Dataset:
    name: str
    columns: tuple[str, ...]
    members: dict[str, str]            # column -> semantic member
    groups: tuple[str, ...] | None = None   # only these user groups (extra.fsdp_groups); None: every group

    def column_of(self, member: str) -> str | None:
        return next((c for c, m in self.members.items() if m == member), None)


@dataclass
class RoleSpec:
    name: str
    base: str | None                   # builtin role whose permissions it copies: Alpha, Gamma, None
    sql_lab: bool = False
    datasets: list[str] = field(default_factory=list)
    description: str = ""
    all_data: bool = False             # keeps the base role's all_datasource_access / all_database_access


@dataclass
class RlsSpec:
    name: str
    clause: str
    roles: list[str]
    datasets: list[str]
    group_key: str
    description: str


@dataclass
class AccessPlan:
    roles: list[RoleSpec]
    rls: list[RlsSpec]

    def role(self, name: str) -> RoleSpec:
        return next(r for r in self.roles if r.name == name)


def sql_literal(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _clause(column: str, operator: str, values: list) -> str:
    if operator not in SUPPORTED:
        raise AccessError(f"segment operator {operator!r} has no Superset row filter (supported: {', '.join(SUPPORTED)})")
    if not values:
        raise AccessError(f"segment filter on {column} has no values")
    col = quote_ident(column)
    if operator in ("equals", "in"):
        return f"{col} = {sql_literal(values[0])}" if len(values) == 1 else \
            f"{col} in ({', '.join(sql_literal(v) for v in values)})"
    # notEquals / notIn keep nulls, as the semantic layer does
    inner = f"{col} <> {sql_literal(values[0])}" if len(values) == 1 else \
        f"{col} not in ({', '.join(sql_literal(v) for v in values)})"
    return f"({inner} or {col} is null)"


def _check_no_pii(datasets: Iterable[Dataset], tagged_columns: set[str]) -> None:
    for ds in datasets:
        bad = sorted(c for c in ds.columns if c.lower() in tagged_columns)
        if bad:
            raise AccessError(f"dataset {ds.name} has governed (PII) column {bad[0]}: the dashboards serve no PII")


def access_plan(groups, datasets: list[Dataset], claim_values: dict[str, list] | None = None,
                tagged_columns: Iterable[str] = ()) -> AccessPlan:
    """The roles and RLS filters for ``groups`` (include.api.groups.UserGroups) over ``datasets``."""
    claim_values = {k: sorted({v for v in vs if v is not None}, key=str) for k, vs in (claim_values or {}).items()}
    _check_no_pii(datasets, {c.lower() for c in tagged_columns})
    for ds in datasets:
        unknown = sorted(set(ds.groups or ()) - set(groups.groups))
        if unknown:
            raise AccessError(f"dataset {ds.name}: extra.fsdp_groups names {unknown[0]}, not a group of user_groups.yml")
    roles: list[RoleSpec] = []
    rls: list[RlsSpec] = []
    claim_roles: dict[str, RoleSpec] = {}
    for group in groups.groups.values():
        role_name = GROUP_ROLE.format(group.name)
        unrestricted = not group.segments and not group.exclude_members and not group.exclude_tagged
        open_to_group = [d for d in datasets if d.groups is None or group.name in d.groups]
        if unrestricted:
            roles.append(RoleSpec(role_name, "Alpha", sql_lab=True, datasets=[d.name for d in open_to_group],
                                  description=group.description, all_data=len(open_to_group) == len(datasets)))
            continue
        allowed = []
        for ds in open_to_group:
            if any(not group.may_use(member, ()) for member in ds.members.values()):
                continue
            if any(ds.column_of(f.member) is None for s in group.segments for f in s.filters):
                continue   # cannot be filtered for this group: not served to it at all
            allowed.append(ds)
        roles.append(RoleSpec(role_name, "Gamma", datasets=[d.name for d in allowed], description=group.description))
        for segment in group.segments:
            for f in segment.filters:
                claims = [v["claim"] for v in f.values if isinstance(v, dict)]
                literals = [v for v in f.values if not isinstance(v, dict)]
                by_column: dict[str, list[str]] = {}
                for ds in allowed:
                    by_column.setdefault(ds.column_of(f.member), []).append(ds.name)
                for column, names in sorted(by_column.items()):
                    if claims and literals:
                        raise AccessError(f"group {group.name} segment {segment.name}: mix of claims and literals")
                    if literals:
                        rls.append(RlsSpec(f"{group.name}:{segment.name}:{f.member}:{column}",
                                           _clause(column, f.operator, literals), [role_name], names,
                                           f"{group.name}:{segment.name}:{f.member}",
                                           f"user_groups.yml: group {group.name}, segment {segment.name}"))
                        continue
                    if len(claims) != 1 or f.operator not in ("equals", "in"):
                        raise AccessError(f"group {group.name} segment {segment.name}: a claim needs equals/in and one claim")
                    claim = claims[0]
                    key = f"claim:{claim}:{f.member}"
                    # the group's members see nothing unless they hold a role of this claim
                    rls.append(RlsSpec(f"{group.name}:{segment.name}:{f.member}:{column}:deny", "1 = 0", [role_name],
                                       names, key, f"user_groups.yml: group {group.name} needs a {claim} role "
                                       f"({CLAIM_ROLE.format(claim, '<value>')}) to see rows of {segment.name}"))
                    for value in claim_values.get(claim, []):
                        cr = CLAIM_ROLE.format(claim, value)
                        claim_roles.setdefault(cr, RoleSpec(cr, None, description=f"rows where {f.member} = {value}"))
                        rls.append(RlsSpec(f"{cr}:{f.member}:{column}", _clause(column, "equals", [value]), [cr],
                                           names, key, f"{f.member} = {value} (claim {claim})"))
    # a claim role restricts every dataset that carries the member, for whoever holds it
    merged: dict[str, RlsSpec] = {}
    for spec in rls:
        if spec.name in merged:
            merged[spec.name].datasets = sorted(set(merged[spec.name].datasets) | set(spec.datasets))
            merged[spec.name].roles = sorted(set(merged[spec.name].roles) | set(spec.roles))
        else:
            merged[spec.name] = spec
    claim_rls = _claim_filters_on_every_dataset(list(merged.values()), datasets)
    return AccessPlan(roles + sorted(claim_roles.values(), key=lambda r: r.name), claim_rls)


def _claim_filters_on_every_dataset(rls: list[RlsSpec], datasets: list[Dataset]) -> list[RlsSpec]:
    """A ``zone:North`` filter applies to each dataset carrying the member, not only to the datasets
    the group that introduced the claim may read: a viewer holding the role is restricted too."""
    out = []
    for spec in rls:
        if spec.group_key.startswith("claim:") and not spec.name.endswith(":deny"):
            member = spec.group_key.split(":", 2)[2]
            column = spec.name.rsplit(":", 1)[1]
            spec.datasets = sorted({d.name for d in datasets if d.column_of(member) == column} | set(spec.datasets))
        out.append(spec)
    return out


def datasets_from_assets(assets) -> list[Dataset]:
    """Dataset specs from the dashboards-as-code tree (include.dashboards.assets.Assets)."""
    out = []
    for body in assets.datasets.values():
        cols = tuple(c["column_name"] for c in body.get("columns") or [])
        members = {c["column_name"]: (c.get("extra") or {}).get("fsdp_member") for c in body.get("columns") or []}
        only = (body.get("extra") or {}).get("fsdp_groups")
        if only is not None and (not isinstance(only, list) or not all(isinstance(g, str) for g in only)):
            raise AccessError(f"dataset {body['table_name']}: extra.fsdp_groups must be a list of user group names")
        out.append(Dataset(body["table_name"], cols, {c: m for c, m in members.items() if m},
                           tuple(only) if only is not None else None))
    return out
