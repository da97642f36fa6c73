"""The policy engine: every role x tagged column, several roles, unknown roles, and row masking."""
from __future__ import annotations

from datetime import date

import pytest

from include.governance.engine import decide, decide_column, mask_row
from include.governance.treatments import hash_value
from tests.governance.conftest import COLUMN_TAGS, CUSTOMERS, MASKED

RESTRICTED, DOB, READER = "roles:id:restricted-acess", "roles:id:dob-bucketing", "roles:id:pii-reader"
HASH, BUCKET, CLEAR, NULL = "hash(sha256)", "bucket_date(quarter)", "pass_through", "redact"

# user tags -> (treatment of every TW.mask column, treatment of cust_dob)
EXPECTED = {
    (RESTRICTED,): (HASH, NULL),      # its policy selects TW.mask only: the DOB falls to the default
    (DOB,): (HASH, BUCKET),           # its policy selects TW.dob only: names fall to the default
    (READER,): (CLEAR, CLEAR),
    (): (HASH, NULL),                 # no role: the defaults, never clear values
}


@pytest.mark.parametrize("column", [*MASKED, "cust_dob"])
@pytest.mark.parametrize("user_tags", list(EXPECTED), ids=lambda t: "+".join(t) or "no-role")
def test_every_role_gets_its_treatment_on_every_tagged_column(policy_set, user_tags, column):
    mask_treatment, dob_treatment = EXPECTED[user_tags]
    decision = decide_column(policy_set, user_tags, column, COLUMN_TAGS[column])
    assert decision.treatment.describe() == (dob_treatment if column == "cust_dob" else mask_treatment)


def test_a_user_holding_restricted_access_and_pii_reader_reads_clear_values_because_75_beats_80(policy_set):
    decisions = decide(policy_set, [RESTRICTED, READER], COLUMN_TAGS)
    assert {d.treatment.describe() for c, d in decisions.items() if COLUMN_TAGS[c]} == {CLEAR}
    assert decisions["email_addr"].reason == "customeroverviewrpiireaderpolicy (priority 75)"


def test_a_user_holding_restricted_access_and_dob_bucketing_gets_hashed_names_and_bucketed_dates(policy_set):
    decisions = decide(policy_set, [RESTRICTED, DOB], COLUMN_TAGS)
    assert decisions["cust_last_name"].treatment.describe() == HASH
    assert decisions["cust_dob"].treatment.describe() == BUCKET


def test_dob_bucketing_and_pii_reader_together_read_the_clear_date_of_birth(policy_set):
    assert decide_column(policy_set, [DOB, READER], "cust_dob", ["TW.dob"]).treatment.describe() == CLEAR


@pytest.mark.parametrize("user_tags", [["roles:id:auditor"], ["pii-reader"], ["roles:id:restricted-access"]],
                         ids=["unknown-role", "malformed-tag", "corrected-spelling"])
def test_an_unknown_role_gets_the_most_restrictive_defaults(policy_set, user_tags):
    decisions = decide(policy_set, user_tags, COLUMN_TAGS)
    assert {decisions[c].treatment.describe() for c in MASKED} == {HASH}
    assert decisions["cust_dob"].treatment.describe() == NULL
    assert decisions["cust_dob"].reason == "default"


def test_untagged_columns_pass_through_for_everyone(policy_set):
    for user_tags in EXPECTED:
        decision = decide_column(policy_set, user_tags, "cust_segment", [])
        assert (decision.treatment.describe(), decision.reason) == (CLEAR, "untagged")


def test_a_column_with_two_tags_gets_the_most_restrictive_of_its_per_tag_treatments(policy_set):
    # dob-bucketing grants a bucket for TW.dob, but TW.mask on the same column still hashes it
    assert decide_column(policy_set, [DOB], "x", ["TW.mask", "TW.dob"]).treatment.describe() == HASH
    assert decide_column(policy_set, [], "x", ["TW.mask", "TW.dob"]).treatment.describe() == NULL
    assert decide_column(policy_set, [READER], "x", ["TW.mask", "TW.dob"]).treatment.describe() == CLEAR


def test_mask_row_applies_the_decisions_to_a_python_row_and_withholds_undecided_columns(policy_set):
    decisions = decide(policy_set, [DOB], COLUMN_TAGS)
    row = {**CUSTOMERS[0], "not_in_manifest": "secret"}
    masked = mask_row(decisions, row)
    assert masked["cust_first_name"] == hash_value("Asha") and masked["cust_middle_name"] is None
    assert masked["cust_dob"] == date(1990, 4, 1) and masked["cust_segment"] == "Urban"
    assert "not_in_manifest" not in masked
