"""Alerts through Airflow's notifier interface, delivered by the official providers' notifiers
(SMTP, Slack webhook, HTTP webhook) to local fake receivers, configured only from the environment."""
from __future__ import annotations

import email
import json
from datetime import datetime, timezone
from types import SimpleNamespace

import pytest

from include.pipeline import alerts
from tests.pipeline.fake_receivers import FakeHTTP, FakeSMTP


def _context(**extra):
    ti = SimpleNamespace(task_id="dbt.stg_landing__customers.run", try_number=2, max_tries=1, log_url=None)
    return {"dag": SimpleNamespace(dag_id="fsdp_daily"), "run_id": "manual__2026-03-02", "ti": ti,
            "reason": "task_failure", "logical_date": datetime(2026, 3, 2, tzinfo=timezone.utc),
            "dag_run": SimpleNamespace(run_id="manual__2026-03-02", dag_id="fsdp_daily", conf={"rows": 5}), **extra}


@pytest.fixture
def alert_env(monkeypatch):
    for name in ("FSDP_ALERT_CHANNELS", "FSDP_ALERT_EMAIL_TO", "FSDP_ALERT_EMAIL_FROM", "FSDP_AIRFLOW_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("FSDP_AIRFLOW_URL", "http://127.0.0.1:8080")
    return monkeypatch


def test_by_default_an_alert_is_one_log_line_with_the_run_report_link(alert_env, caplog):
    notifier = alerts.FsdpAlertNotifier("failure")
    notifier.notify(_context())
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("FSDP run FAILED")]
    assert len(lines) == 1 and "\n" not in lines[0]
    assert "failed_task=dbt.stg_landing__customers.run (try 2 of 2)" in lines[0]
    assert "report=http://127.0.0.1:8080/fsdp-run-reports/run?dag_id=fsdp_daily&run_id=manual__2026-03-02" in lines[0]
    assert notifier.outcome == {"log": "sent"}


def test_email_goes_through_the_smtp_providers_notifier_to_the_configured_server(alert_env):
    with FakeSMTP() as smtp:
        alert_env.setenv("FSDP_ALERT_CHANNELS", "log,email")
        alert_env.setenv("FSDP_ALERT_EMAIL_TO", "oncall@example.com, data-team@example.com")
        alert_env.setenv("FSDP_ALERT_EMAIL_FROM", "airflow@example.com")
        alert_env.setenv("AIRFLOW_CONN_SMTP_DEFAULT", json.dumps({
            "conn_type": "smtp", "host": "127.0.0.1", "port": smtp.port,
            "extra": {"disable_tls": True, "disable_ssl": True, "timeout": 10, "retry_limit": 1}}))
        notifier = alerts.FsdpAlertNotifier("failure")
        notifier.notify(_context())
    assert notifier.outcome["email"] == "sent", notifier.outcome
    [mail] = smtp.messages
    assert set(mail["rcpt"]) == {"<oncall@example.com>", "<data-team@example.com>"}
    message = email.message_from_string(mail["data"])
    assert message["Subject"] == "[fsdp_daily] FSDP run FAILED (2026-03-02)"
    html = next(p for p in message.walk() if p.get_content_type() == "text/html").get_payload(decode=True).decode()
    assert "dbt.stg_landing__customers.run" in html and "fsdp-run-reports/run?dag_id=fsdp_daily" in html


def test_slack_goes_through_the_slack_webhook_notifier_to_the_connections_url(alert_env):
    with FakeHTTP() as hook:
        alert_env.setenv("FSDP_ALERT_CHANNELS", "slack")
        alert_env.setenv("AIRFLOW_CONN_FSDP_ALERTS_SLACK", json.dumps({
            "conn_type": "slackwebhook", "password": f"http://127.0.0.1:{hook.port}/services/T000/B000/XXXX"}))
        notifier = alerts.FsdpAlertNotifier("quality_warnings", message="1 warning: quality check transaction_dp.rejected_share")
        notifier.notify(_context())
    assert notifier.outcome == {"log": "sent", "slack": "sent"}
    [request] = hook.requests
    assert request["path"] == "/services/T000/B000/XXXX"
    assert "FSDP run has quality warnings" in request["json"]["text"]
    assert "transaction_dp.rejected_share" in request["json"]["text"]


def test_webhook_posts_the_alert_as_json_through_the_http_providers_notifier(alert_env):
    with FakeHTTP() as hook:
        alert_env.setenv("FSDP_ALERT_CHANNELS", "webhook")
        alert_env.setenv("FSDP_ALERT_WEBHOOK_ENDPOINT", "/hooks/fsdp")
        alert_env.setenv("AIRFLOW_CONN_FSDP_ALERTS_WEBHOOK", json.dumps(
            {"conn_type": "http", "host": "127.0.0.1", "port": hook.port, "schema": "http"}))
        alerts.FsdpAlertNotifier("deadline").notify(_context(deadline=SimpleNamespace(deadline_time="2026-03-03T02:00:00+00:00")))
    [request] = hook.requests
    assert request["path"] == "/hooks/fsdp"
    body = request["json"]
    assert body["event"] == "deadline" and body["dag_id"] == "fsdp_daily" and body["run_id"] == "manual__2026-03-02"
    assert body["text"].startswith("FSDP deadline missed: dag=fsdp_daily") and "deadline=2026-03-03T02:00:00" in body["text"]


def test_a_failing_channel_is_logged_and_never_stops_the_others(alert_env, caplog):
    with FakeHTTP(status=500) as broken, FakeHTTP() as ok:
        alert_env.setenv("FSDP_ALERT_CHANNELS", "slack,webhook")
        alert_env.setenv("AIRFLOW_CONN_FSDP_ALERTS_SLACK", json.dumps(
            {"conn_type": "slackwebhook", "password": f"http://127.0.0.1:{broken.port}/services/T/B/X"}))
        alert_env.setenv("AIRFLOW_CONN_FSDP_ALERTS_WEBHOOK", json.dumps(
            {"conn_type": "http", "host": "127.0.0.1", "port": ok.port, "schema": "http"}))
        notifier = alerts.FsdpAlertNotifier("failure")
        notifier.notify(_context())
    assert notifier.outcome["slack"] != "sent" and notifier.outcome["webhook"] == "sent"
    assert len(ok.requests) == 1
    assert "the slack channel failed" in caplog.text


def test_an_unknown_channel_or_a_missing_setting_is_reported_and_the_log_line_still_goes_out(alert_env, caplog):
    alert_env.setenv("FSDP_ALERT_CHANNELS", "log,pager")
    outcome = alerts.send(alerts.build_alert("failure", _context()))
    assert outcome["log"] == "sent" and "unknown channel(s) pager" in outcome["config"]
    alert_env.setenv("FSDP_ALERT_CHANNELS", "email")
    outcome = alerts.send(alerts.build_alert("failure", _context()))
    assert "FSDP_ALERT_EMAIL_TO is required" in outcome["email"]
    assert caplog.text.count("FSDP run FAILED") >= 2


def test_the_deadline_is_a_deadline_alert_whose_callback_is_the_notifier(alert_env):
    alert_env.setenv("FSDP_RUN_DEADLINE_MINUTES", "90")
    deadline = alerts.run_deadline()
    assert deadline.interval.total_seconds() == 90 * 60
    assert deadline.callback.path == "include.pipeline.alerts.FsdpAlertNotifier"
    assert deadline.callback.kwargs == {"event": "deadline"}
    alert_env.setenv("FSDP_RUN_DEADLINE_MINUTES", "0")
    assert alerts.run_deadline() is None


def test_airflows_callback_runner_delivers_a_deadline_alert_to_the_webhook(alert_env):
    # the executor runs a SyncCallback with execute_callback: instantiate with kwargs, call with context
    import structlog
    from airflow.sdk.execution_time.callback_supervisor import execute_callback

    # a deadline's context: the run and the deadline, no task
    deadline_context = {"dag_run": SimpleNamespace(run_id="scheduled__2026-03-02", dag_id="fsdp_daily",
                                                   logical_date=datetime(2026, 3, 2, tzinfo=timezone.utc)),
                        "deadline": {"deadline_time": "2026-03-03T02:00:00+00:00"}}
    with FakeHTTP() as hook:
        alert_env.setenv("FSDP_ALERT_CHANNELS", "webhook")
        alert_env.setenv("AIRFLOW_CONN_FSDP_ALERTS_WEBHOOK", json.dumps(
            {"conn_type": "http", "host": "127.0.0.1", "port": hook.port, "schema": "http"}))
        ok, error = execute_callback("include.pipeline.alerts.FsdpAlertNotifier",
                                     {"event": "deadline", "context": deadline_context}, "dags/fsdp_daily.py", None,
                                     structlog.get_logger())
    assert ok, error
    [request] = hook.requests
    assert request["json"]["event"] == "deadline" and request["json"]["run_id"] == "scheduled__2026-03-02"
    assert "deadline=2026-03-03T02:00:00+00:00" in request["json"]["text"]
