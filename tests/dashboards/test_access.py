"""Superset roles and row-level security generated from user_groups.yml (include.dashboards.access)."""
from __future__ import annotations

import pytest
import yaml

from include.api.groups import parse
from include.dashboards.access import AccessError, Dataset, access_plan, datasets_from_assets
from include.dashboards.assets import load_assets
from include.dashboards.bootstrap import GROUPS_FILE

CUSTOMERS = Dataset("customers", ("cust_id", "zone", "city"), {"zone": "customers.zone", "city": "customers.city"})
TXNS = Dataset("transactions", ("txn_id", "zone", "channel"), {"zone": "customers.zone", "channel": "transactions.channel"})
PRODUCTS = Dataset("products", ("product_name",), {"product_name": "products.product_name"})


def groups(*extra: dict):
    base = {**yaml.safe_load(GROUPS_FILE.read_text()),   # the project's defaults, these groups
            "userGroups": [
                {"name": "admin", "api_scopes": ["data"], "userTags": ["roles:id:pii-reader"],
                 "rateLimits": {"requestsPerMinute": 5, "requestsPerHour": 50, "concurrentRequests": 1}},
                {"name": "analyst", "api_scopes": ["data"], "userTags": ["roles:id:dob-bucketing"],
                 "segments": [{"name": "own_zone", "filters": [
                     {"member": "customers.zone", "operator": "equals", "values": [{"claim": "zone"}]}]}],
                 "rateLimits": {"requestsPerMinute": 5, "requestsPerHour": 50, "concurrentRequests": 1}},
                {"name": "viewer", "api_scopes": ["data"], "userTags": [], "membersTagged": {"exclude": ["TW.mask"]},
                 "rateLimits": {"requestsPerMinute": 5, "requestsPerHour": 50, "concurrentRequests": 1}},
                *extra]}
    return parse(base)


def test_unrestricted_group_gets_sql_lab_and_every_dataset_restricted_ones_do_not():
    plan = access_plan(groups(), [CUSTOMERS, TXNS, PRODUCTS], {"zone": ["North", "South"]})
    admin, analyst, viewer = (plan.role(f"group:{g}") for g in ("admin", "analyst", "viewer"))
    assert (admin.base, admin.sql_lab) == ("Alpha", True)
    assert (analyst.base, analyst.sql_lab) == ("Gamma", False)
    assert (viewer.base, viewer.sql_lab) == ("Gamma", False)
    assert viewer.datasets == ["customers", "transactions", "products"]


def test_a_dataset_without_the_segment_member_is_not_served_to_the_segmented_group():
    # Regression: an analyst must never read rows that their zone filter cannot restrict
    plan = access_plan(groups(), [CUSTOMERS, TXNS, PRODUCTS], {"zone": ["North"]})
    assert plan.role("group:analyst").datasets == ["customers", "transactions"]


def test_claim_becomes_one_role_per_value_and_a_deny_filter_for_the_group_under_one_group_key():
    plan = access_plan(groups(), [CUSTOMERS, TXNS, PRODUCTS], {"zone": ["South", "North", None]})
    assert {r.name for r in plan.roles if r.base is None} == {"zone:North", "zone:South"}
    deny = [f for f in plan.rls if f.roles == ["group:analyst"]]
    assert len(deny) == 1 and deny[0].clause == "1 = 0"
    north = next(f for f in plan.rls if f.roles == ["zone:North"])
    assert north.clause == "\"zone\" = 'North'"
    assert north.group_key == deny[0].group_key          # OR-ed: the zone's rows, or nothing
    assert north.datasets == sorted(["customers", "transactions"])


def test_claim_values_are_quoted_so_a_value_cannot_change_the_filter():
    plan = access_plan(groups(), [CUSTOMERS], {"zone": ["O'Hare') or (1=1"]})
    clause = next(f.clause for f in plan.rls if f.roles == ["zone:O'Hare') or (1=1"])
    assert clause == "\"zone\" = 'O''Hare'') or (1=1'"


def test_literal_segment_and_excluded_members():
    extra = {"name": "south_only", "api_scopes": ["data"], "userTags": [],
             "members": {"exclude": ["transactions.*"]},
             "segments": [{"name": "south", "filters": [
                 {"member": "customers.zone", "operator": "in", "values": ["South", "East"]}]}],
             "rateLimits": {"requestsPerMinute": 5, "requestsPerHour": 50, "concurrentRequests": 1}}
    plan = access_plan(groups(extra), [CUSTOMERS, TXNS, PRODUCTS], {"zone": []})
    assert plan.role("group:south_only").datasets == ["customers"]
    rls = next(f for f in plan.rls if f.roles == ["group:south_only"])
    assert rls.clause == "\"zone\" in ('South', 'East')" and rls.datasets == ["customers"]


def test_unsupported_operator_is_an_error_not_an_unfiltered_group():
    extra = {"name": "odd", "api_scopes": ["data"], "userTags": [],
             "segments": [{"name": "s", "filters": [{"member": "customers.zone", "operator": "contains", "values": ["N"]}]}],
             "rateLimits": {"requestsPerMinute": 5, "requestsPerHour": 50, "concurrentRequests": 1}}
    with pytest.raises(AccessError, match="contains"):
        access_plan(groups(extra), [CUSTOMERS], {"zone": []})


def test_a_governed_column_in_a_dataset_is_refused():
    leaky = Dataset("leaky", ("cust_id", "email_addr"), {})
    with pytest.raises(AccessError, match="email_addr"):
        access_plan(groups(), [leaky], {}, tagged_columns={"email_addr"})


def test_the_project_tree_and_user_groups_give_every_group_its_dashboards():
    tree = load_assets()
    from include.api.groups import load

    plan = access_plan(load(GROUPS_FILE), datasets_from_assets(tree), {"zone": ["North"]})
    every = sorted(ds["table_name"] for ds in tree.datasets.values())
    served = sorted(set(every) - {"governance_api_calls"})
    assert sorted(plan.role("group:admin").datasets) == every and plan.role("group:admin").all_data
    for name in ("analyst", "viewer"):   # the governance dashboard's audit dataset is the admin group's only
        assert sorted(plan.role(f"group:{name}").datasets) == served, name
        assert not plan.role(f"group:{name}").all_data
    # every served dataset carries the zone, so the analyst's filter (and a zone role) restricts all of them
    north = [f for f in plan.rls if f.roles == ["zone:North"]]
    assert sorted(d for f in north for d in f.datasets) == served


AUDIT = Dataset("audit", ("caller", "status"), {}, ("admin",))


def test_a_dataset_for_listed_groups_only_is_kept_from_every_other_group_unrestricted_ones_included():
    ops = {"name": "ops", "api_scopes": ["data"], "userTags": [],
           "rateLimits": {"requestsPerMinute": 5, "requestsPerHour": 50, "concurrentRequests": 1}}
    plan = access_plan(groups(ops), [CUSTOMERS, PRODUCTS, AUDIT], {"zone": ["North"]})
    admin, ops_role = plan.role("group:admin"), plan.role("group:ops")
    assert admin.datasets == ["customers", "products", "audit"] and admin.all_data
    # ops is unrestricted too (Alpha, SQL Lab) but not listed: Alpha's all-data permissions are dropped
    assert (ops_role.base, ops_role.sql_lab, ops_role.all_data) == ("Alpha", True, False)
    assert ops_role.datasets == ["customers", "products"]
    assert plan.role("group:viewer").datasets == ["customers", "products"]
    assert plan.role("group:analyst").datasets == ["customers"]
    # a dataset without a zone is not row-filtered by a zone role: it is not given to those holding one
    assert all("audit" not in f.datasets for f in plan.rls)


def test_a_dataset_for_an_unknown_group_is_an_error_not_a_dataset_nobody_sees():
    with pytest.raises(AccessError, match="admins"):
        access_plan(groups(), [Dataset("audit", ("caller",), {}, ("admins",))], {})


def test_fsdp_groups_is_read_from_the_dataset_extra_and_must_be_a_list():
    tree = load_assets()
    specs = {d.name: d for d in datasets_from_assets(tree)}
    assert specs["governance_api_calls"].groups == ("admin",)
    assert specs["dashboard_customers"].groups is None
    broken = next(iter(tree.datasets.values()))
    broken["extra"] = {"fsdp_groups": "admin"}
    with pytest.raises(AccessError, match="must be a list"):
        datasets_from_assets(tree)
