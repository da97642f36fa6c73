"""The audit trail as a table: every JSON line of ``<audit_dir>/audit-YYYY-MM-DD.jsonl`` folded into
one small DuckDB file, ``<audit_dir>/audit.duckdb``, that the governance dashboard (Superset, its
second database) reads read-only.

    result = fold(audit_dir)            # the window's files; returns what it read and refused
    python -m include.api audit-table   # the same from the command line (prints the result as JSON)

The data API folds on its own every ``FSDP_API_AUDIT_FOLD_SECONDS`` (default 300; 0: never) when
the trail changed, and scripts/dashboards.sh folds once before Superset starts.

Accounting: every complete line of every file in the window is either a row of ``api_calls``
(with its file and line number) or a row of ``audit_rejects`` (file, line number, reason); the
line counts are in ``audit_fold``. A malformed line is reported, never dropped silently. A last
line without its newline is a write still in progress (the writer appends one line per
``write()``): it is left for the next fold and counted as ``pending_bytes``. Files older than the
window are listed in the result as ``outside_window``.

What the table holds: who called (token subject or API key id, group, how they authenticated),
what (method, endpoint, path), the answer (status, error code, rows, latency, the rate-limit
scope that refused it) and which data run served it. Not the query text nor its parameters (filter
values may be customer data) and not the client address: the JSON lines keep those for forensics.

Cost: each trail file is parsed once per change and kept parsed in ``.audit-fold-cache/`` (rows
as JSON lines, counts and rejects), so a fold parses only today's file again and DuckDB reads the
other days' parsed rows; ``python -m include.api audit-table`` prints what it took.

Atomic: the file is written next to its final name and renamed over it (a reader opens the old or
the new file, never half of one); an exclusive ``flock`` on ``audit.duckdb.lock`` keeps two folders
(the API's workers, scripts/dashboards.sh) from writing at once. Pure stdlib + duckdb: Superset's
venv runs it too.
"""
from __future__ import annotations

import fcntl
import json
import math
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

TABLE_FILE = "audit.duckdb"
CACHE_DIR = ".audit-fold-cache"       # per trail file: its parsed rows and counts (see _staged)
CACHE_VERSION = 1
FILE_RE = re.compile(r"^audit-(\d{4}-\d{2}-\d{2})\.jsonl$")
DEFAULT_WINDOW_DAYS = 31
COLUMNS = (   # name, DuckDB type
    ("ts", "TIMESTAMP"), ("day", "DATE"), ("source_file", "VARCHAR"), ("line_no", "BIGINT"),
    ("request_id", "VARCHAR"), ("caller", "VARCHAR"), ("user_group", "VARCHAR"), ("auth", "VARCHAR"),
    ("key_id", "VARCHAR"), ("method", "VARCHAR"), ("endpoint", "VARCHAR"), ("path", "VARCHAR"),
    ("status", "INTEGER"), ("error", "VARCHAR"), ("rows", "BIGINT"), ("latency_ms", "DOUBLE"),
    ("rate_limit_scope", "VARCHAR"), ("data_run_id", "VARCHAR"), ("data_logical_date", "VARCHAR"),
)
TEXT_FIELDS = {"request_id": "request_id", "caller": "caller", "user_group": "group", "auth": "auth",
               "key_id": "key_id", "method": "method", "endpoint": "endpoint", "path": "path", "error": "error",
               "data_run_id": "data_run_id", "data_logical_date": "data_logical_date"}


class AuditTableError(RuntimeError):
    """The trail cannot be folded (folder missing, target not writable)."""


@dataclass
class FoldResult:
    path: str
    folded_at: str
    window_start: str
    files: list[str] = field(default_factory=list)
    outside_window: list[str] = field(default_factory=list)
    lines: int = 0                 # complete lines read in the window's files
    rows: int = 0                  # lines that became rows of api_calls
    rejected: list[dict] = field(default_factory=list)   # {"file", "line", "reason"}
    pending_bytes: int = 0         # an unterminated last line (a write in progress), left for the next fold
    seconds: float = 0.0

    def as_dict(self) -> dict:
        return asdict(self)


def table_path(audit_dir: Path) -> Path:
    return Path(audit_dir) / TABLE_FILE


def parse_line(text: str) -> dict:
    """One audit line -> a row of api_calls (without file and line). ValueError names what is wrong."""
    try:
        record = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValueError(f"not JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(record, dict):
        raise ValueError(f"a JSON {type(record).__name__}, not an object")
    ts_text = record.get("ts")
    if not isinstance(ts_text, str):
        raise ValueError("ts is missing")
    try:
        ts = datetime.fromisoformat(ts_text.replace("Z", "+00:00"))
    except ValueError:
        raise ValueError(f"ts {ts_text[:40]!r} is not an ISO timestamp") from None
    if ts.tzinfo is None:
        raise ValueError(f"ts {ts_text[:40]!r} has no time zone")
    ts = ts.astimezone(timezone.utc).replace(tzinfo=None)
    status = record.get("status")
    if not isinstance(status, int) or isinstance(status, bool) or not 100 <= status <= 599:
        raise ValueError(f"status {status!r} is not an HTTP status")
    rows = record.get("rows")
    if rows is not None and (not isinstance(rows, int) or isinstance(rows, bool) or rows < 0):
        raise ValueError(f"rows {rows!r} is not a count")
    latency = record.get("latency_ms")
    if latency is not None and (not isinstance(latency, (int, float)) or isinstance(latency, bool)
                                or not math.isfinite(latency) or latency < 0):
        raise ValueError(f"latency_ms {latency!r} is not a duration")
    out = {"ts": ts.isoformat(sep=" "), "day": ts.date().isoformat(), "status": status, "rows": rows,
           "latency_ms": float(latency) if latency is not None else None}
    for column, key in TEXT_FIELDS.items():
        value = record.get(key)
        if value is not None and not isinstance(value, (str, int)):
            raise ValueError(f"{key} {str(value)[:40]!r} is not a text")
        out[column] = str(value) if value is not None else None
    limit = record.get("rate_limit")
    scope = limit.get("scope") if isinstance(limit, dict) else None
    # the scope that refused the call (a 429); an allowed call's rate_limit is its remaining budget
    out["rate_limit_scope"] = str(scope) if status == 429 and scope is not None else None
    return out


def _files(audit_dir: Path, start: date) -> tuple[list[Path], list[str]]:
    """The trail's files of the window, and the names of those before it."""
    inside, outside = [], []
    for path in sorted(audit_dir.glob("audit-*.jsonl")):
        m = FILE_RE.match(path.name)
        if m is not None and date.fromisoformat(m.group(1)) >= start:
            inside.append(path)
        else:
            outside.append(path.name)
    return inside, outside


def _staged(path: Path, cache: Path) -> tuple[Path, dict]:
    """One trail file parsed into ``cache/<name>.rows`` (normalised rows, JSON lines) and
    ``cache/<name>.meta`` (its counts and rejects), reused while the file's size and mtime are
    those it was parsed at: a day that is over is parsed once, only today's file again."""
    rows_path, meta_path = cache / f"{path.name}.rows", cache / f"{path.name}.meta"
    st = path.stat()                      # before reading: an append after it changes the stamp
    stamp = [st.st_size, st.st_mtime_ns, st.st_ino]
    try:
        meta = json.loads(meta_path.read_text())
        if meta.get("stamp") == stamp and meta.get("version") == CACHE_VERSION and rows_path.exists():
            return rows_path, meta
    except (FileNotFoundError, ValueError):
        pass
    meta = {"version": CACHE_VERSION, "stamp": stamp, "lines": 0, "rows": 0, "rejected": [], "pending_bytes": 0}
    data = path.read_bytes()
    end = data.rfind(b"\n")              # after it: a line still being written
    meta["pending_bytes"] = len(data) - end - 1
    tmp = rows_path.with_name(rows_path.name + f".{os.getpid()}.tmp")
    with open(tmp, "w") as out:
        for n, raw in enumerate(data[:end].split(b"\n") if end >= 0 else [], start=1):
            meta["lines"] += 1
            try:
                row = parse_line(raw.decode("utf-8"))
            except UnicodeDecodeError:
                meta["rejected"].append({"file": path.name, "line": n, "reason": "not UTF-8"})
                continue
            except ValueError as exc:
                reason = "empty line" if not raw.strip() else str(exc)
                meta["rejected"].append({"file": path.name, "line": n, "reason": reason})
                continue
            out.write(json.dumps({**row, "source_file": path.name, "line_no": n}) + "\n")
            meta["rows"] += 1
    os.chmod(tmp, 0o640)                   # as the trail itself: who called is not for everyone
    os.replace(tmp, rows_path)
    meta_tmp = meta_path.with_name(meta_path.name + f".{os.getpid()}.tmp")
    meta_tmp.write_text(json.dumps(meta))
    os.chmod(meta_tmp, 0o640)
    os.replace(meta_tmp, meta_path)       # after the rows: a meta never describes other rows
    return rows_path, meta


def fold(audit_dir: Path, target: Path | None = None, window_days: int = DEFAULT_WINDOW_DAYS,
         now: datetime | None = None) -> FoldResult:
    """Fold the trail's files of the last ``window_days`` UTC days into ``target`` (audit.duckdb)."""
    import time

    import duckdb

    started = time.monotonic()
    audit_dir = Path(audit_dir)
    if not audit_dir.is_dir():
        raise AuditTableError(f"audit folder {audit_dir} does not exist")
    target = Path(target) if target else table_path(audit_dir)
    now = now or datetime.now(timezone.utc)
    start = (now - timedelta(days=window_days - 1)).date()
    result = FoldResult(str(target), now.isoformat(timespec="seconds"), start.isoformat())
    target.parent.mkdir(parents=True, exist_ok=True)
    with open(target.with_name(target.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        files, result.outside_window = _files(audit_dir, start)
        cache = target.parent / CACHE_DIR
        cache.mkdir(mode=0o750, exist_ok=True)
        staged = [_staged(path, cache) for path in files]
        for path, (_, meta) in zip(files, staged):
            result.files.append(path.name)
            result.lines += meta["lines"]
            result.rows += meta["rows"]
            result.rejected += meta["rejected"]
            result.pending_bytes += meta["pending_bytes"]
        for old in cache.iterdir():       # files that left the window (or the trail)
            if old.name.split(".jsonl", 1)[0] + ".jsonl" not in result.files:
                old.unlink(missing_ok=True)
        tmp_db = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            tmp_db.unlink(missing_ok=True)
            con = duckdb.connect(str(tmp_db))
            try:
                cols = ", ".join(f'"{c}" {t}' for c, t in COLUMNS)
                con.execute(f"create table api_calls ({cols})")
                row_files = [str(rows) for rows, meta in staged if meta["rows"]]
                if row_files:
                    spec = ", ".join(f"'{c}': '{t}'" for c, t in COLUMNS)
                    names = ", ".join(f'"{c}"' for c, _ in COLUMNS)
                    con.execute(f"insert into api_calls select {names} from read_json(?, format='newline_delimited', "
                                f"columns={{{spec}}})", [row_files])
                con.execute("create table audit_rejects (source_file VARCHAR, line_no BIGINT, reason VARCHAR)")
                if result.rejected:
                    con.executemany("insert into audit_rejects values (?, ?, ?)",
                                    [(r["file"], r["line"], r["reason"]) for r in result.rejected])
                con.execute("create table audit_fold (folded_at TIMESTAMP, window_start DATE, files INTEGER, "
                            "lines BIGINT, row_count BIGINT, rejected BIGINT, pending_bytes BIGINT)")
                con.execute("insert into audit_fold values (?, ?, ?, ?, ?, ?, ?)",
                            [now.astimezone(timezone.utc).replace(tzinfo=None), start, len(result.files),
                             result.lines, result.rows, len(result.rejected), result.pending_bytes])
                (loaded,) = con.execute("select count(*) from api_calls").fetchone()
                if loaded != result.rows:
                    raise AuditTableError(f"api_calls holds {loaded} rows, {result.rows} lines were valid")
                con.execute("checkpoint")
            finally:
                con.close()
            os.chmod(tmp_db, 0o640)
            os.replace(tmp_db, target)        # readers see the old file or the new one
        finally:
            tmp_db.unlink(missing_ok=True)
            Path(str(tmp_db) + ".wal").unlink(missing_ok=True)
    result.seconds = round(time.monotonic() - started, 3)
    return result


def trail_stamp(audit_dir: Path) -> tuple:
    """Changes whenever a line is appended to (or a file added to) the trail."""
    out = []
    for path in sorted(Path(audit_dir).glob("audit-*.jsonl")):
        try:
            st = path.stat()
        except FileNotFoundError:
            continue
        out.append((path.name, st.st_size, st.st_mtime_ns))
    return tuple(out)


class Folder:
    """The API's background fold: every ``interval_s`` seconds, when the trail changed."""

    def __init__(self, audit_dir: Path, interval_s: float, window_days: int = DEFAULT_WINDOW_DAYS):
        import threading

        self.audit_dir, self.interval_s, self.window_days = Path(audit_dir), interval_s, window_days
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="audit-fold", daemon=True)
        self._last: tuple | None = None
        self.last_result: FoldResult | None = None

    def start(self) -> "Folder":
        if self.interval_s > 0:
            self._thread.start()
        return self

    def fold_if_changed(self) -> FoldResult | None:
        stamp = trail_stamp(self.audit_dir)
        if stamp == self._last and table_path(self.audit_dir).exists():
            return None
        self.last_result = fold(self.audit_dir, window_days=self.window_days)
        self._last = stamp
        return self.last_result

    def _run(self) -> None:
        import logging

        log = logging.getLogger("fsdp.api.audit")
        while not self._stop.wait(self.interval_s):
            try:
                res = self.fold_if_changed()
                if res is not None and res.rejected:
                    log.warning("audit fold: %d malformed line(s), first: %s", len(res.rejected), res.rejected[0])
            except Exception:  # noqa: BLE001 - the next round tries again; the API keeps serving
                log.exception("audit fold failed")

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(10)


def main(argv: list[str] | None = None) -> int:
    """python -m include.api.audit_table [--audit-dir DIR] [--days N]: fold once, print the result."""
    import argparse

    parser = argparse.ArgumentParser(prog="python -m include.api.audit_table", description=main.__doc__)
    parser.add_argument("--audit-dir", type=Path, default=None, help="default FSDP_API_AUDIT_DIR or .local/api/audit")
    parser.add_argument("--days", type=int, default=DEFAULT_WINDOW_DAYS)
    args = parser.parse_args(argv)
    audit_dir = args.audit_dir or default_audit_dir()
    audit_dir.mkdir(parents=True, exist_ok=True)
    res = fold(audit_dir, window_days=args.days)
    print(json.dumps(res.as_dict()))
    return 0


def default_audit_dir() -> Path:
    """FSDP_API_AUDIT_DIR, else .local/api/audit (as include.api.settings; no import of the API here)."""
    value = os.environ.get("FSDP_API_AUDIT_DIR")
    root = Path(__file__).resolve().parents[2]
    return Path(value).expanduser().resolve() if value else root / ".local" / "api" / "audit"


if __name__ == "__main__":
    raise SystemExit(main())
