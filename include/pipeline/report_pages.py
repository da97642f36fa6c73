"""HTML pages of the run reports, served in the Airflow UI by plugins/fsdp_run_reports.py.

Plain server-rendered HTML with its own small stylesheet (no script, no outside asset), so the
pages work in Airflow's plugin iframe and when opened on their own. Every value is escaped.
"""
from __future__ import annotations

import html
from urllib.parse import quote, urlencode

from include.pipeline import run_report

VERDICT_STYLE = {
    "success": ("ok", "success"),
    "success_with_warnings": ("warn", "success with warnings"),
    "failed": ("fail", "failed"),
    "running": ("info", "running"),
}
CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:0;padding:18px 24px;color:#1f2933;background:#fff}
h1{font-size:20px;margin:0 0 4px}h2{font-size:16px;margin:22px 0 6px;display:flex;gap:8px;align-items:center}
h3{font-size:13px;margin:10px 0 4px;color:#52606d;font-weight:600}
table{border-collapse:collapse;margin:4px 0 8px;min-width:320px}
th,td{border-bottom:1px solid #e4e7eb;padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f5f7fa;font-weight:600;font-size:12px;color:#52606d}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;border-radius:10px;padding:1px 9px;font-size:12px;font-weight:600;white-space:nowrap}
.ok{background:#e3f9e5;color:#05610d}.warn{background:#fff3c4;color:#8d2b0b}.fail{background:#ffe3e3;color:#a61b1b}
.info{background:#e6f6ff;color:#035388}
.summary{margin:2px 0 6px}.meta{color:#52606d;margin:2px 0 12px}.meta a,.nav a{color:#0b69a3}
.nav{margin-bottom:12px;font-size:13px}.empty{color:#7b8794}
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _page(title: str, body: str) -> str:
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{_e(title)}</title>'
            f'<meta name="viewport" content="width=device-width, initial-scale=1"><style>{CSS}</style></head>'
            f"<body>{body}</body></html>")


def badge(verdict: str | None) -> str:
    cls, label = VERDICT_STYLE.get(verdict or "", ("info", verdict or "unknown"))
    return f'<span class="badge {cls}" data-verdict="{_e(verdict)}">{_e(label)}</span>'


def status_badge(status: str) -> str:
    label = {"ok": "ok", "warn": "warning", "fail": "failed", "info": "info"}.get(status, status)
    return f'<span class="badge {_e(status)}">{_e(label)}</span>'


def run_link(base: str, dag_id: str, run_id: str) -> str:
    return f"{base}/run?{urlencode({'dag_id': dag_id, 'run_id': run_id})}"


def _table(table: run_report.Table) -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in table.columns)
    rows = []
    for row in table.rows:
        cells = []
        for value in row:
            text = run_report._cell(value)
            cls = ' class="n"' if isinstance(value, (int, float)) and not isinstance(value, bool) else ""
            cells.append(f"<td{cls}>{_e(text)}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    title = f"<h3>{_e(table.title)}</h3>" if table.title else ""
    return f"{title}<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def list_page(reports: list[dict], base: str, dag_id: str, airflow_base: str = "") -> str:
    """All stored reports of ``dag_id``, newest first."""
    rows = []
    for r in reports:
        warnings = ", ".join(run_report.SECTION_TITLES.get(w, w) for w in r.get("warnings", []))
        rows.append(
            "<tr>"
            f"<td>{_e(r.get('logical_date'))}</td>"
            f'<td><a href="{_e(run_link(base, dag_id, r["run_id"]))}">{_e(r["run_id"])}</a></td>'
            f"<td>{badge(r.get('verdict'))}</td>"
            f"<td>{_e(r.get('started_at'))}</td>"
            f'<td class="n">{_e(run_report.duration_text(r.get("duration_s")))}</td>'
            f"<td>{_e(warnings) or '-'}</td>"
            "</tr>")
    table = ("<table><thead><tr><th>logical date</th><th>run</th><th>verdict</th><th>started (UTC)</th>"
             "<th>duration</th><th>warnings in</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
             if rows else '<p class="empty">No run report yet: reports are written by every run of '
             f"{_e(dag_id)} (its last task, run_report).</p>")
    body = (f"<h1>Run reports: {_e(dag_id)}</h1>"
            f'<p class="meta">{len(reports)} runs, newest first. One report per run, kept for every run '
            f'(failed ones too). <a href="{_e(airflow_base)}/dags/{_e(quote(dag_id))}">DAG in Airflow</a></p>'
            + table)
    return _page(f"Run reports: {dag_id}", body)


def run_page(record: dict, base: str, airflow_base: str = "") -> str:
    """One run's report: verdict, timing, then every section with its tables."""
    dag_id, run_id = record.get("dag_id", "fsdp_daily"), record["run_id"]
    run_url = f"{airflow_base}/dags/{quote(dag_id)}/runs/{quote(run_id, safe='')}"
    meta = [f"logical date <b>{_e(record.get('logical_date'))}</b>",
            f"started {_e(record.get('started_at') or '-')}",
            f"ended {_e(record.get('ended_at') or '-')}",
            f"duration <b>{_e(run_report.duration_text(record.get('duration_s')))}</b>",
            f"Airflow state {_e(record.get('state') or '-')}"]
    parts = [f'<div class="nav"><a href="{_e(base)}/?{urlencode({"dag_id": dag_id})}">&larr; all runs</a> &middot; '
             f'<a href="{_e(run_url)}">this run in Airflow</a> &middot; '
             f'<a href="{_e(base)}/run.json?{urlencode({"dag_id": dag_id, "run_id": run_id})}">JSON</a></div>',
             f"<h1>{_e(dag_id)} run report {badge(record.get('verdict'))}</h1>",
             f'<p class="meta">run <code>{_e(run_id)}</code> &middot; ' + " &middot; ".join(meta) + "</p>",
             f'<p class="summary" id="verdict-line">{_e(run_report.verdict_line(record))}</p>']
    if record.get("params"):
        parts.append(f'<p class="meta">parameters: <code>{_e(record["params"])}</code></p>')
    for name, data in run_report.ordered(record.get("sections", {})).items():
        view = run_report.view_of(name, data)
        parts.append(f'<section id="section-{_e(name)}"><h2>{_e(run_report.SECTION_TITLES.get(name, name))} '
                     f"{status_badge(view.status)}</h2><p class=\"summary\">{_e(view.summary)}</p>"
                     + "".join(_table(t) for t in view.tables if t.rows) + "</section>")
    return _page(f"{dag_id} {record.get('logical_date')} run report", "".join(parts))


def not_found_page(dag_id: str, run_id: str, base: str) -> str:
    body = (f"<h1>No run report for {_e(run_id)}</h1>"
            f'<p class="meta">Run reports are written by the last task of every {_e("fsdp_daily")} run '
            f"(run_report). A run still in progress, or a run of another DAG ({_e(dag_id)}), has none yet. "
            f'<a href="{_e(base)}/?dag_id=fsdp_daily">All run reports</a></p>')
    return _page("No run report", body)
