"""The audit trail folded into the governance dashboard's table (include.api.audit_table): every
line of the trail is a row or a reported reject, nothing else; the values are the lines'; the
file is replaced atomically; the running API folds its own trail."""
from __future__ import annotations

import json
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pytest

from include.api.audit import AuditLog
from include.api.audit_table import COLUMNS, fold, parse_line, table_path

NOW = datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc)


def line(**fields) -> str:
    base = {"ts": "2026-12-02T10:15:00.123+00:00", "request_id": "r1", "caller": "alice", "group": "analyst",
            "auth": "jwt", "endpoint": "load", "method": "POST", "path": "/v2/load", "status": 200, "rows": 3,
            "latency_ms": 12.5, "rate_limit": {"scope": "caller", "limit": 200, "remaining": 199},
            "query": {"filters": [{"member": "customers.email_addr", "values": ["someone@example.com"]}]},
            "client": "10.1.2.3"}
    base.update(fields)
    return json.dumps({k: v for k, v in base.items() if v is not ...})


def write(folder: Path, day: str, lines: list[str], tail: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"audit-{day}.jsonl"
    path.write_text("".join(x + "\n" for x in lines) + tail)
    return path


def table(path: Path, sql: str):
    with duckdb.connect(str(path), read_only=True) as con:
        return con.execute(sql).fetchall()


def test_every_line_is_a_row_or_a_reported_reject_and_nothing_is_dropped(tmp_path):
    audit = tmp_path / "audit"
    good = [line(request_id=f"ok{i}") for i in range(5)]
    bad = ["{not json", "[1, 2]", "", line(status="200"), line(status=700), line(ts="yesterday"),
           line(ts="2026-12-02T10:00:00"), line(latency_ms=-1), line(rows=2.5), line(caller={"nested": 1}),
           line(ts=...)]
    write(audit, "2026-12-02", good[:2] + bad[:6] + good[2:] + bad[6:])
    write(audit, "2026-12-01", [line(ts="2026-12-01T23:59:59.999+00:00", request_id="late")])
    (audit / "audit-2026-12-01.jsonl").open("ab").write(b"\xff\xfe broken bytes\n")
    res = fold(audit, now=NOW)
    assert res.lines == len(good) + len(bad) + 2
    assert res.rows == len(good) + 1 and len(res.rejected) == len(bad) + 1
    assert res.rows + len(res.rejected) == res.lines
    reasons = {(r["file"], r["line"]): r["reason"] for r in res.rejected}
    assert reasons[("audit-2026-12-02.jsonl", 3)].startswith("not JSON")
    assert reasons[("audit-2026-12-02.jsonl", 4)] == "a JSON list, not an object"
    assert reasons[("audit-2026-12-02.jsonl", 5)] == "empty line"
    assert "status '200'" in reasons[("audit-2026-12-02.jsonl", 6)]
    assert "status 700" in reasons[("audit-2026-12-02.jsonl", 7)]
    assert "not an ISO timestamp" in reasons[("audit-2026-12-02.jsonl", 8)]
    assert "no time zone" in reasons[("audit-2026-12-02.jsonl", 12)]
    assert "latency_ms -1" in reasons[("audit-2026-12-02.jsonl", 13)]
    assert "rows 2.5" in reasons[("audit-2026-12-02.jsonl", 14)]
    assert "caller" in reasons[("audit-2026-12-02.jsonl", 15)]
    assert reasons[("audit-2026-12-02.jsonl", 16)] == "ts is missing"
    assert reasons[("audit-2026-12-01.jsonl", 2)] == "not UTF-8"
    db = table_path(audit)
    # the table says the same: rows with their file and line, rejects, and the fold's counts
    assert table(db, "select count(*) from api_calls")[0][0] == res.rows
    assert sorted(table(db, "select source_file, line_no, reason from audit_rejects")) == \
        sorted((r["file"], r["line"], r["reason"]) for r in res.rejected)
    assert table(db, "select files, lines, row_count, rejected, pending_bytes from audit_fold") == \
        [(2, res.lines, res.rows, len(res.rejected), 0)]
    lines_of = sorted(table(db, "select source_file, line_no from api_calls"))
    assert lines_of == [("audit-2026-12-01.jsonl", 1)] + [("audit-2026-12-02.jsonl", n) for n in (1, 2, 9, 10, 11)]


def test_rows_hold_the_lines_values_and_no_query_text_filter_value_or_address(tmp_path):
    audit = tmp_path / "audit"
    write(audit, "2026-12-02", [
        line(),
        line(request_id="r2", caller=..., group=..., auth=..., status=401, error="UNAUTHENTICATED", rows=...,
             latency_ms=0.25, rate_limit=...),
        line(request_id="r3", caller="bob", group="viewer", status=429, error="RATE_LIMITED", rows=...,
             rate_limit={"scope": "endpoint", "limit": 100}),
        line(request_id="r4", key_id="k_1", auth="apikey", caller="k_1", data_run_id="run-7",
             data_logical_date="2026-12-01"),
    ])
    fold(audit, now=NOW)
    db = table_path(audit)
    names = [c for c, _ in COLUMNS]
    assert [r[0] for r in table(db, "describe api_calls")] == names
    assert not {"query", "params", "client"} & set(names)
    rows = {r[names.index("request_id")]: dict(zip(names, r)) for r in table(db, "select * from api_calls")}
    ok = rows["r1"]
    assert ok["ts"] == datetime(2026, 12, 2, 10, 15, 0, 123000) and str(ok["day"]) == "2026-12-02"
    assert (ok["caller"], ok["user_group"], ok["auth"], ok["endpoint"], ok["status"], ok["rows"], ok["latency_ms"]) == \
        ("alice", "analyst", "jwt", "load", 200, 3, 12.5)
    assert ok["rate_limit_scope"] is None            # an allowed call's budget is not a hit
    assert (rows["r2"]["caller"], rows["r2"]["status"], rows["r2"]["error"]) == (None, 401, "UNAUTHENTICATED")
    assert (rows["r3"]["status"], rows["r3"]["rate_limit_scope"]) == (429, "endpoint")
    assert (rows["r4"]["key_id"], rows["r4"]["data_run_id"], rows["r4"]["data_logical_date"]) == \
        ("k_1", "run-7", "2026-12-01")
    everything = json.dumps(table(db, "select * from api_calls"), default=str)
    assert "someone@example.com" not in everything and "10.1.2.3" not in everything


def test_a_line_still_being_written_is_pending_and_folded_once_complete(tmp_path):
    audit = tmp_path / "audit"
    partial = line(request_id="half")
    path = write(audit, "2026-12-02", [line()], tail=partial[:20])
    res = fold(audit, now=NOW)
    assert (res.lines, res.rows, res.rejected, res.pending_bytes) == (1, 1, [], 20)
    with path.open("a") as f:
        f.write(partial[20:] + "\n")
    res = fold(audit, now=NOW)
    assert (res.lines, res.rows, res.rejected, res.pending_bytes) == (2, 2, [], 0)
    # a file holding only an unterminated line
    write(audit, "2026-12-01", [], tail="{")
    res = fold(audit, now=NOW)
    assert (res.lines, res.rows, res.pending_bytes) == (2, 2, 1)


def test_files_before_the_window_are_listed_not_folded(tmp_path):
    audit = tmp_path / "audit"
    write(audit, "2026-10-01", [line(ts="2026-10-01T00:00:00+00:00")])
    write(audit, "2026-11-02", [line(ts="2026-11-02T00:00:00+00:00")])
    write(audit, "2026-12-02", [line()])
    (audit / "audit-notes.jsonl").write_text("x\n")
    res = fold(audit, window_days=31, now=NOW)
    assert res.files == ["audit-2026-11-02.jsonl", "audit-2026-12-02.jsonl"]
    assert res.outside_window == ["audit-2026-10-01.jsonl", "audit-notes.jsonl"]
    assert res.window_start == "2026-11-02" and res.rows == 2


def test_an_empty_trail_is_an_empty_table(tmp_path):
    audit = tmp_path / "audit"
    audit.mkdir()
    res = fold(audit, now=NOW)
    assert (res.lines, res.rows, res.files) == (0, 0, [])
    assert table(table_path(audit), "select count(*) from api_calls") == [(0,)]


def test_the_table_is_replaced_atomically_and_concurrent_folds_serialise(tmp_path):
    audit = tmp_path / "audit"
    log = AuditLog(audit)
    for i in range(200):
        log.write({"request_id": f"x{i}", "caller": "c", "group": "admin", "endpoint": "load", "status": 200,
                   "rows": 1, "latency_ms": 1.0})
    fold(audit)
    db = table_path(audit)
    reader = duckdb.connect(str(db), read_only=True)     # a reader holding the old file open
    inode = db.stat().st_ino
    stop = threading.Event()

    def keep_writing():
        i = 0
        while not stop.is_set():
            log.write({"request_id": f"w{i}", "caller": "w", "group": "viewer", "endpoint": "meta", "status": 403,
                       "error": "SCOPE_DENIED", "latency_ms": 0.1})
            i += 1
            time.sleep(0.001)

    writer = threading.Thread(target=keep_writing)
    writer.start()
    try:
        with ThreadPoolExecutor(4) as pool:
            results = list(pool.map(lambda _: fold(audit), range(8)))
    finally:
        stop.set()
        writer.join()
    assert all(r.rejected == [] and r.rows == r.lines for r in results)
    assert reader.execute("select count(*) from api_calls").fetchone()[0] == 200   # the old file, whole
    reader.close()
    assert db.stat().st_ino != inode
    final = fold(audit)
    log.close()
    total = sum(len(p.read_text().splitlines()) for p in audit.glob("audit-*.jsonl"))
    assert final.rows == total and table(db, "select count(*) from api_calls") == [(total,)]
    leftovers = [p.name for p in audit.rglob("*") if p.name.endswith(".tmp")]
    assert leftovers == []                               # no staged file left


def test_a_file_is_parsed_again_only_when_it_changed_and_gone_files_leave_the_cache(tmp_path):
    audit = tmp_path / "audit"
    old = write(audit, "2026-12-01", [line(ts="2026-12-01T08:00:00+00:00"), "oops"])
    today = write(audit, "2026-12-02", [line()])
    first = fold(audit, now=NOW)
    cache = audit / ".audit-fold-cache"
    parsed = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    with today.open("a") as f:
        f.write(line(request_id="r9") + "\n")
    second = fold(audit, now=NOW)
    again = {p.name: p.stat().st_mtime_ns for p in cache.iterdir()}
    assert again["audit-2026-12-01.jsonl.rows"] == parsed["audit-2026-12-01.jsonl.rows"]   # not parsed again
    assert again["audit-2026-12-02.jsonl.rows"] != parsed["audit-2026-12-02.jsonl.rows"]
    assert (first.rows, second.rows) == (2, 3) and second.rejected == first.rejected == \
        [{"file": "audit-2026-12-01.jsonl", "line": 2, "reason": "not JSON (Expecting value at column 1)"}]
    old.unlink()
    third = fold(audit, now=NOW)
    assert third.rows == 2 and third.rejected == []
    assert sorted(p.name for p in cache.iterdir()) == ["audit-2026-12-02.jsonl.meta", "audit-2026-12-02.jsonl.rows"]
    assert table(table_path(audit), "select count(*) from api_calls") == [(2,)]


def test_parse_line_reads_what_auditlog_writes():
    row = parse_line(line(ts="2026-12-02T10:15:00Z"))
    assert row["ts"] == "2026-12-02 10:15:00" and row["user_group"] == "analyst"
    with pytest.raises(ValueError, match="status True"):
        parse_line(line(status=True))


def test_the_cli_folds_and_exits_1_on_malformed_lines(serving_dir, tmp_path):
    from tests.api.server import ApiServer

    server = ApiServer(tmp_path / "cli", serving_dir)       # its settings; no server needed
    log = AuditLog(server.audit_dir)
    log.write({"caller": "c", "group": "admin", "endpoint": "load", "status": 200, "rows": 1, "latency_ms": 1.0})
    log.close()
    ok = server.cli("audit-table")
    assert ok.returncode == 0, ok.stderr
    res = json.loads(ok.stdout)
    assert (res["lines"], res["rows"], res["path"]) == (1, 1, str(table_path(server.audit_dir)))
    (server.audit_dir / "audit-2000-01-01.jsonl").write_text("{\n")    # outside the window: listed, not read
    assert server.cli("audit-table").returncode == 0
    with max(server.audit_dir.glob("audit-2*.jsonl")).open("a") as f:
        f.write("garbage\n")
    bad = server.cli("audit-table")
    assert bad.returncode == 1 and "1 malformed audit line" in bad.stderr
    res = json.loads(bad.stdout)
    assert res["outside_window"] == ["audit-2000-01-01.jsonl"]
    assert [(r["line"], r["reason"][:8]) for r in res["rejected"]] == [(2, "not JSON")]


def test_the_running_api_folds_its_own_trail(serving_dir, tmp_path):
    from tests.api.server import ApiServer

    server = ApiServer(tmp_path / "api", serving_dir, env={"FSDP_API_AUDIT_FOLD_SECONDS": "0.5"}).start()
    try:
        c = server.client()
        statuses = [c.load({"measures": ["customers.customer_count"]}, c.auth("admin", sub="folded")).status_code,
                    c.load({"measures": ["customers.customer_count"]}, {}).status_code,
                    c.get("/v2/meta", headers=c.auth("viewer", sub="folded-viewer")).status_code]
        assert statuses == [200, 401, 403]
        db = table_path(server.audit_dir)
        deadline = time.monotonic() + 60
        want = len(server.audit_lines())
        while time.monotonic() < deadline:
            if db.exists() and table(db, "select count(*) from api_calls")[0][0] >= want:
                break
            time.sleep(0.3)
        got = table(db, "select caller, user_group, endpoint, status from api_calls order by ts, line_no")
        assert [(r[0], r[1], r[2], r[3]) for r in got if r[2] in ("load", "meta")] == \
            [("folded", "admin", "load", 200), (None, None, "load", 401), ("folded-viewer", "viewer", "meta", 403)]
        assert os.stat(db).st_mode & 0o777 == 0o640
    finally:
        server.stop()
