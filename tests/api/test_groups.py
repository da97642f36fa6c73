"""user_groups.yml: the document's groups, scopes and limits, and strict validation."""
from __future__ import annotations

import copy

import pytest
import yaml

from include.api import groups
from include.api.settings import PACKAGE_DIR

DOC = yaml.safe_load((PACKAGE_DIR / "user_groups.yml").read_text())


def test_the_shipped_file_has_the_documents_groups_scopes_and_limits():
    g = groups.load(PACKAGE_DIR / "user_groups.yml")
    assert list(g.groups) == ["admin", "analyst", "viewer"]
    expected = {"admin": (500, 30000, 50), "analyst": (200, 10000, 20), "viewer": (100, 5000, 10)}
    for name, (per_min, per_hour, conc) in expected.items():
        limits = g.groups[name].limits
        assert {(w.requests, w.seconds) for w in limits.windows} == {(per_min, 60), (per_hour, 3600)}
        assert limits.concurrent == conc
    # the document's scopes, plus `sql` (ours) for admin and analyst
    assert g.groups["admin"].scopes == {"data", "graphql", "meta", "sql"}
    assert g.groups["analyst"].scopes == {"data", "graphql", "sql"}
    assert g.groups["viewer"].scopes == {"data"}
    assert g.defaults.max_rows == 10000
    assert {(w.requests, w.seconds) for w in g.defaults.per_key.windows} == {(60, 60), (3000, 3600), (20, 10)}
    assert {k: w.requests for k, w in g.defaults.per_endpoint.items()} == {"load": 100, "sql": 50, "graphql": 100}
    assert {(w.requests, w.seconds) for w in g.defaults.per_address.windows} == {(200, 60), (10000, 3600)}


def test_the_analyst_segment_reads_the_zone_claim_and_the_viewer_sees_no_tagged_member():
    g = groups.load(PACKAGE_DIR / "user_groups.yml")
    (segment,) = g.groups["analyst"].segments
    assert segment.claims() == {"zone"}
    assert not g.groups["viewer"].may_use("customers.email_addr", ["TW.mask"])
    assert not g.groups["viewer"].may_use("customers.cust_dob", ["TW.dob"])
    assert g.groups["viewer"].may_use("customers.zone", [])
    assert g.groups["analyst"].may_use("customers.email_addr", ["TW.mask"])


def _broken(mutate) -> str:
    doc = copy.deepcopy(DOC)
    mutate(doc)
    with pytest.raises(groups.GroupsError) as exc:
        groups.parse(doc)
    return str(exc.value)


@pytest.mark.parametrize("mutate, message", [
    (lambda d: d["userGroups"][0]["api_scopes"].append("root"), "unknown api scope 'root'"),
    (lambda d: d["userGroups"][1].update(userTags=["roles:id:pii-reader", "roles:id:dob-bucketing"]),
     "one governance role"),
    (lambda d: d["userGroups"][2].pop("rateLimits"), "rateLimits is required"),
    (lambda d: d["userGroups"][2]["rateLimits"].update(requestsPerMinute=0), "requestsPerMinute must be"),
    (lambda d: d["userGroups"][2]["rateLimits"].update(requestsPerMinute="100"), "requestsPerMinute must be"),
    (lambda d: d["userGroups"].append(copy.deepcopy(d["userGroups"][0])), "defined twice"),
    (lambda d: d["userGroups"][1]["segments"][0]["filters"][0].update(operator="like"), "unknown operator"),
    (lambda d: d["userGroups"][1]["segments"][0]["filters"][0].update(values=[{"claims": "zone"}]), "{claim: NAME}"),
    (lambda d: d["userGroups"][0].update(scopes=["data"]), "unknown field scopes"),
    (lambda d: d.update(version="v2"), "version: v1"),
])
def test_a_mistake_is_one_error_naming_the_group_and_field(mutate, message):
    assert message in _broken(mutate)
