"""The audit trail: one JSON line per call, allowed or refused, appended to
``<audit_dir>/audit-YYYY-MM-DD.jsonl`` (UTC day), and the usage report over it.

Each line is written with one ``write()`` on a file opened with O_APPEND: the kernel places every
such write at the end of the file atomically, so concurrent calls (threads, or several worker
processes sharing the folder) never interleave or lose a line. Tokens and API keys are never
written; the caller is its subject, group and key id.

Queryable as a table: ``read_json('<audit_dir>/*.jsonl')`` in DuckDB (what ``usage`` does).
"""
from __future__ import annotations

import json
import os
import threading
from datetime import datetime, timezone
from pathlib import Path

FIELDS = ("ts", "request_id", "caller", "group", "auth", "key_id", "client", "method", "endpoint", "path",
          "status", "error", "rows", "latency_ms", "rate_limit", "query", "params", "data_run_id",
          "data_logical_date")


class AuditLog:
    def __init__(self, directory: Path):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._day = None
        self._fd = None

    def _file(self, day: str) -> int:
        if day != self._day:
            if self._fd is not None:
                os.close(self._fd)
            self._fd = os.open(self.directory / f"audit-{day}.jsonl", os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
            self._day = day
        return self._fd

    def write(self, record: dict) -> None:
        now = datetime.now(timezone.utc)
        record = {"ts": now.isoformat(timespec="milliseconds"), **record}
        line = (json.dumps(record, default=str, separators=(",", ":")) + "\n").encode()
        with self._lock:
            fd = self._file(now.strftime("%Y-%m-%d"))
            os.write(fd, line)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None
                self._day = None


def usage_report(directory: Path, since: str | None = None) -> dict:
    """Calls per group and endpoint, refusals by status and code, latency p50/p99, from the trail."""
    import duckdb

    files = sorted(Path(directory).glob("audit-*.jsonl"))
    if not files:
        return {"calls": 0, "by_group_endpoint": [], "refusals": [], "files": []}
    con = duckdb.connect()
    try:
        paths = ", ".join("'" + str(f).replace("'", "''") + "'" for f in files)
        con.execute(f"create view audit as select * from read_json([{paths}], format='newline_delimited', "
                    "columns={ts: 'TIMESTAMPTZ', caller: 'VARCHAR', \"group\": 'VARCHAR', "
                    "endpoint: 'VARCHAR', status: 'INTEGER', error: 'VARCHAR', rows: 'BIGINT', "
                    "latency_ms: 'DOUBLE'})")
        where = "where ts >= cast(? as timestamptz)" if since else ""
        args = [since] if since else []
        total = con.execute(f"select count(*) from audit {where}", args).fetchone()[0]
        rows = con.execute(f"""
            select coalesce("group", '(none)'), endpoint, count(*) as calls,
                   count(*) filter (where status >= 400) as refused,
                   round(quantile_cont(latency_ms, 0.5), 2), round(quantile_cont(latency_ms, 0.99), 2),
                   coalesce(sum(rows), 0)
            from audit {where} group by all order by 1, 2""", args).fetchall()
        refusals = con.execute(f"""
            select status, error, count(*) from audit {where} {'and' if where else 'where'} status >= 400
            group by all order by 3 desc""", args).fetchall()
    finally:
        con.close()
    return {
        "calls": total, "files": [f.name for f in files],
        "by_group_endpoint": [dict(zip(("group", "endpoint", "calls", "refused", "p50_ms", "p99_ms", "rows"), r))
                              for r in rows],
        "refusals": [dict(zip(("status", "code", "calls"), r)) for r in refusals],
    }


def format_report(report: dict) -> str:
    lines = [f"{report['calls']} calls in {len(report['files'])} audit files", "",
             f"{'group':<10} {'endpoint':<34} {'calls':>7} {'refused':>8} {'p50 ms':>8} {'p99 ms':>8} {'rows':>9}"]
    for r in report["by_group_endpoint"]:
        lines.append(f"{r['group']:<10} {r['endpoint'] or '-':<34} {r['calls']:>7} {r['refused']:>8} "
                     f"{r['p50_ms'] if r['p50_ms'] is not None else '-':>8} "
                     f"{r['p99_ms'] if r['p99_ms'] is not None else '-':>8} {r['rows']:>9}")
    if report["refusals"]:
        lines += ["", "refusals:"] + [f"  {r['status']} {r['code']}: {r['calls']}" for r in report["refusals"]]
    return "\n".join(lines)
