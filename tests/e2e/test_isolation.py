"""Two checkouts on one machine, and two runs in one checkout, all started at the same moment.

Each checkout is a copy of this repository's files (what git tracks, plus new files not ignored)
with the virtualenvs and node_modules linked from this checkout (installing them again would add
minutes and test nothing about isolation; a linked venv gets no project .pth, scripts/lib.sh).
The environment carries no storage endpoint, port, path or temp dir: each checkout must find its
own (scripts/lib.sh: .local/ports.env, its own Azurite, Airflow home, Cosmos cache, DuckDB file).

Checkout A starts two dates at once, checkout B one of the same dates, all at the same moment.
A's two runs ask for A's warehouse with ``--wait 0``: exactly one runs and the other is refused at
once with a line naming the run that holds it (exit 75; waiting instead of refusing is the
default, tested with real processes in tests/pipeline/test_runlock.py, and would only make this
test a run longer). B must never see A's storage; every run that ran must succeed and land and
count its own rows, and each output port must equal its own warehouse.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from tests.e2e import harness

pytestmark = [pytest.mark.azurite, pytest.mark.integration, harness.long_scenario("two checkouts and two runs at once")]

ROOT = harness.ROOT
D1, D2 = "2026-05-04", "2026-05-05"
ROWS = 80
SHARED = (".venv", ".venv-catalog", "node_modules")


def make_checkout(dest: Path) -> Path:
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"], cwd=ROOT,
                            check=True, capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    for name in SHARED:
        (dest / name).symlink_to(ROOT / name)
    return dest


def clean_env() -> dict:
    drop = ("AZURE", "AZURITE", "FSDP_", "AIRFLOW", "OPENMETADATA", "TMPDIR", "PYTHONPATH")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)}


def ports_of(checkout: Path) -> dict:
    return dict(line.split("=", 1) for line in (checkout / ".local" / "ports.env").read_text().splitlines()
                if line and not line.startswith("#"))


def checkout_env(checkout: Path) -> dict:
    """What the checkout's scripts export, for looking at its state afterwards."""
    out = subprocess.run(["bash", "-c", 'source scripts/lib.sh && ensure_storage_env && airflow_env >/dev/null && env -0'],
                         cwd=checkout, env=clean_env(), check=True, capture_output=True).stdout.decode()
    return dict(item.split("=", 1) for item in out.split("\0") if "=" in item)


def py(checkout: Path, code: str) -> str:
    env = checkout_env(checkout)
    return subprocess.run([str(harness.PYTHON), "-c", code], cwd=checkout, env=env, check=True,
                          capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def two_checkouts(tmp_path_factory):
    base = tmp_path_factory.mktemp("checkouts")
    a, b = make_checkout(base / "a"), make_checkout(base / "b")
    env = clean_env()
    runs = {}
    try:
        for name, checkout, day, extra in (("a1", a, D1, ["--wait", "0"]), ("a2", a, D2, ["--wait", "0"]),
                                           ("b1", b, D1, [])):
            runs[name] = subprocess.Popen(["scripts/run.sh", "--date", day, "--rows", str(ROWS), "--bad-rows", "3",
                                           *extra],
                                          cwd=checkout, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                          text=True, start_new_session=True)
        results = {name: (*proc.communicate(timeout=2400), proc.returncode) for name, proc in runs.items()}
        yield {"a": a, "b": b, "runs": results}
    finally:
        for proc in runs.values():
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)
        for checkout in (a, b):    # the Azurite each checkout's run.sh started
            for pid_file in (checkout / ".local" / "azurite").glob("*.pid"):
                try:
                    os.kill(int(pid_file.read_text().strip()), signal.SIGTERM)
                except (ValueError, ProcessLookupError):
                    pass


def _ran(runs: dict) -> dict:
    """The runs that got their warehouse (the refused one of checkout A left out)."""
    return {n: r for n, r in runs.items() if r[2] != 75}


def test_every_run_that_got_its_warehouse_succeeds(two_checkouts):
    ran = _ran(two_checkouts["runs"])
    assert set(ran) in ({"a1", "b1"}, {"a2", "b1"})
    for name, (out, err, code) in ran.items():
        assert code == 0, f"{name} exited {code}:\n{out[-3000:]}\n{err[-3000:]}"
        assert f"fsdp_daily {D1 if name != 'a2' else D2}: SUCCESS" in out


def test_the_second_run_of_one_checkout_is_refused_naming_the_first(two_checkouts):
    runs = two_checkouts["runs"]
    refused = [n for n in ("a1", "a2") if runs[n][2] == 75]
    assert len(refused) == 1, {n: (runs[n][2], runs[n][1][-1500:]) for n in ("a1", "a2")}
    other_day = D2 if refused[0] == "a1" else D1
    err = runs[refused[0]][1]
    assert f"refused: warehouse {two_checkouts['a']}/.local/warehouse/fsdp.duckdb is in use by" in err
    assert f"scripts/run.sh --date {other_day}" in err and "Run again when it has finished." in err


def test_each_checkout_has_its_own_ports_and_storage(two_checkouts):
    a, b = two_checkouts["a"], two_checkouts["b"]
    pa, pb = ports_of(a), ports_of(b)
    assert set(pa) == set(pb) == {"AZURITE_BLOB_PORT", "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT",
                                  "AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT", "FSDP_AIRFLOW_PORT",
                                  "FSDP_API_PORT", "FSDP_SUPERSET_PORT"}
    assert not set(pa.values()) & set(pb.values())
    ea, eb = checkout_env(a), checkout_env(b)
    assert f":{pa['AZURITE_BLOB_PORT']}/" in ea["AZURE_STORAGE_CONNECTION_STRING"]
    assert f":{pb['AZURITE_BLOB_PORT']}/" in eb["AZURE_STORAGE_CONNECTION_STRING"]
    assert ea["AIRFLOW__COSMOS__CACHE_DIR"].startswith(str(a)) and eb["AIRFLOW__COSMOS__CACHE_DIR"].startswith(str(b))
    assert ea["TMPDIR"].startswith(str(a)) and eb["TMPDIR"].startswith(str(b))
    # each storage holds exactly its own checkout's landings: B never wrote to (or read) A's
    code = ("from include.blob_storage import open_store; import json; "
            "print(json.dumps(sorted({p.split('/')[1] for p in open_store().list('landing')})))")
    ran_a = [n for n in _ran(two_checkouts["runs"]) if n.startswith("a")][0]
    assert json.loads(py(a, code)) == [f"dt={D1 if ran_a == 'a1' else D2}"]
    assert json.loads(py(b, code)) == [f"dt={D1}"]


def test_each_warehouse_records_only_its_own_runs(two_checkouts):
    code = ("import duckdb, json; from include.pipeline import settings; "
            "con = duckdb.connect(str(settings.duckdb_path()), read_only=True); print(json.dumps(con.execute("
            "\"select cast(logical_date as varchar), status from ops.pipeline_runs\").fetchall()))")
    ran_a = [n for n in _ran(two_checkouts["runs"]) if n.startswith("a")][0]
    assert json.loads(py(two_checkouts["a"], code)) == [[D1 if ran_a == "a1" else D2, "complete"]]
    assert json.loads(py(two_checkouts["b"], code)) == [[D1, "complete"]]


def _landed(out: str) -> dict[str, int]:
    """entity -> rows landed, from the run report's "rows per entity and stage" table (its columns
    found by the header, which names them)."""
    rows, column = {}, None
    for line in out.splitlines():
        parts = line.split()
        if parts[:2] == ["entity", "landed"]:
            column = parts.index("landed")
            continue
        if column is None:
            continue
        if not parts or not parts[column].replace(",", "").isdigit():
            if rows:
                break
            continue
        rows[parts[0]] = int(parts[column].replace(",", ""))
    return rows


def test_every_run_counted_the_rows_it_landed(two_checkouts):
    # Regression: a second checkout read the first one's storage ("customers landed 0" on a first run)
    for name, (out, _, _) in _ran(two_checkouts["runs"]).items():
        landed = _landed(out)
        assert landed["customers"] == ROWS + 3 and landed["transactions"] > 0, f"{name}: {out[-2000:]}"


def test_each_output_port_equals_its_own_warehouse(two_checkouts):
    code = ("import json; from include.output_port import status; "
            "print(json.dumps({t: s['problems'] for t, s in status(content=True)['curated'].items()}))")
    for checkout in (two_checkouts["a"], two_checkouts["b"]):
        problems = json.loads(py(checkout, code).strip().splitlines()[-1])
        assert problems and all(p == [] for p in problems.values()), problems
