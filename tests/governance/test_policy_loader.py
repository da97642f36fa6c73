"""Loading the policy YAML: the seed's three policies load, and every mistake is one clear error."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from include.governance.errors import GovernanceError
from include.governance.manifest import all_column_tags
from include.governance.policy import POLICIES_DIR, load_policy_set
from tests.governance.conftest import manifest_dict

KNOWN_TAGS = set(all_column_tags(manifest_dict()))


@pytest.fixture
def policies(tmp_path) -> Path:
    """A writable copy of the project's policy folder."""
    return Path(shutil.copytree(POLICIES_DIR, tmp_path / "policies"))


def edit(folder: Path, file: str, change) -> None:
    doc = yaml.safe_load((folder / file).read_text())
    change(doc)
    (folder / file).write_text(yaml.safe_dump(doc))


def mask_of(doc: dict) -> dict:
    return doc["policy"]["data"]["mask"]


def test_the_seed_policies_load_with_their_priorities_lowest_number_first(policy_set):
    assert [(p.name, p.priority, p.treatment.describe()) for p in policy_set.policies] == [
        ("customeroverviewrpiireaderpolicy", 75, "pass_through"),
        ("customeroverviewrawpiipolicy", 80, "hash(sha256)"),
        ("customerbucketdob", 85, "bucket_date(quarter)"),
    ]
    # Regression: the seed spells the tag "restricted-acess"; correcting it would orphan every holder
    assert policy_set.policies[1].user_tags == {"roles:id:restricted-acess"}
    assert policy_set.role("roles:id:restricted-acess").schema == "role_restricted_access"


def test_an_unknown_mask_operator_is_an_error(policies):
    edit(policies, "customeroverviewrawpiipolicy.yaml", lambda d: mask_of(d).update(operator="scramble"))
    with pytest.raises(GovernanceError, match=r"customeroverviewrawpiipolicy.yaml: unknown mask operator 'scramble'"):
        load_policy_set(KNOWN_TAGS, policies)


def test_an_unknown_hash_algorithm_is_an_error(policies):
    edit(policies, "customeroverviewrawpiipolicy.yaml", lambda d: mask_of(d)["hash"].update(algo="md5"))
    with pytest.raises(GovernanceError, match="unknown hash algo 'md5'"):
        load_policy_set(KNOWN_TAGS, policies)


def test_a_bad_bucket_precision_is_an_error(policies):
    edit(policies, "customerbucketdob.yaml", lambda d: mask_of(d)["bucket_date"].update(precision="decade"))
    with pytest.raises(GovernanceError, match="customerbucketdob.yaml: unknown bucket_date precision 'decade'"):
        load_policy_set(KNOWN_TAGS, policies)


def test_a_column_tag_no_dbt_column_carries_is_an_error(policies):
    edit(policies, "customerbucketdob.yaml", lambda d: d["policy"]["data"]["selector"]["column"].update(tags=["TW.dateofbirth"]))
    with pytest.raises(GovernanceError, match="unknown column tag 'TW.dateofbirth' \\(no dbt column carries it\\)"):
        load_policy_set(KNOWN_TAGS, policies)


def test_a_policy_tag_missing_from_the_manifest_is_an_error_even_when_the_yaml_is_unchanged(policies):
    # Regression: renaming a tag in the dbt YAML must not silently leave the policy protecting nothing
    with pytest.raises(GovernanceError, match="unknown column tag 'TW.dob'"):
        load_policy_set(KNOWN_TAGS - {"TW.dob"}, policies)


def test_a_user_tag_not_of_the_form_roles_id_name_is_an_error(policies):
    edit(policies, "customerbucketdob.yaml", lambda d: d["policy"]["data"]["selector"]["user"].update(tags=["dob-bucketing"]))
    with pytest.raises(GovernanceError, match="user tag 'dob-bucketing' is not of the form roles:id:<name>"):
        load_policy_set(KNOWN_TAGS, policies)


def test_a_user_tag_missing_from_the_role_catalog_is_an_error(policies):
    # e.g. someone "fixes" the seed's spelling in the policy only
    edit(policies, "customeroverviewrawpiipolicy.yaml",
         lambda d: d["policy"]["data"]["selector"]["user"].update(tags=["roles:id:restricted-access"]))
    with pytest.raises(GovernanceError, match="unknown user tag 'roles:id:restricted-access' \\(not in the role catalog roles.yaml\\)"):
        load_policy_set(KNOWN_TAGS, policies)


def test_duplicate_policy_names_are_an_error(policies):
    shutil.copy(policies / "customerbucketdob.yaml", policies / "customerbucketdob-copy.yaml")
    with pytest.raises(GovernanceError, match="duplicate policy name 'customerbucketdob'"):
        load_policy_set(KNOWN_TAGS, policies)


def test_two_policies_with_the_same_priority_on_a_shared_tag_are_an_error(policies):
    edit(policies, "customeroverviewrawpiipolicy.yaml", lambda d: d["policy"]["data"].update(priority=75))
    with pytest.raises(GovernanceError, match="share priority 75 on column tag 'TW.mask'"):
        load_policy_set(KNOWN_TAGS, policies)


def test_a_classification_tag_without_a_default_is_an_error(policies):
    with pytest.raises(GovernanceError, match="column tag 'TW.salary' has no default treatment"):
        load_policy_set(KNOWN_TAGS | {"TW.salary"}, policies)


def test_a_tag_outside_the_classification_namespace_is_ignored(policies):
    assert load_policy_set(KNOWN_TAGS | {"docs:finance"}, policies).defaults.keys() == {"TW.mask", "TW.dob"}


@pytest.mark.parametrize("change, message", [
    (lambda d: d["policy"]["data"].pop("priority"), "policy.data.priority is required"),
    (lambda d: d["policy"]["data"].update(priority="high"), "priority must be a non-negative integer"),
    (lambda d: d["policy"]["data"].update(type="filter"), "policy.data.type must be 'mask'"),
    (lambda d: d.update(version="v2"), "version must be v1"),
    (lambda d: d["policy"]["data"]["selector"]["column"].update(tags=[]), "selector.column.tags must be a non-empty list"),
])
def test_malformed_policies_name_the_file_and_the_field(policies, change, message):
    edit(policies, "customerbucketdob.yaml", change)
    with pytest.raises(GovernanceError, match=f"^customerbucketdob.yaml: .*{message}"):
        load_policy_set(KNOWN_TAGS, policies)


def test_invalid_yaml_is_an_error_with_its_line(policies):
    (policies / "broken.yaml").write_text("version: v1\nname: [unclosed\n")
    with pytest.raises(GovernanceError, match="broken.yaml: not valid YAML at line"):
        load_policy_set(KNOWN_TAGS, policies)
