"""The serving copy (include/serving): atomic, read-only, after a passing quality gate only; no
clear TW.mask / TW.dob value in the file readers open; clear values only for the policy that
allows them; old copies pruned; a reader keeps reading a copy pruned under it."""
from __future__ import annotations

import json
import os
import stat

import duckdb
import pytest

from include import serving
from tests.api import fixtures
from tests.api.conftest import QUALITY_OK, clear_sql

pytestmark = [pytest.mark.azurite, pytest.mark.integration]
MASKED = ["cust_first_name", "cust_middle_name", "cust_last_name", "email_addr", "mobile_number1",
          "customer_addressline1", "customer_addressline2", "customer_addressline3"]


def publish(built, target, run_id="r", **kw):
    return serving.publish(built.duckdb_path, run_id, fixtures.DAY, QUALITY_OK,
                           manifest_path=built.target_path / "manifest.json", target_dir=target, **kw)


def every_text_value(path) -> set[str]:
    """Every value of every column of every table in a DuckDB file, as text."""
    values = set()
    with duckdb.connect(str(path), read_only=True) as con:
        tables = con.execute("select table_schema, table_name from information_schema.tables "
                             "where table_type = 'BASE TABLE'").fetchall()
        for schema, name in tables:
            cols = [c for (c,) in con.execute("select column_name from information_schema.columns "
                                              "where table_schema = ? and table_name = ?", [schema, name]).fetchall()]
            for row in con.execute(f'select * from "{schema}"."{name}"').fetchall():
                values.update(str(v) for v in row if v is not None)
            assert cols
    return values


def test_the_readers_file_holds_no_clear_pii_value_anywhere(built, serving_dir):
    copy = serving.current(serving_dir)
    clear = set()
    for table in ("fs_accelerator.customer_overview_dp", "marketplace.customers"):
        cols = [c for c in MASKED + ["cust_dob"]
                if clear_sql(built, "select count(*) from information_schema.columns where table_schema = ? "
                                    "and table_name = ? and column_name = ?", [*table.split("."), c])[0][0]]
        for row in clear_sql(built, f"select {', '.join(cols)} from {table}"):
            clear.update(str(v) for v in row if v is not None)
    assert clear
    assert not (every_text_value(copy.path) & clear)
    # the clear values are in the pii file, for the pii-reader role only
    assert every_text_value(copy.pii_path) & clear
    with duckdb.connect(str(copy.pii_path), read_only=True) as con:
        schemas = {s for (s,) in con.execute("select distinct table_schema from information_schema.tables").fetchall()}
    assert schemas == {"role_pii_reader"}


def test_files_are_read_only_and_the_pii_file_owner_only(serving_dir):
    copy = serving.current(serving_dir)
    assert stat.S_IMODE(os.stat(copy.path).st_mode) == 0o444
    assert stat.S_IMODE(os.stat(copy.pii_path).st_mode) == 0o400
    with pytest.raises(duckdb.Error):
        with duckdb.connect(str(copy.path), read_only=True) as con:
            con.execute("create table x (i int)")


def test_the_clear_role_resolves_only_with_the_pii_file_attached(serving_dir, tmp_path):
    copy = serving.current(serving_dir)
    # a fresh process: DuckDB shares one database instance per file within a process
    import subprocess
    import sys

    code = (f"import duckdb; con = duckdb.connect({str(copy.path)!r}, read_only=True)\n"
            "try:\n    con.execute('select * from role_pii_reader.customer_overview_dp').fetchall(); print('READ')\n"
            "except duckdb.Error as e:\n    print('REFUSED', type(e).__name__)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60).stdout
    assert out.startswith("REFUSED")
    with copy.connect(clear_pii=True) as con:
        assert con.execute("select count(cust_first_name) from role_pii_reader.customer_overview_dp").fetchone()[0] > 0


def test_every_role_schema_is_views_over_the_engines_decisions(built, serving_dir):
    copy = serving.current(serving_dir)
    with copy.connect(clear_pii=True) as con:
        views = set(con.execute("select schema_name, view_name from duckdb_views() where not internal").fetchall())
        for role in ("role_public", "role_restricted_access", "role_dob_bucketing", "role_pii_reader"):
            for rel in copy.relations:
                assert (role, rel.split(".")[1]) in views
        public = con.execute("select cust_id, email_addr, cust_dob from role_public.customer_overview_dp "
                             "order by cust_id").fetchall()
        bucket = con.execute("select cust_id, cust_dob from role_dob_bucketing.customer_overview_dp "
                             "order by cust_id").fetchall()
    truth = dict(clear_sql(built, "select cust_id, cust_dob from fs_accelerator.customer_overview_dp"))
    from include.governance.treatments import bucket_date, hash_value

    emails = dict(clear_sql(built, "select cust_id, email_addr from fs_accelerator.customer_overview_dp"))
    assert all(e == hash_value(emails[c]) and d is None for c, e, d in public)
    assert all(d == bucket_date(truth[c], "quarter") for c, d in bucket)


def test_a_failed_quality_gate_publishes_nothing(built, tmp_path):
    with pytest.raises(serving.ServingError, match="quality gate did not pass"):
        serving.publish(built.duckdb_path, "bad", fixtures.DAY, {"ok": False, "failed": ["customer_overview_dp.x"]},
                        manifest_path=built.target_path / "manifest.json", target_dir=tmp_path)
    assert serving.current(tmp_path) is None and list(tmp_path.iterdir()) == []


def test_a_crash_before_the_switch_leaves_the_previous_copy_current(built, tmp_path, monkeypatch):
    first = publish(built, tmp_path, "first")

    def boom(*a, **k):
        raise RuntimeError("disk full")

    monkeypatch.setattr(serving, "_switch_pointer", boom)
    with pytest.raises(RuntimeError):
        publish(built, tmp_path, "second")
    monkeypatch.undo()
    assert serving.current(tmp_path).run_id == "first"
    assert [d.name for d in tmp_path.iterdir() if d.is_dir()] == [first.copy_id]


def test_old_copies_are_pruned_and_a_reader_keeps_reading_a_pruned_copy(built, tmp_path):
    first = publish(built, tmp_path, "r1")
    con = first.connect()
    for i in range(2, 6):
        publish(built, tmp_path, f"r{i}", keep=2)
    names = sorted(d.name for d in tmp_path.iterdir() if d.is_dir())
    assert len(names) == 2 and serving.current(tmp_path).run_id == "r5"
    assert not first.path.exists()
    assert con.execute("select count(*) from fs_accelerator.customer_overview_dp").fetchone()[0] > 0
    con.close()
    pointer = json.loads((tmp_path / "current.json").read_text())
    assert pointer["run_id"] == "r5" and pointer["quality"]["status"] == "passed"
