"""The command line: summaries, exit codes, one-line errors (never a traceback), Azurite end to end."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from include.mockgen.cli import main
from include.mockgen.landing import Lander, open_store

ROOT = Path(__file__).resolve().parents[2]


def run(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "include.mockgen", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def in_process(capsys, *args: str) -> subprocess.CompletedProcess:
    """``main`` called directly: an uncaught exception fails the test just as a traceback would."""
    capsys.readouterr()
    code = main(list(args))
    out = capsys.readouterr()
    return subprocess.CompletedProcess(list(args), code, out.out, out.err)


def assert_one_line_error(proc: subprocess.CompletedProcess, text: str, code: int = 2) -> None:
    assert proc.returncode == code, proc.stderr
    assert "Traceback" not in proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and text in lines[0], proc.stderr


@pytest.fixture(scope="module")
def target(tmp_path_factory) -> str:
    root = tmp_path_factory.mktemp("cli")
    assert main(["daily", "--date", "2026-11-20", "--customers", "300", "--target", str(root), "--quiet"]) == 0
    return str(root)


def test_generate_prints_a_summary_and_processes_with_different_hash_seeds_land_the_same_bytes(tmp_path):
    # Regression guard: nothing may depend on Python's per-process str hashing (set order, hash())
    digests = []
    for hash_seed, folder in (("1", "a"), ("2", "b")):
        proc = run("generate", "--date", "2026-11-20", "--customers", "200", "--bad-rows", "6",
                   "--target", str(tmp_path / folder), env={"PYTHONHASHSEED": hash_seed})
        assert proc.returncode == 0, proc.stderr
        digests.append({p.relative_to(tmp_path / folder): hashlib.sha256(p.read_bytes()).digest()
                        for p in sorted((tmp_path / folder / "landing").rglob("*.csv"))})
    assert digests[0] and digests[0] == digests[1]
    lines = {line.split()[0]: line.split() for line in proc.stdout.splitlines() if line.strip()}
    assert lines["customers"][1] == "206" and lines["transactions"][1] == "2,006"
    assert "bytes in" in proc.stdout and " s (" in proc.stdout
    assert "bad customers: bad_email 1" in proc.stdout


@pytest.mark.parametrize("args, text", [
    (["generate", "--date", "2026-02-30"], "invalid date"),
    (["generate", "--date", "2026-11-20", "--customers", "many"], "invalid count"),
    (["generate", "--date", "2026-11-20", "--customers", "-5"], "must not be negative"),
    (["generate", "--date", "2026-11-20", "--entities", "customers,loans"], "unknown entity 'loans'"),
    (["daily", "--date", "2026-11-20", "--update-fraction", "2"], "between 0 and 1"),
    (["generate"], "required"),
    (["explode"], "invalid choice"),
    ([], "required"),
    (["update", "--date", "2026-11-20", "--cust-id", "1000000001", "--set", "novalue"], "expected column=value"),
])
def test_bad_arguments_get_one_line_and_exit_code_2(args, text, capsys):
    assert_one_line_error(in_process(capsys, *args), text)


def test_generate_with_zero_customers_is_refused(tmp_path, capsys):
    assert_one_line_error(in_process(capsys, "generate", "--date", "2026-11-20", "--customers", "0",
                                     "--target", str(tmp_path)), "at least 1")


def test_update_of_an_unknown_customer_is_refused(target):
    proc = run("update", "--date", "2026-11-21", "--cust-id", "1999999999", "--set", "cust_segment=Urban",
               "--target", target)
    assert_one_line_error(proc, "customer 1999999999 does not exist")


def test_update_with_an_invalid_value_is_refused(target, capsys):
    assert_one_line_error(in_process(capsys, "update", "--date", "2026-11-21", "--cust-id", "1000000001",
                                     "--set", "cibil_score=1200", "--target", target), "cibil_score")


def test_update_lands_a_new_version(target, capsys):
    landed = Lander(open_store(target)).read("customers").to_pylist()
    row = next(r for r in landed if r["cust_id"] == "1000000002")
    segment = "Urban" if row["cust_segment"] != "Urban" else "Rural"
    assert main(["update", "--date", "2026-11-21", "--cust-id", "1000000002", "--set", f"cust_segment={segment}",
                 "--target", target, "--quiet"]) == 0
    assert "customer 1000000002: new version at 2026-11-21" in capsys.readouterr().out
    updates = Lander(open_store(target)).read("customer_updates").to_pylist()
    assert [u["cust_segment"] for u in updates if u["cust_id"] == "1000000002"] == [segment]


def test_a_storage_failure_is_one_line_not_a_traceback(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    code = main(["generate", "--date", "2026-11-20", "--customers", "10", "--target", str(blocker / "sub")])
    err = capsys.readouterr().err
    assert code == 1 and err.startswith("error: storage") and len(err.strip().splitlines()) == 1


@pytest.mark.azurite
def test_daily_and_update_land_in_azurite_end_to_end(azurite_env, capsys):
    assert main(["daily", "--date", "2026-11-20", "--customers", "200", "--quiet"]) == 0
    proc = run("daily", "--date", "2026-11-21", "--quiet", "--update-fraction", "0.05")
    assert proc.returncode == 0, proc.stderr
    assert "customer_updates" in proc.stdout and "10 customer updates" in proc.stdout
    lander = Lander(open_store(None))
    assert lander.read("customers").num_rows == 200
    assert lander.read("customer_updates").num_rows == 10
    accounts = {a for a in lander.read("accounts")["account_id"].to_pylist()}
    assert set(lander.read("transactions")["account_id"].to_pylist()) <= accounts
    assert_one_line_error(in_process(capsys, "update", "--date", "2026-11-21", "--cust-id", "1000000200",
                                     "--set", "cust_segment=Urban"), "does not exist")

