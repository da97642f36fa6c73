"""python -m include.quality: check (exit code = gate verdict), profile, history."""
from __future__ import annotations

from include.quality.cli import main
from tests.quality import warehouse


def test_check_exits_zero_on_a_clean_warehouse_and_one_on_a_fault(clean_db, tmp_path, capsys):
    args = ["check", "--db", str(clean_db), "--date", "2026-01-05", "--out", str(tmp_path), "--no-profile"]
    assert main(args) == 0
    assert "quality gate PASSED" in capsys.readouterr().out

    warehouse.execute(clean_db, "update customer_overview_dp set cust_segment = 'Semi' where cust_id = '1000000002'")
    assert main(args + ["--run-id", "second"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  customer_overview_dp.cust_segment_allowed (value 1)" in out
    assert "failed: customer_overview_dp.cust_segment_allowed" in out

    assert main(["history", "--db", str(clean_db), "--check", "cust_segment_allowed"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in lines] == ["fail", "pass"]


def test_profile_prints_the_seeds_filtered_profile(clean_db, capsys):
    assert main(["profile", "--db", str(clean_db), "--seed-filter"]) == 0

    out = capsys.readouterr().out
    assert out.startswith("customer_overview_dp: ")
    assert "\"cust_segment\" = 'Semi-Urban'" in out and "'Chicago'" in out


def test_history_before_any_run_says_so(clean_db, capsys):
    assert main(["history", "--db", str(clean_db)]) == 0
    assert "no quality history yet" in capsys.readouterr().out


def test_a_missing_warehouse_exits_two(tmp_path, capsys):
    assert main(["check", "--db", str(tmp_path / "none.duckdb"), "--date", "2026-01-05"]) == 2
    assert "has dbt run" in capsys.readouterr().err
