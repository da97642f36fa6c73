"""The command line: the happy paths, and errors as one line with a non-zero exit (no traceback)."""
from __future__ import annotations

import json
import subprocess
import sys

from include.governance.__main__ import main
from tests.governance.conftest import manifest_dict

ROOT_CMD = [sys.executable, "-m", "include.governance"]


def test_apply_views_from_the_command_line_prints_a_summary(warehouse, manifest_path, tmp_path):
    done = subprocess.run([*ROOT_CMD, "apply-views", "--db", str(warehouse), "--manifest", str(manifest_path)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    summary = json.loads(done.stdout)
    assert summary["views"]["role_public.customer_overview_dp"]["cust_dob"] == "redact"


def test_a_cli_error_is_one_line_on_stderr_with_exit_1_and_no_traceback(manifest_path, tmp_path):
    done = subprocess.run([*ROOT_CMD, "apply-views", "--db", str(tmp_path / "missing.duckdb"),
                           "--manifest", str(manifest_path)], capture_output=True, text=True)
    assert done.returncode == 1
    assert done.stderr.startswith("error: DuckDB file not found") and len(done.stderr.splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_validate_lists_the_policies(manifest_path, capsys):
    assert main(["validate", "--manifest", str(manifest_path)]) == 0
    out = capsys.readouterr().out
    assert "customeroverviewrpiireaderpolicy: priority 75" in out and out.rstrip().endswith("ok: 3 policies, 3 roles")


def test_validate_fails_on_a_manifest_without_the_policy_tags(tmp_path, capsys):
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps(manifest_dict({"cust_id": [], "cust_first_name": ["TW.mask"]})))
    assert main(["validate", "--manifest", str(manifest)]) == 1
    assert capsys.readouterr().err == (
        "error: customeroverviewrpiireaderpolicy.yaml: unknown column tag 'TW.dob' (no dbt column carries it)\n")


def test_decide_prints_each_tagged_column_for_a_user_holding_two_roles(manifest_path, capsys):
    assert main(["decide", "--manifest", str(manifest_path),
                 "--role", "roles:id:restricted-acess", "--role", "roles:id:dob-bucketing"]) == 0
    lines = dict(line.split("\t", 1) for line in capsys.readouterr().out.splitlines())
    assert lines["email_addr"].startswith("hash(sha256)\tcustomeroverviewrawpiipolicy")
    assert lines["cust_dob"].startswith("bucket_date(quarter)\tcustomerbucketdob")
    assert "cust_segment" not in lines


def test_a_manifest_path_that_does_not_exist_is_an_error_not_a_dbt_run(tmp_path, capsys):
    assert main(["validate", "--manifest", str(tmp_path / "nope.json")]) == 1
    assert "dbt manifest not found" in capsys.readouterr().err
