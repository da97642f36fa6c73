"""Alerts through Airflow's notifier interface: failed runs, missed deadlines, quality warnings.

``FsdpAlertNotifier`` is a ``BaseNotifier``: the DAGs use it as ``on_failure_callback`` and as the
callback of their ``DeadlineAlert``; the ``quality_warnings`` task calls it when a run has
warnings. It always logs one line (``FSDP run FAILED: ...``, ``FSDP deadline missed: ...``,
``FSDP run has quality warnings: ...``) and then hands the same alert to the official providers'
notifiers of every channel configured in the environment:

| channel | notifier (provider) | settings |
| --- | --- | --- |
| ``log`` | (always on) | - |
| ``email`` | ``SmtpNotifier`` (apache-airflow-providers-smtp) | ``FSDP_ALERT_EMAIL_TO`` (comma list), ``FSDP_ALERT_EMAIL_FROM``, connection ``FSDP_ALERT_SMTP_CONN_ID`` (default ``smtp_default``) |
| ``slack`` | ``SlackWebhookNotifier`` (apache-airflow-providers-slack) | connection ``FSDP_ALERT_SLACK_CONN_ID`` (default ``fsdp_alerts_slack``, type ``slackwebhook``) |
| ``webhook`` | ``HttpNotifier`` (apache-airflow-providers-http) | connection ``FSDP_ALERT_WEBHOOK_CONN_ID`` (default ``fsdp_alerts_webhook``, type ``http``), ``FSDP_ALERT_WEBHOOK_ENDPOINT`` (path, default empty); JSON body: :meth:`Alert.as_dict` |

``FSDP_ALERT_CHANNELS`` lists the channels (default ``log``), e.g. ``log,email,slack``. Secrets
(SMTP password, webhook URL and token) live in Airflow connections or ``AIRFLOW_CONN_*``
variables, never here. A channel that fails is logged and never hides the alert's other channels
or the failure being reported.
"""
from __future__ import annotations

import json
import logging
import os
from dataclasses import asdict, dataclass, field
from urllib.parse import quote

from airflow.sdk import BaseNotifier

log = logging.getLogger("fsdp.pipeline")

CHANNELS = ("log", "email", "slack", "webhook")
EVENTS = {
    "failure": "FSDP run FAILED",
    "deadline": "FSDP deadline missed",
    "quality_warnings": "FSDP run has quality warnings",
}


class AlertConfigError(ValueError):
    """FSDP_ALERT_CHANNELS names an unknown channel, or a channel misses a required setting."""


@dataclass(frozen=True)
class Alert:
    event: str                      # failure | deadline | quality_warnings
    text: str                       # the one line that is logged, e-mailed and posted
    dag_id: str = "?"
    run_id: str | None = None
    logical_date: str | None = None
    details: dict = field(default_factory=dict)
    report_url: str | None = None

    @property
    def subject(self) -> str:
        return f"[{self.dag_id}] {EVENTS.get(self.event, self.event)}" + (f" ({self.logical_date})" if self.logical_date else "")

    def as_dict(self) -> dict:
        return asdict(self)


def channels() -> list[str]:
    """The configured channels, ``log`` first and always included."""
    names = [c.strip().lower() for c in os.environ.get("FSDP_ALERT_CHANNELS", "log").split(",") if c.strip()]
    unknown = [c for c in names if c not in CHANNELS]
    if unknown:
        raise AlertConfigError(f"FSDP_ALERT_CHANNELS: unknown channel(s) {', '.join(unknown)}; use {', '.join(CHANNELS)}")
    return ["log"] + [c for c in dict.fromkeys(names) if c != "log"]


def report_url(dag_id: str, run_id: str | None) -> str | None:
    """Link to the run's report page in the Airflow UI (plugins/fsdp_run_reports.py)."""
    base = (os.environ.get("FSDP_AIRFLOW_URL") or os.environ.get("AIRFLOW__API__BASE_URL") or "").rstrip("/")
    if not base or not run_id:
        return None
    return f"{base}/fsdp-run-reports/run?dag_id={quote(dag_id)}&run_id={quote(run_id)}"


def _get(obj, name, default=None):
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


def build_alert(event: str, context: dict, message: str | None = None) -> Alert:
    """The alert of ``event`` for a callback ``context`` (task, DAG or deadline callback alike)."""
    from include.pipeline.callbacks import failure_summary

    dag = context.get("dag")
    dag_run = context.get("dag_run")
    dag_id = _get(dag, "dag_id") or _get(dag_run, "dag_id") or context.get("dag_id") or "?"
    run_id = context.get("run_id") or _get(dag_run, "run_id")
    logical = context.get("logical_date") or _get(dag_run, "logical_date")
    logical_date = logical.strftime("%Y-%m-%d") if hasattr(logical, "strftime") else (str(logical)[:10] if logical else None)
    details: dict = {}
    if event == "failure":
        text = failure_summary(context)
        ti = context.get("ti") or context.get("task_instance")
        if ti is not None:
            details["failed_task"] = _get(ti, "task_id")
        details["reason"] = context.get("reason") or "task_failure"
    else:
        parts = [f"{EVENTS.get(event, event)}: dag={dag_id}", f"run_id={run_id or '?'}"]
        if logical_date:
            parts.append(f"logical_date={logical_date}")
        deadline = context.get("deadline")
        if event == "deadline" and deadline is not None:
            details["deadline"] = str(_get(deadline, "deadline_time") or deadline)
            parts.append(f"deadline={details['deadline']}")
        if message:
            parts.append(message)
        text = " | ".join(parts)
    if message:
        details["message"] = message
    url = report_url(dag_id, run_id)
    if url and "report=" not in text:
        text += f" | report={url}"
    return Alert(event=event, text=text, dag_id=dag_id, run_id=run_id, logical_date=logical_date,
                 details=details, report_url=url)


def _required(name: str) -> str:
    value = os.environ.get(name)
    if not value:
        raise AlertConfigError(f"{name} is required for the e-mail alert channel")
    return value


def channel_notifier(channel: str, alert: Alert) -> BaseNotifier:
    """The official provider notifier that delivers ``alert`` on ``channel``."""
    if channel == "email":
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        to = [a.strip() for a in _required("FSDP_ALERT_EMAIL_TO").split(",") if a.strip()]
        body = f"<p>{_html(alert.text)}</p>" + (f'<p><a href="{_html(alert.report_url)}">run report</a></p>'
                                               if alert.report_url else "")
        return SmtpNotifier(to=to, from_email=os.environ.get("FSDP_ALERT_EMAIL_FROM") or None, subject=alert.subject,
                            html_content=body, smtp_conn_id=os.environ.get("FSDP_ALERT_SMTP_CONN_ID", "smtp_default"))
    if channel == "slack":
        from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

        return SlackWebhookNotifier(
            slack_webhook_conn_id=os.environ.get("FSDP_ALERT_SLACK_CONN_ID", "fsdp_alerts_slack"),
            text=f"*{alert.subject}*\n{alert.text}")
    if channel == "webhook":
        from airflow.providers.http.notifications.http import HttpNotifier

        return HttpNotifier(http_conn_id=os.environ.get("FSDP_ALERT_WEBHOOK_CONN_ID", "fsdp_alerts_webhook"),
                            endpoint=os.environ.get("FSDP_ALERT_WEBHOOK_ENDPOINT", ""), method="POST",
                            json=alert.as_dict(), headers={"Content-Type": "application/json"})
    raise AlertConfigError(f"no notifier for channel {channel!r}")


def _html(text: str | None) -> str:
    import html

    return html.escape(text or "", quote=True)


def send(alert: Alert, context: dict | None = None) -> dict[str, str]:
    """Log ``alert`` and deliver it on every configured channel; returns channel -> ``sent`` or
    the error. Never raises: an alert must not hide what it reports."""
    (log.warning if alert.event == "quality_warnings" else log.error)("%s", alert.text)
    outcome = {"log": "sent"}
    try:
        names = channels()
    except AlertConfigError as exc:
        log.error("alerts: %s; only the log line above was sent", exc)
        return outcome | {"config": str(exc)}
    for channel in names[1:]:
        try:
            notifier = channel_notifier(channel, alert)
            # notify(), not __call__: our text is final, Jinja must not touch it (a conf with braces)
            notifier.notify(context or {})
            outcome[channel] = "sent"
        except Exception as exc:
            outcome[channel] = f"{type(exc).__name__}: {exc}"
            log.error("alerts: the %s channel failed: %s", channel, outcome[channel])
    if len(outcome) > 1:
        log.info("alerts: %s", json.dumps(outcome))
    return outcome


class FsdpAlertNotifier(BaseNotifier):
    """Notifier of the FSDP DAGs: ``FsdpAlertNotifier("failure")`` (on_failure_callback),
    ``FsdpAlertNotifier("deadline")`` (DeadlineAlert callback), ``FsdpAlertNotifier("quality_warnings",
    message=...)``."""

    def __init__(self, event: str = "failure", message: str | None = None, context: dict | None = None, **_):
        super().__init__(context=context)
        if event not in EVENTS:
            raise ValueError(f"unknown alert event {event!r}; one of {', '.join(EVENTS)}")
        self.event = event
        self.message = message
        self.outcome: dict[str, str] = {}

    def notify(self, context) -> None:
        try:
            alert = build_alert(self.event, dict(context or {}), self.message)
        except Exception:  # a callback must never hide the failure it reports
            log.exception("%s (could not build the alert)", EVENTS.get(self.event, self.event))
            return
        self.outcome = send(alert, context)


def run_deadline():
    """The daily run's DeadlineAlert: alert when a run is not done ``FSDP_RUN_DEADLINE_MINUTES``
    (default 120; 0 turns it off) after it was queued. Cheap: the DAG file calls it at parse time."""
    from datetime import timedelta

    from airflow.sdk.definitions.callback import SyncCallback
    from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

    minutes = int(os.environ.get("FSDP_RUN_DEADLINE_MINUTES", "120"))
    if minutes <= 0:
        return None
    return DeadlineAlert(reference=DeadlineReference.DAGRUN_QUEUED_AT, interval=timedelta(minutes=minutes),
                         callback=SyncCallback(FsdpAlertNotifier, kwargs={"event": "deadline"}),
                         name="fsdp_daily_deadline")
