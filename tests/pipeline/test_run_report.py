"""The run report: one record per run, built from sections, merged by several writers, rendered as
text for scripts/run.sh and as HTML for the Airflow UI page."""
from __future__ import annotations

import json
from datetime import date, datetime, timedelta, timezone
from types import SimpleNamespace

import duckdb
import pytest

from include.pipeline import report_pages, report_sections, run_report
from include.pipeline.freshness import parse_sources_json

DAY = date(2026, 3, 2)


@pytest.fixture
def reports(tmp_path, monkeypatch):
    monkeypatch.setenv("FSDP_REPORTS_DIR", str(tmp_path))
    return tmp_path


def _ctx(**kw):
    base = dict(dag_id="fsdp_daily", run_id="manual__1", logical_date=DAY, params={}, tasks={}, con=None)
    return run_report.RunContext(**{**base, **kw})


def test_two_runs_of_the_same_date_keep_a_report_each(reports):
    run_report.update(DAY, "manual__2026-03-02T10:00:00+00:00", fields={"dag_id": "fsdp_daily", "state": "failed",
                                                                     "started_at": "2026-03-02T10:00:00+00:00"})
    run_report.update(DAY, "manual__2026-03-02T11:00:00+00:00", fields={"dag_id": "fsdp_daily", "state": "success",
                                                                     "started_at": "2026-03-02T11:00:00+00:00"})
    heads = run_report.list_reports(reports, "fsdp_daily")
    assert [h["run_id"] for h in heads] == ["manual__2026-03-02T11:00:00+00:00", "manual__2026-03-02T10:00:00+00:00"]
    assert [h["verdict"] for h in heads] == ["success", "failed"]
    assert run_report.find("manual__2026-03-02T10:00:00+00:00", reports)["state"] == "failed"
    assert run_report.latest_for_date(DAY, "fsdp_daily", reports)["state"] == "success"


def test_writers_merge_their_parts_without_losing_each_others(reports):
    run_report.update(DAY, "r1", fields={"dag_id": "fsdp_daily", "state": "running"},
                      sections={"quality": {"status": "ok", "summary": "90 pass"}})
    run_report.update(DAY, "r1", sections={"product_health": {"status": "warn", "summary": "degraded", "verdict": "degraded"}})
    record = run_report.finish(DAY, "r1", "success", datetime(2026, 3, 3, 0, 5, tzinfo=timezone.utc),
                               datetime(2026, 3, 3, 0, 12, 30, tzinfo=timezone.utc))
    assert set(record["sections"]) == {"quality", "product_health"}
    assert record["duration_s"] == 450.0 and record["state"] == "success"
    assert record["verdict"] == "success_with_warnings"
    assert json.loads(run_report.report_path(DAY, "r1", reports).read_text()) == record


@pytest.mark.parametrize("state, sections, expected", [
    ("success", {}, "success"),
    ("success", {"quality": {"status": "warn"}}, "success_with_warnings"),
    ("failed", {"quality": {"status": "warn"}}, "failed"),
    ("success", {"tasks": {"status": "fail", "failed": ["dbt.x.run"]}}, "failed"),
    ("running", {}, "running"),
])
def test_the_verdict_is_the_worst_of_the_run_state_and_its_sections(state, sections, expected):
    assert run_report.verdict({"state": state, "sections": sections}) == expected


def test_a_section_that_breaks_is_recorded_with_its_error_and_the_others_still_build(monkeypatch):
    def boom(ctx):
        raise ValueError("no such table")
    monkeypatch.setitem(run_report.SECTIONS, "broken", run_report.Section("broken", "broken", boom,
                                                                          lambda d: run_report.View("")))
    sections = run_report.build_sections(_ctx(tasks={"land_mock_data": {"state": "success", "duration": 3.0}}))
    assert sections["broken"]["status"] == "fail" and "no such table" in sections["broken"]["summary"]
    assert sections["tasks"]["status"] == "ok"


def test_the_task_section_ignores_the_reporting_tasks_and_names_the_failed_ones():
    data = report_sections.build_tasks(_ctx(tasks={
        "land_mock_data": {"state": "success", "duration": 30.0}, "dbt.a.run": {"state": "failed", "duration": 2.0},
        "dbt.a.test": {"state": "upstream_failed"}, "quality_warnings": {"state": "failed"}}))
    assert data["failed"] == ["dbt.a.run"] and data["upstream_failed"] == ["dbt.a.test"]
    assert "quality_warnings" not in data["tasks"]
    view = report_sections.view_tasks(data)
    assert view.status == "fail" and view.tables[0].rows[0][:2] == ["dbt.a.run", "failed"]


def test_failed_rules_are_counted_per_entity_for_the_day_only():
    con = duckdb.connect()
    con.execute("create schema fs_accelerator")
    con.execute("""create table fs_accelerator.customer_overview_rejected as select * from (values
        ('customers', date '2026-03-02', ['email_addr_valid', 'cibil_score_valid']),
        ('customers', date '2026-03-02', ['email_addr_valid']),
        ('customer_updates', date '2026-03-02', ['pin_valid']),
        ('customers', date '2026-03-01', ['city_valid'])) t(_landing_entity, _landed_date, failed_rules)""")
    data = report_sections.build_failed_rules(_ctx(con=con))
    assert data["rules"]["customers"] == [["email_addr_valid", 2], ["cibil_score_valid", 1]]
    assert data["rules"]["customer_updates"] == [["pin_valid", 1]]
    assert "email_addr_valid (2 rows of customers)" in report_sections.view_failed_rules(data).summary


def _ledger(con, unaccounted: int = 0):
    con.execute("create schema if not exists fs_accelerator")
    con.execute(f"""create table fs_accelerator.landing_ledger as select * from (values
        ('transactions/dt=2026-03-02/part-00000.csv', 'transactions', date '2026-03-02', null, 'part', 'accepted',
         1000, null, null, 0, 5, 0, 995, {unaccounted}),
        ('transactions/dt=2026-03-02/x.csv', 'transactions', date '2026-03-02', null, 'part', 'refused', 10, 'not_utf8',
         'byte 0xE9 at offset 6 (line 2) is not valid UTF-8', 10, null, null, null, null),
        ('transactions/dt=2026-03-01/part-00000.csv', 'transactions', date '2026-03-01', null, 'part', 'refused', 3,
         'header_mismatch', 'missing columns: amount', 3, null, null, null, null),
        ('stray.csv', null, null, date '2026-03-02', 'other', 'refused', null, 'unexpected_path',
         'not under <entity>/dt=YYYY-MM-DD/', null, null, null, null, null))
        t(path, entity, landed_date, registered_for_date, kind, outcome, rows, refusal_reason, refusal_detail,
          refused_rows, exact_duplicates, conflicting_rows, new_rows, unaccounted_rows)""")


def test_the_landing_section_lists_every_refused_file_of_the_day_and_accounts_for_every_row():
    # Regression: refused files and the ledger's accounting must reach the run report
    con = duckdb.connect()
    _ledger(con)
    data = report_sections.build_landing(_ctx(con=con))
    assert [f["path"] for f in data["refused_files"]] == ["stray.csv", "transactions/dt=2026-03-02/x.csv"]
    counted = data["entities"]["transactions"]
    assert counted["landed"] == counted["refused_rows"] + counted["exact_duplicates"] + counted["new_rows"] == 1010
    view = report_sections.view_landing(data)
    assert view.status == "warn"
    assert view.summary.startswith("3 files registered, 2 refused (10 rows); 5 exact copies")
    text = run_report.format_text({"logical_date": DAY.isoformat(), "run_id": "r1", "state": "success",
                                   "sections": {"landing": {**data, "status": view.status, "summary": view.summary}}})
    assert "landing ledger: WARN 3 files registered" in text
    line = next(x for x in text.splitlines() if "x.csv" in x)
    assert "not_utf8" in line and "byte 0xE9 at offset 6 (line 2)" in line


def test_unaccounted_rows_fail_the_landing_section_and_no_ledger_means_no_section():
    con = duckdb.connect()
    assert report_sections.build_landing(_ctx(con=con)) is None
    _ledger(con, unaccounted=2)
    view = report_sections.view_landing(report_sections.build_landing(_ctx(con=con)))
    assert view.status == "fail" and "UNACCOUNTED: 2 landed rows" in view.summary


def test_quality_warnings_make_the_section_warn_and_name_the_checks():
    con = duckdb.connect()
    con.execute("create schema quality")
    con.execute("""create table quality.check_results as select * from (values
        ('r1', 'customer_overview_dp', 'rejected_share', 'warn', 0.12),
        ('r1', 'customer_overview_dp', 'cust_id_unique', 'pass', 0.0),
        ('r0', 'account_dp', 'x', 'fail', 1.0)) t(run_id, dataset, check_name, outcome, value)""")
    view = report_sections.view_quality(report_sections.build_quality(_ctx(con=con, run_id="r1")))
    assert view.status == "warn" and view.summary.startswith("1 warning (customer_overview_dp.rejected_share)")


def _sources_json(age_hours: dict[str, float | None]) -> dict:
    results = []
    for table, age in age_hours.items():
        stale = age is None or age > 24
        results.append({"unique_id": f"source.fsdp.landing.{table}",
                        "status": "error" if age is None or age > 72 else "warn" if stale else "pass",
                        "max_loaded_at": "0001-01-01T00:00:00+00:00" if age is None else "2026-03-02T01:00:00+00:00",
                        "max_loaded_at_time_ago_in_s": None if age is None else age * 3600,
                        "criteria": {"warn_after": {"count": 1, "period": "day"},
                                     "error_after": {"count": 3, "period": "day"}}})
    return {"metadata": {"generated_at": "2026-03-03T01:00:00Z"}, "results": results}


def test_freshness_marks_a_recent_run_and_only_informs_a_backfill(reports):
    parsed = parse_sources_json(_sources_json({"customers": 30.0, "customer_updates": None, "products": 2.0}),
                                expected=["source.fsdp.landing.customers", "source.fsdp.landing.customer_updates",
                                          "source.fsdp.landing.products", "source.fsdp.landing.transactions"])
    status = {s["table"]: s["status"] for s in parsed["sources"]}
    assert status == {"customers": "warn", "customer_updates": "never landed", "products": "pass",
                      "transactions": "runtime error"}
    recent = report_sections.view_freshness({**parsed, "ran": True, "counted": True})
    backfill = report_sections.view_freshness({**parsed, "ran": True, "counted": False})
    assert recent.status == "warn" and "customers warn" in recent.summary
    assert backfill.status == "info" and "not counted" in backfill.summary


def test_the_text_report_starts_with_the_verdict_and_the_true_duration():
    record = {"dag_id": "fsdp_daily", "logical_date": "2026-03-02", "run_id": "manual__1", "state": "success",
              "duration_s": 452.4, "started_at": "2026-03-02T10:00:00+00:00",
              "sections": {"entities": {"status": "ok", "summary": "s", "entities": {
                  "customers": {"landed": 1210, "refused_rows": 4, "exact_duplicates": 6, "raw": 1200, "accepted": 1100,
                                "rejected": 100}}, "product_tables": {}},
                  "quality": {"status": "warn", "summary": "1 warning (a.b); 9 pass", "ran": True,
                              "counts": {"pass": 9, "warn": 1}, "checks": [{"dataset": "a", "check": "b",
                                                                             "outcome": "warn", "value": 0.1}]}}}
    record["verdict"] = run_report.verdict(record)
    text = run_report.format_text(record)
    assert text.splitlines()[0] == "fsdp_daily 2026-03-02: SUCCESS WITH WARNINGS  (run manual__1, 7m 32s)"
    assert "quality gate: WARN 1 warning (a.b); 9 pass" in text
    # landed, refused, copies, new in raw, accepted, rejected
    assert any(line.split() == ["customers", "1,210", "4", "6", "1,200", "1,100", "100"] for line in text.splitlines())


def test_dags_test_runs_start_when_they_were_created_not_at_midnight():
    created = datetime(2026, 3, 2, 21, 17, tzinfo=timezone.utc)
    dags_test_run = SimpleNamespace(start_date=datetime(2026, 3, 2, tzinfo=timezone.utc), run_after=created)
    scheduled = SimpleNamespace(start_date=created + timedelta(seconds=3), run_after=created)
    assert run_report.true_start(dags_test_run) == created
    assert run_report.true_start(scheduled) == created + timedelta(seconds=3)


def test_the_html_page_escapes_every_value_and_shows_the_verdict():
    record = {"dag_id": "fsdp_daily", "run_id": "manual__<script>alert(1)</script>", "logical_date": "2026-03-02",
              "state": "success", "verdict": "success_with_warnings",
              "sections": {"quality": {"status": "warn", "summary": "<img src=x onerror=alert(1)>", "ran": True,
                                       "counts": {"warn": 1}, "checks": []}}}
    page = report_pages.run_page(record, "/fsdp-run-reports", "")
    assert "<script>alert" not in page and "<img src=x" not in page
    assert 'data-verdict="success_with_warnings"' in page and "&lt;script&gt;" in page
    listing = report_pages.list_page([{**record, "warnings": ["quality"]}], "/fsdp-run-reports", "fsdp_daily")
    assert "<script>alert" not in listing and "quality gate" in listing
