"""End to end, the way a user runs it: a day whose landing holds good files, bad files and rows with
bad values together, run by scripts/run.sh (Airflow `dags test` of fsdp_daily) on a real Azurite.
The day's good data is built and served, every bad file is in the ledger, the summary and the run
report with its reason, the quality gate warns; with a fail threshold the run fails with one line
per failed task naming the reason, and data errors print no Python traceback."""
from __future__ import annotations

import json
import shutil
import socket
import subprocess
from datetime import date
from pathlib import Path

import pytest

from tests.conftest import AzuriteProcess
from tests.e2e import harness
from tests.ledger import badfiles

pytestmark = [pytest.mark.azurite, pytest.mark.integration]

DAY = date(2026, 3, 9)
LATER = date(2026, 3, 10)
KINDS = {  # one file of each refusal class, plus files the ledger accepts although odd
    "missing_middle_column", "extra_column", "renamed_column", "latin1_encoded", "gzip_named_csv",
    "extra_field_in_a_row", "unterminated_quote", "manifest_rows_differ", "folder_not_a_date", "quote_in_name",
    "columns_reversed", "empty_file", "not_in_manifest",
}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _value_rows(rows: list[dict]) -> list[dict]:
    """Copies of landed transactions made bad (new txn_ids), and one conflicting re-send."""
    bad = []
    for i, (changes) in enumerate([{"amount": "10.1234567891"}, {"txn_ts": "2026-03-12 10:00:00"},
                                   {"merchant_name": "Big\x00Bazaar"}, {"amount": "7e2"}]):
        row = dict(rows[i], **changes)
        row["txn_id"] = f"T{DAY:%Y%m%d}99999999{i:02d}"
        bad.append(row)
    bad.append(dict(rows[10], amount="0.01"))   # a landed txn_id with another amount: conflicting_version
    bad.append(dict(rows[11]))                   # an exact copy
    return bad


@pytest.fixture(scope="module")
def landing_day(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("landing_e2e")
    (tmp / "azurite").mkdir()
    azurite = AzuriteProcess(tmp / "azurite", _free_port())
    azurite.start()
    env = harness.isolated_env(tmp, azurite.connection_string)
    env["AZURITE_BLOB_PORT"] = str(azurite.port)
    env["FSDP_BLOB_RETRIES"] = "1"
    env["FSDP_EXPORT_CURATED"] = "false"
    env["FSDP_CATALOG_OUT"] = str(tmp / "catalog" / "openmetadata-requests.json")
    # the source systems land the day (the generator), then misbehave
    harness.run([str(harness.PYTHON), "-m", "include.mockgen", "generate", "--date", DAY.isoformat(), "--customers",
                 "300", "--quiet"], env)
    harness.run([str(harness.PYTHON), "-m", "include.mockgen", "generate", "--date", LATER.isoformat(), "--customers",
                 "10", "--entities", "products", "--quiet"], env)
    from include.blob_storage import open_store
    from include.mockgen.landing import Lander

    store = open_store(azurite.connection_string)
    lander = Lander(store)
    landed = lander.read("transactions", on=DAY).to_pylist()
    good = [(p, store.get("landing", p), None) for p in lander.landed_paths("transactions", on=DAY)]
    good = [(p, data, data.count(b"\n") - 1) for p, data, _ in good]
    files = [f for f in badfiles.catalogue("transactions", DAY, landed[:5]) if f.kind in KINDS]
    names, values = badfiles.table_rows("transactions", _value_rows(landed))
    files.append(badfiles.BadFile("values", f"transactions/dt={DAY}/part-00099.csv", badfiles.csv_bytes(names, values),
                                  "accepted", rows=len(values)))
    badfiles.land(store, "landing", "transactions", DAY, files, good=good)
    # a folder whose manifest is not JSON: its part and the manifest itself are refused, and the
    # inventory of what the manifests say (landing_inventory) does not stop the day either
    customers = lander.read("customers", on=DAY).to_pylist()[:3]
    names, values = badfiles.table_rows("customer_updates", customers)
    part = badfiles.BadFile("broken_manifest_part", f"customer_updates/dt={DAY}/part-00000.csv",
                            badfiles.csv_bytes(names, values), "refused", "manifest_invalid", rows=3)
    manifest = badfiles.BadFile("broken_manifest", f"customer_updates/dt={DAY}/_manifest.json", b'{"parts": [',
                                "refused", "manifest_invalid", rows=None)
    for f in (part, manifest):
        store.put("landing", f.path, f.data)
    files += [part, manifest]

    proc = harness.run(["scripts/run.sh", "--date", DAY.isoformat(), "--skip-generation"], env, timeout=1500,
                       check=False)
    failing_env = dict(env, FSDP_REFUSED_FILES_FAIL="0")
    failing = harness.run(["scripts/run.sh", "--date", DAY.isoformat(), "--skip-generation"], failing_env,
                          timeout=1500, check=False)
    yield {"env": env, "proc": proc, "failing": failing, "files": files, "tmp": tmp}
    azurite.stop()
    shutil.rmtree(tmp / "azurite", ignore_errors=True)


def _query(env, sql):
    import duckdb

    with duckdb.connect(env["FSDP_DUCKDB_PATH"], read_only=True) as con:
        return con.execute(sql).fetchall()


def test_the_day_with_bad_files_succeeds_and_serves_the_good_rows(landing_day):
    proc = landing_day["proc"]
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    assert f"fsdp_daily {DAY}: SUCCESS" in proc.stdout
    served = _query(landing_day["env"], f"select count(*) from fs_accelerator.transaction_dp "
                                        f"where _landed_date = date '{DAY}'")[0][0]
    accepted = _query(landing_day["env"], f"select count(*) from main.int_transactions_validated "
                                          f"where is_valid and _landed_date = date '{DAY}'")[0][0]
    assert served == accepted > 2500


def test_every_refused_file_is_in_the_printed_run_report_with_its_reason(landing_day):
    out = landing_day["proc"].stdout
    refused = [f for f in landing_day["files"] if f.outcome == "refused"]
    assert "landing ledger: WARN" in out and f"refused files ({len(refused)}):" in out
    for f in refused:   # the landing section's table: path, reason, detail, rows
        line = next((x for x in out.splitlines() if x.strip().startswith(f.path + "  ")), None)
        assert line and f"  {f.reason}  " in line, (f.kind, out[-3000:])


def test_the_run_report_and_the_ledger_hold_every_file_and_row(landing_day):
    env = landing_day["env"]
    # each run keeps its own report (the fixture runs the day twice): the first, successful run's
    import re

    from include.pipeline.run_report import report_path

    run_id = re.search(rf"fsdp_daily {DAY}: SUCCESS\S*(?: WITH WARNINGS)?\s+\(run (\S+),", landing_day["proc"].stdout)
    assert run_id, landing_day["proc"].stdout[-2000:]
    assert len(list((Path(env["FSDP_REPORTS_DIR"]) / "runs" / DAY.isoformat()).glob("*.json"))) == 2
    path = report_path(DAY, run_id.group(1), Path(env["FSDP_REPORTS_DIR"]))
    sections = json.loads(path.read_text())["sections"]
    assert {f["path"]: f["reason"] for f in sections["landing"]["refused_files"]} == {
        f.path: f.reason for f in landing_day["files"] if f.outcome == "refused"}
    assert sections["landing"]["status"] == "warn"
    tx = sections["entities"]["entities"]["transactions"]
    assert tx["landed"] == tx["refused_rows"] + tx["exact_duplicates"] + tx["raw"]
    assert tx["raw"] == tx["accepted"] + tx["rejected"] and tx["unaccounted_rows"] == 0
    # a later date already landed is not built by this day's run
    assert _query(env, f"select count(*) from fs_accelerator.landing_ledger where landed_date > date '{DAY}'") == [(0,)]


def test_bad_values_are_quarantined_with_their_rules_and_the_conflict_names_its_file(landing_day):
    rules = dict(_query(landing_day["env"], "select txn_id, failed_rules from fs_accelerator.transaction_rejected "
                                            f"where _source_file like '%part-00099.csv'"))
    assert rules[f"T{DAY:%Y%m%d}9999999900"] == ["amount_max_2_decimals", "amount_positive"]
    assert rules[f"T{DAY:%Y%m%d}9999999901"] == ["txn_ts_within_logical_day"]
    assert rules[f"T{DAY:%Y%m%d}9999999902"] == ["merchant_name_no_control_characters"]
    assert rules[f"T{DAY:%Y%m%d}9999999903"] == ["amount_is_decimal", "amount_positive"]
    conflicts = [r for r in rules.values() if r == ["conflicting_version"]]
    assert len(conflicts) == 1


def test_refused_files_warn_in_the_quality_gate(landing_day):
    out = landing_day["proc"].stdout
    assert "landing_ledger.refused_files" in out.split("quality gate: WARN")[1].splitlines()[0]


def test_the_ledger_and_its_refused_files_check_reach_the_catalog(landing_day):
    # no OpenMetadata server here: the catalog step records every request it would send
    recorded = Path(landing_day["env"]["FSDP_CATALOG_OUT"]).read_text()
    assert "landing_ledger" in recorded and "refused_files" in recorded


def test_a_fail_threshold_fails_the_run_with_one_line_per_failed_task_and_no_traceback(landing_day):
    failing = landing_day["failing"]
    assert failing.returncode == 1
    lines = [x for x in failing.stderr.splitlines() if x.startswith("FSDP task FAILED:")]
    assert lines and all("reason=" in x for x in lines)
    assert any("task=quality_gate" in x and "landing_ledger.refused_files" in x for x in lines), failing.stderr
    assert len({x.split(" | ")[0] for x in lines}) == len(lines)      # one line per task
    assert "FSDP run FAILED" in failing.stderr
    for stream in (failing.stdout, failing.stderr, landing_day["proc"].stdout, landing_day["proc"].stderr):
        assert "Traceback (most recent call last)" not in stream


def test_the_lander_skips_what_the_ledger_refuses(landing_day):
    # Regression: Lander.landed_paths raised "month must be in 1..12" on a dt= folder that is not a date
    env = landing_day["env"]
    proc = subprocess.run([str(harness.PYTHON), "-c",
                           "from include.mockgen.landing import Lander, open_store; "
                           "l = Lander(open_store()); print(len(l.landed_paths('transactions')), "
                           "l.read('transactions').num_rows)"], env=env, cwd=harness.ROOT, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
