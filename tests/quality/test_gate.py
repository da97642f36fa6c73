"""The quality gate on the fixture warehouse: clean data passes every check, each planted fault
fails exactly the check named for it, warnings do not stop the run, results are kept per run."""
from __future__ import annotations

import json
from datetime import date, timedelta

import duckdb
import pytest

from include.quality import QualityGateFailed, run_quality
from tests.quality import warehouse

DAY = warehouse.DAY


def _run(db, tmp_path, run_id="test_run", day=DAY, **kwargs):
    return run_quality(db, run_id, day, tmp_path / "reports", **kwargs)


def test_clean_fixture_passes_every_check(clean_db, tmp_path):
    result = _run(clean_db, tmp_path)

    assert result.ok, result.summary()
    assert {c.outcome for c in result.checks} == {"pass"}
    # every product table is checked, with its own file's checks, and the landing ledger
    assert {c.dataset for c in result.checks} == {"customer_overview_dp", "product_dp", "account_dp", "transaction_dp",
                                                  "campaign_event_dp", "landing_ledger"}
    assert result.summary().startswith("quality gate PASSED for 2026-01-05")


# Regression: the four planted faults, each must be reported by the check's name.
PLANTED_FAULTS = {
    "duplicate id": (
        ["insert into customer_overview_dp select * from customer_overview_dp where cust_id = '1000000001'"],
        "customer_overview_dp.cust_id_unique"),
    "null id": (
        # a new customer without accounts, so no reference check is touched
        ["insert into customer_overview_dp select * replace (null as cust_id) from customer_overview_dp "
         "where cust_id = '1000000001'"],
        "customer_overview_dp.cust_id_not_null"),
    "invalid segment": (
        # the seed generator's spelling, which staging must have mapped to Semi-Urban
        ["update customer_overview_dp set cust_segment = 'Semi' where cust_id = '1000000002'"],
        "customer_overview_dp.cust_segment_allowed"),
    "campaign stage without the stage before it": (
        ["delete from campaign_event_dp where cust_id = '1000000003' and stage = 'Explored Product'"],
        "campaign_event_dp.stages_in_order"),
    "transaction with an unknown account": (
        ["insert into transaction_dp select * replace ('T202601059999999999' as txn_id, '999999999999' as account_id) "
         "from transaction_dp limit 1"],
        "transaction_dp.account_id_references_account_dp"),
}


@pytest.mark.parametrize("fault", list(PLANTED_FAULTS))
def test_planted_fault_fails_exactly_its_check(fault, clean_db, tmp_path):
    statements, expected = PLANTED_FAULTS[fault]
    warehouse.execute(clean_db, *statements)

    result = _run(clean_db, tmp_path)

    assert result.failed == [expected], result.summary()
    assert not result.ok
    assert expected in result.summary()


def test_all_planted_faults_are_named_in_one_summary_line(clean_db, tmp_path):
    warehouse.execute(clean_db, *[s for statements, _ in PLANTED_FAULTS.values() for s in statements])

    result = _run(clean_db, tmp_path)

    with pytest.raises(QualityGateFailed) as raised:
        result.raise_for_failures()
    message = str(raised.value)
    assert "\n" not in message
    assert message.startswith("quality gate FAILED for 2026-01-05")
    for _, expected in PLANTED_FAULTS.values():
        assert expected in message
    assert raised.value.result is result


# More faults, one per check family (formats, customer-type rules, references, ranges, allowed
# values), planted on different rows at once: each must fail its own check and nothing else.
MORE_FAULTS = {
    "customer_overview_dp.email_addr_format":
        "update customer_overview_dp set email_addr = 'Not An Email' where cust_id = '1000000003'",
    "customer_overview_dp.mobile_number1_format":
        "update customer_overview_dp set mobile_number1 = '12345' where cust_id = '1000000004'",
    "customer_overview_dp.pin_format":
        "update customer_overview_dp set pin = '40-0001!' where cust_id = '1000000006'",
    "customer_overview_dp.cibil_score_range":
        "update customer_overview_dp set cibil_score = 950 where cust_id = '1000000007'",
    "customer_overview_dp.personal_attributes_present":
        "update customer_overview_dp set gender = null where cust_id = '1000000001'",
    "customer_overview_dp.no_personal_attributes_for_non_personal":
        "update customer_overview_dp set gender = 'Male' where cust_id = '1000000010'",
    "account_dp.cust_id_references_customer_overview_dp":
        "update account_dp set cust_id = '1999999999' where account_id = '100000000000'",
    "transaction_dp.amount_positive":
        "update transaction_dp set amount = 0 where txn_id = 'T202601050000000001'",
    "product_dp.product_type_allowed":
        "update product_dp set product_type = 'Crypto Wallet' where product_id = 'PRD0001'",
}


def test_each_check_family_catches_its_fault_by_name(clean_db, tmp_path):
    warehouse.execute(clean_db, *MORE_FAULTS.values())

    result = _run(clean_db, tmp_path, profile=False, record=False)

    assert sorted(result.failed) == sorted(MORE_FAULTS)
    failing = {c.qualified_name: c.value for c in result.checks if c.outcome == "fail"}
    assert all(value == 1 for value in failing.values()), failing


def test_renamed_column_fails_the_schema_contract_and_names_the_difference(clean_db, tmp_path):
    # Regression: Soda abandoned the whole scan after one failed query (DuckDB's rollback outside a
    # transaction), hiding the schema check that says what changed.
    warehouse.execute(clean_db, "alter table customer_overview_dp rename column customer_privilege to customer_privelege")

    result = _run(clean_db, tmp_path, profile=False, record=False)

    schema = next(c for c in result.checks if c.qualified_name == "customer_overview_dp.schema_contract")
    assert schema.outcome == "fail"
    assert schema.diagnostics["missing_column_names"] == ["customer_privilege"]
    assert schema.diagnostics["present_column_names"] == ["customer_privelege"]
    assert not result.ok
    # the other tables are still judged on their own
    assert all(c.outcome == "pass" for c in result.checks if c.dataset == "transaction_dp")


def test_a_missing_table_fails_the_gate_with_its_checks_as_errors(clean_db, tmp_path):
    warehouse.execute(clean_db, "drop table transaction_dp")

    result = _run(clean_db, tmp_path, record=False)

    assert not result.ok
    txn = [c for c in result.checks if c.dataset == "transaction_dp"]
    assert txn and {c.outcome for c in txn} == {"error"}
    assert "transaction_dp.row_count_positive" in result.failed
    assert result.scan_errors


def test_rejected_share_above_threshold_warns_without_failing(tmp_path):
    db = warehouse.build(tmp_path / "fsdp.duckdb", rejected={"customer_overview": 10})  # 10 of 70 landed rows

    result = _run(db, tmp_path)

    assert result.ok, result.summary()
    assert result.warnings == ["customer_overview_dp.rejected_share"]
    share = next(c for c in result.checks if c.qualified_name == "customer_overview_dp.rejected_share")
    assert share.value == pytest.approx(10 / 70)
    assert "warnings: customer_overview_dp.rejected_share" in result.summary()
    # a higher threshold (FSDP_REJECTED_SHARE_WARN / rejected_share_warn) silences it
    assert _run(db, tmp_path, rejected_share_warn=0.5, profile=False, record=False).warnings == []


def test_refused_files_warn_by_default_and_fail_above_the_configured_limit(tmp_path, monkeypatch):
    # Regression: a refused landing file showed nowhere in the quality results.
    db = warehouse.build(tmp_path / "fsdp.duckdb", refused_files=2)

    result = _run(db, tmp_path, profile=False, record=False)
    assert result.ok, result.summary()
    assert result.warnings == ["landing_ledger.refused_files"]
    assert next(c for c in result.checks if c.qualified_name == "landing_ledger.refused_files").value == 2

    monkeypatch.setenv("FSDP_REFUSED_FILES_FAIL", "1")
    failed = _run(db, tmp_path, profile=False, record=False)
    assert failed.failed == ["landing_ledger.refused_files"]
    monkeypatch.setenv("FSDP_REFUSED_FILES_WARN", "5")
    monkeypatch.setenv("FSDP_REFUSED_FILES_FAIL", "5")
    assert _run(db, tmp_path, profile=False, record=False).warnings == []


def test_unaccounted_landing_rows_fail_the_gate(tmp_path):
    db = warehouse.build(tmp_path / "fsdp.duckdb")
    warehouse.execute(db, "update landing_ledger set unaccounted_rows = 3 where outcome = 'accepted'")

    assert "landing_ledger.unaccounted_rows" in _run(db, tmp_path, profile=False, record=False).failed


def test_rejected_share_counts_only_the_logical_dates_landing(tmp_path):
    db = warehouse.build(tmp_path / "fsdp.duckdb", rejected={"customer_overview": 10})

    # the next day landed nothing: no share to judge, no warning
    result = _run(db, tmp_path, day=DAY + timedelta(days=1), profile=False, record=False)

    assert "customer_overview_dp.rejected_share" not in result.warnings


def test_freshness_is_judged_against_the_logical_date_not_the_clock(clean_db, tmp_path):
    # the fixture's newest customer version is from DAY 18:00: fresh for DAY, stale a month later
    assert _run(clean_db, tmp_path, day=DAY, profile=False, record=False).ok
    # a backfill of an earlier date sees newer data, which is not stale
    assert _run(clean_db, tmp_path, day=DAY - timedelta(days=10), profile=False, record=False).ok

    later = _run(clean_db, tmp_path, day=DAY + timedelta(days=2), profile=False, record=False)
    assert "customer_overview_dp.modified_at_fresh" in later.warnings
    assert "transaction_dp.txn_ts_fresh" in later.warnings
    assert later.ok

    month_later = _run(clean_db, tmp_path, day=DAY + timedelta(days=31), profile=False, record=False)
    assert {"customer_overview_dp.modified_at_fresh", "transaction_dp.txn_ts_fresh"} <= set(month_later.failed)


def test_results_are_kept_per_run_as_json_and_history_rows(clean_db, tmp_path):
    warehouse.execute(clean_db, "update customer_overview_dp set cust_segment = 'Semi' where cust_id = '1000000002'")

    first = _run(clean_db, tmp_path, run_id="scheduled__2026-01-05T00:00:00+00:00")
    _run(clean_db, tmp_path, run_id="scheduled__2026-01-05T00:00:00+00:00")   # a retry of the same run
    _run(clean_db, tmp_path, run_id="manual__second", day=date(2026, 1, 6))

    assert first.json_path == tmp_path / "reports" / "2026-01-05" / "quality_scheduled__2026-01-05T00_00_00_00_00.json"
    payload = json.loads(first.json_path.read_text())
    assert payload["summary"]["failed"] == ["customer_overview_dp.cust_segment_allowed"]
    assert payload["summary"]["variables"]["NOW"] == "2026-01-06T00:00:00"
    assert len(payload["checks"]) == len(first.checks)
    assert payload["profiles"]

    con = duckdb.connect(str(clean_db), read_only=True)
    try:
        per_run = dict(con.execute("select run_id, count(*) from quality.check_results group by 1").fetchall())
        failed = con.execute("select logical_date, run_id from quality.check_results "
                             "where check_name = 'cust_segment_allowed' and outcome = 'fail' order by 1").fetchall()
        profiled = con.execute("select count(distinct run_id) from quality.column_profiles").fetchone()[0]
    finally:
        con.close()
    # the retry replaced its run's rows instead of appending a second copy
    assert per_run == {"scheduled__2026-01-05T00:00:00+00:00": len(first.checks), "manual__second": len(first.checks)}
    assert failed == [(date(2026, 1, 5), "scheduled__2026-01-05T00:00:00+00:00"), (date(2026, 1, 6), "manual__second")]
    assert profiled == 2


def test_the_gate_leaves_no_connection_open(clean_db, tmp_path):
    _run(clean_db, tmp_path)

    # DuckDB allows one writer per file: the next writer (dbt, the catalog push) must get it
    con = duckdb.connect(str(clean_db))
    con.close()


def test_a_missing_warehouse_file_is_one_clear_error(tmp_path):
    with pytest.raises(FileNotFoundError, match="has dbt run"):
        _run(tmp_path / "nope.duckdb", tmp_path)


def test_the_seeds_filtered_profile_is_stored_with_the_run(clean_db, tmp_path):
    from include.quality import SEED_PROFILE_FILTER

    result = _run(clean_db, tmp_path, profile_filter=SEED_PROFILE_FILTER)

    assert result.ok and result.profile_filter["cust_segment"] == "Semi-Urban"
    con = duckdb.connect(str(clean_db), read_only=True)
    try:
        rows = con.execute("select distinct dataset, row_filter, row_count from quality.column_profiles "
                           "where profile = 'filtered'").fetchall()
    finally:
        con.close()
    assert len(rows) == 1 and rows[0][0] == "customer_overview_dp" and "'Semi-Urban'" in rows[0][1]


def test_a_profile_filter_that_fits_no_table_fails_the_gate_clearly(clean_db, tmp_path):
    result = _run(clean_db, tmp_path, profile_filter={"segment": "Semi"}, record=False)

    assert not result.ok and result.failed == []
    assert "scan error: profile: profile filter columns segment" in result.summary()


def test_the_gate_never_replaces_the_process_environment_with_a_dotenv_file(clean_db, tmp_path, monkeypatch):
    # Regression: every Soda Scan ran load_dotenv(override=True), which found the checkout's .env
    # and replaced the storage endpoint the scripts had resolved: a run with its own Azurite then
    # published its output port into the one named in .env
    import dotenv.main
    from soda.common.env_helper import EnvHelper

    dotenv_file = tmp_path / ".env"
    dotenv_file.write_text("AZURE_STORAGE_CONNECTION_STRING=from-a-dotenv-file\nFSDP_CURATED_CONTAINER=theirs\n")
    monkeypatch.setattr(dotenv.main, "find_dotenv", lambda *a, **k: str(dotenv_file))
    monkeypatch.delenv("PYTHON_DOTENV_DISABLED", raising=False)
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", "the-one-the-scripts-resolved")
    monkeypatch.delenv("FSDP_CURATED_CONTAINER", raising=False)
    EnvHelper.reset()                 # a singleton: load .env on this scan, as on a process's first one
    _run(clean_db, tmp_path)
    import os

    assert os.environ["AZURE_STORAGE_CONNECTION_STRING"] == "the-one-the-scripts-resolved"
    assert "FSDP_CURATED_CONTAINER" not in os.environ
