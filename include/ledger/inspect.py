"""Inspection of one landed file: its path, bytes, header and CSV structure against the landing
contract, and its rows and checksum against its folder's manifest.

``inspect_file`` returns an :class:`Inspection` (one row of the landing ledger) and, for an accepted
part, writes its rows to a local *spool* Parquet file from which the raw models read them. The
rows are parsed by DuckDB's own CSV reader in strict mode (so the warehouse and the check can never
disagree about a file), columns are taken by name from the file's header, and each row keeps its
position in the file (Parquet row order, read back as ``file_row_number``).

The policy (what is accepted, what each refusal means) is written in include/ledger/README.md.
"""
from __future__ import annotations

import csv
import difflib
import hashlib
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from include.ledger.paths import LandingPath, compression
from include.mockgen.schema import CONTROL_CHARACTERS as CONTROL_PATTERN  # RE2, the pattern of dbt's rules

ACCEPTED, REFUSED = "accepted", "refused"

# refusal reason -> what a person does about it
REASONS: dict[str, str] = {
    "unexpected_path": "move the file to <entity>/dt=<YYYY-MM-DD>/<name>.csv",
    "unknown_entity": "land it under the folder of a contract entity, or declare the entity",
    "folder_not_a_date": "land it under dt=<YYYY-MM-DD> with a real date",
    "not_a_csv_file": "land plain .csv parts (and the folder's _manifest.json) only",
    "empty_file": "the file has no bytes at all, not even a header: land it again",
    "compressed": "land the file uncompressed, as plain UTF-8 CSV",
    "not_utf8": "land the file UTF-8 encoded",
    "header_mismatch": "the header must name every contract column once, nothing else",
    "csv_parse_error": "fix the CSV line named (quotes, field count) and land the file again",
    "manifest_missing": "land the folder's _manifest.json (written last, after every part)",
    "manifest_invalid": "land a _manifest.json that is JSON with the parts, their rows and sha256",
    "not_in_manifest": "list the part in the folder's _manifest.json, or remove the file",
    "manifest_mismatch": "the file is not what its manifest describes: land both again",
    "manifest_lists_missing_files": "the manifest lists parts the folder does not have: land them",
}
# refusals that a new version of the folder's manifest may cure: re-inspected when it changes
MANIFEST_REASONS = ("manifest_missing", "manifest_invalid", "not_in_manifest", "manifest_mismatch")

# C0 controls except LF and CR (line ends; a CR or LF inside a value is caught by the line count
# and CR checks below), DEL. A file with none of them (and no C1 control) needs no per-row check.
_NON_CONTROL = bytes(b for b in range(256) if not ((b < 0x20 and b not in (0x0A, 0x0D)) or b == 0x7F))
_C1 = tuple(b"\xc2" + bytes([b]) for b in range(0x80, 0xA0))


class CsvError(Exception):
    def __init__(self, line: int | None, message: str):
        super().__init__(message)
        self.line, self.message = line, message


@dataclass
class Manifest:
    """A folder's ``_manifest.json``: ``parts`` maps a container-relative path to its entry."""

    path: str
    version: str | None
    parts: dict[str, dict] = field(default_factory=dict)
    entity: str | None = None
    logical_date: str | None = None
    rows: int | None = None
    error: str | None = None


def parse_manifest(path: str, version: str | None, data: bytes) -> Manifest:
    """The manifest in ``data``, or one with ``error`` set saying what is wrong with it."""
    try:
        doc = json.loads(data.decode("utf-8"))
        if not isinstance(doc, dict) or not isinstance(doc.get("parts"), list):
            raise ValueError("no list of parts")
        parts = {}
        for entry in doc["parts"]:
            if not isinstance(entry, dict) or not isinstance(entry.get("path"), str):
                raise ValueError("a part without a path")
            for key in ("rows", "sha256"):
                if key not in entry:
                    raise ValueError(f"part {entry['path']} has no {key}")
            if not isinstance(entry["rows"], int) or isinstance(entry["rows"], bool) or entry["rows"] < 0:
                raise ValueError(f"part {entry['path']}: rows is not a count")
            parts[entry["path"]] = entry
        rows = doc.get("rows")
        return Manifest(path, version, parts, doc.get("entity"), doc.get("logical_date"),
                        rows if isinstance(rows, int) else None)
    except (UnicodeDecodeError, ValueError) as exc:  # json.JSONDecodeError is a ValueError
        return Manifest(path, version, error=f"{path} is not a valid manifest: {str(exc).splitlines()[0][:160]}")


@dataclass
class Inspection:
    """One registration in the landing ledger."""

    file: str                      # URL as the raw models name it (abfs://landing/<path>, or a local path)
    path: str                      # container-relative path
    file_version: str              # blob ETag (local: size-mtime)
    entity: str | None
    folder: str | None
    landed_date: str | None        # ISO date of the dt= folder
    kind: str                      # part | manifest | other
    size_bytes: int | None = None
    sha256: str | None = None
    header: str | None = None      # the header line as landed (text)
    rows: int | None = None        # data rows (parsed; best effort for files that do not parse)
    outcome: str = REFUSED
    reason: str | None = None
    detail: str | None = None
    notes: str | None = None       # accepted with remarks (columns reordered, byte-order mark)
    manifest_file: str | None = None
    manifest_version: str | None = None
    manifest_rows: int | None = None
    manifest_sha256: str | None = None
    has_control_characters: bool | None = None
    spool: str | None = None       # local Parquet of the rows (accepted parts)

    def refuse(self, reason: str, detail: str) -> "Inspection":
        self.outcome, self.reason, self.detail = REFUSED, reason, detail
        return self

    def as_dict(self) -> dict:
        return asdict(self)


# --------------------------------------------------------------------------------- header

def split_header(data: bytes) -> tuple[bytes, bool]:
    """The header line's bytes (no line end) and whether a UTF-8 byte-order mark preceded it."""
    bom = data.startswith(b"\xef\xbb\xbf")
    body = data[3:] if bom else data
    ends = [i for i in (body.find(b"\n"), body.find(b"\r")) if i >= 0]
    return (body[:min(ends)] if ends else body), bom


def check_header(names: list[str], contract: list[str]) -> tuple[str | None, str | None]:
    """(refusal detail, note) of a header against the contract's columns: every contract column
    exactly once, no other column; another order is accepted (columns are read by name)."""
    problems = []
    if len(names) == 1 and len(contract) > 1:
        for delim, label in ((";", "semicolons"), ("\t", "tabs"), ("|", "pipes")):
            if delim in names[0]:
                return (f"the header has one column; the file looks delimited by {label}, the contract's "
                        f"delimiter is a comma", None)
    empty = [i + 1 for i, n in enumerate(names) if n == ""]
    if empty:
        problems.append("empty column name at position " + ", ".join(map(str, empty)))
    duplicates = sorted({n for n in names if n and names.count(n) > 1})
    if duplicates:
        problems.append("duplicate columns: " + ", ".join(duplicates))
    missing = [c for c in contract if c not in names]
    extra = [n for n in names if n and n not in contract]
    if missing:
        problems.append("missing columns: " + ", ".join(missing))
    if extra:
        problems.append("extra columns: " + ", ".join(extra))
        hints = []
        for name in extra:
            close = difflib.get_close_matches(name.strip().lower(), [m.lower() for m in missing], n=1, cutoff=0.75)
            if close:
                hints.append(f"{name!r} -> {next(m for m in missing if m.lower() == close[0])!r}")
        if hints:
            problems.append("renamed? " + ", ".join(hints) + " (names match exactly, case and blanks included)")
    if problems:
        return "; ".join(problems), None
    if names != contract:
        moved = [n for i, n in enumerate(names) if contract[i] != n]
        return None, f"columns in another order than the contract ({', '.join(moved[:5])}{' ...' if len(moved) > 5 else ''}); read by name"
    return None, None


# ------------------------------------------------------------------------------- contents

def line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def utf8_problem(data: bytes) -> str | None:
    """Where ``data`` stops being UTF-8, as a sentence; None when it is UTF-8."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        return "the file is UTF-16 encoded (byte-order mark at the start)"
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return (f"byte 0x{data[exc.start]:02X} at offset {exc.start} (line {line_of(data, exc.start)}) is not "
                f"valid UTF-8 (latin-1 or cp1252 text?)")
    return None


def physical_rows(data: bytes) -> int:
    """Non-blank lines after the header: the row count of a file that cannot be parsed (read as
    UTF-16 when it looks like it: a byte-order mark, or NUL bytes every other byte)."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")) or (len(data) > 3 and data[1:4:2] == b"\x00\x00"):
        text = data.decode("utf-16" if data[:2] in (b"\xff\xfe", b"\xfe\xff") else "utf-16-le", "replace")
        lines = [line for line in text.splitlines() if line.strip()]
    else:
        lines = [line for line in data.splitlines() if line.strip()]
    return max(len(lines) - 1, 0)


def may_hold_control_characters(data: bytes) -> bool:
    """False when no value of the file can hold a control character (the common case, checked at
    memory speed); True means the rows must be checked one by one."""
    if data.translate(None, _NON_CONTROL):
        return True
    if b"\xc2" in data and any(c1 in data for c1 in _C1):
        return True
    return data.count(b"\r") != data.count(b"\r\n")


def _sql_string(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


_KNOWN_CSV_ERRORS = (
    (re.compile(r"Expected Number of Columns: (\d+) Found: (\d+)"), lambda m: f"expected {m[1]} fields, found {m[2]}"),
    (re.compile(r"unterminated quote", re.I), lambda m: "a quoted value is not closed, or text follows its closing quote"),
    (re.compile(r"Maximum line size", re.I), lambda m: "the line is longer than the reader's maximum line size"),
    (re.compile(r"Invalid unicode", re.I), lambda m: "not valid UTF-8"),
    (re.compile(r"state machine reached an invalid state", re.I), lambda m: "not RFC 4180 CSV"),
)


def _duckdb_csv_error(message: str) -> CsvError:
    """DuckDB's multi-line CSV error as (line, one sentence with the start of the line's text)."""
    line = re.search(r"CSV Error on Line: (\d+)", message)
    reason = next((say(m) for pattern, say in _KNOWN_CSV_ERRORS if (m := pattern.search(message))), None)
    if reason is None:
        candidates = [x.strip() for x in message.split("Original Line:", 1)[-1].split("\n\n")[1:2]]
        reason = (candidates[0].splitlines()[0] if candidates and candidates[0] else
                  message.splitlines()[0].replace("Invalid Input Error: ", ""))
    original = re.search(r"Original Line: ([^\n]*)", message)
    text = reason.rstrip(".")
    if original:
        text += f" (line text: {original.group(1)[:120]})"
    return CsvError(int(line.group(1)) if line else None, text)


def parse_to_spool(csv_path: str, names: list[str], contract: list[str], constants: dict[str, object],
                   spool_path: str, check_controls: bool) -> int:
    """Parse the CSV at ``csv_path`` (header ``names``) with DuckDB in strict mode and write its
    rows to ``spool_path`` (Parquet): the contract's columns by name, in contract order, as text,
    ``_has_control_characters`` and the ``constants`` columns. Returns the row count; raises
    CsvError for a malformed file."""
    import duckdb

    types = "{" + ", ".join(f"{_sql_string(n)}: 'VARCHAR'" for n in names) + "}"
    source = (f"read_csv({_sql_string(csv_path)}, columns = {types}, header = true, auto_detect = false, "
              f"delim = ',', quote = '\"', escape = '\"', strict_mode = true, null_padding = false)")
    columns = ", ".join(f"{_ident(c)}" for c in contract)
    if check_controls:
        flag = (f"coalesce(regexp_matches(concat_ws('', {columns}), {_sql_string(CONTROL_PATTERN)}), false)")
    else:
        flag = "false"
    consts = ", ".join(
        (f"cast({_sql_string(str(v))} as date)" if k == "_landed_date" else _sql_string(str(v))) + f" as {k}"
        for k, v in constants.items())
    con = duckdb.connect()
    try:
        con.execute("set preserve_insertion_order = true")  # Parquet row order = file order
        rows = con.execute(f"copy (select {columns}, {flag} as _has_control_characters, {consts} from {source}) "
                           f"to {_sql_string(spool_path)} (format parquet, compression snappy)").fetchone()[0]
    except duckdb.Error as exc:
        raise _duckdb_csv_error(str(exc)) from None
    finally:
        con.close()
    return int(rows)


# ------------------------------------------------------------------------------ inspection

def inspect_file(lp: LandingPath, url: str, version: str, data: bytes | None, contracts: dict[str, list[str]],
                 manifest: Manifest | None, spool_dir: str | os.PathLike, folder_paths: set[str] = frozenset(),
                 check_manifest: bool = True) -> Inspection:
    """Register one blob: ``data`` its bytes, ``contracts`` entity -> contract columns, ``manifest`` the
    folder's manifest (None when the folder has none), ``folder_paths`` every path of the folder (to
    check a manifest's parts exist). Accepted parts get ``spool`` set. ``check_manifest`` False
    re-creates the spool of a part registered before, whatever its folder's manifest says now."""
    ins = Inspection(url, lp.path, version, lp.entity, lp.folder,
                     lp.landed_date.isoformat() if lp.landed_date else None, lp.kind)
    if data is not None:
        ins.size_bytes, ins.sha256 = len(data), hashlib.sha256(data).hexdigest()
    if lp.kind == "part" and lp.manifest_path:
        ins.manifest_file = lp.manifest_path
        if manifest is not None:
            ins.manifest_version = manifest.version
            entry = manifest.parts.get(lp.path)
            if entry:
                ins.manifest_rows, ins.manifest_sha256 = entry.get("rows"), entry.get("sha256")
    if lp.reason:
        if data and lp.kind == "part":  # a .csv in the wrong place: its rows count as refused
            ins.rows = physical_rows(data)
        return ins.refuse(lp.reason, lp.detail)
    if lp.kind == "manifest":
        return _inspect_manifest(ins, lp, data or b"", folder_paths)
    return _inspect_part(ins, lp, data, contracts[lp.entity], manifest, Path(spool_dir), check_manifest)


def _inspect_manifest(ins: Inspection, lp: LandingPath, data: bytes, folder_paths: set[str]) -> Inspection:
    manifest = parse_manifest(lp.path, ins.file_version, data)
    if manifest.error:
        return ins.refuse("manifest_invalid", manifest.error)
    ins.manifest_rows = sum(int(e["rows"]) for e in manifest.parts.values())
    problems = []
    if manifest.entity not in (None, lp.entity):
        problems.append(f"it names entity {manifest.entity!r}, the folder is {lp.entity!r}")
    if manifest.logical_date not in (None, lp.landed_date.isoformat()):
        problems.append(f"it names logical date {manifest.logical_date}, the folder is {lp.folder}")
    if problems:
        return ins.refuse("manifest_mismatch", "; ".join(problems))
    missing = sorted(p for p in manifest.parts if p not in folder_paths)
    if missing:
        return ins.refuse("manifest_lists_missing_files",
                          f"{len(missing)} listed part(s) not in the container: {', '.join(missing[:5])}")
    ins.outcome = ACCEPTED
    return ins


def _inspect_part(ins: Inspection, lp: LandingPath, data: bytes, contract: list[str], manifest: Manifest | None,
                  spool_dir: Path, check_manifest: bool = True) -> Inspection:
    if not data:
        ins.rows = 0
        return ins.refuse("empty_file", "0 bytes: no header line")
    packed = compression(data)
    if packed:
        return ins.refuse("compressed", f"the content is {packed} (magic bytes {data[:4].hex(' ')}), not CSV text")
    line, bom = split_header(data)
    if b"\x00" in line:
        ins.rows = physical_rows(data)
        return ins.refuse("not_utf8", "NUL bytes in the header line: the file looks UTF-16 encoded")
    try:
        header_text = line.decode("utf-8")
    except UnicodeDecodeError:
        ins.header = line.decode("utf-8", "replace")
        ins.rows = physical_rows(data)
        return ins.refuse("not_utf8", utf8_problem(data) or "the header line is not UTF-8")
    ins.header = header_text
    names = next(csv.reader([header_text]), [])
    problem, note = check_header(names, contract)
    notes = [note] if note else []
    if bom:
        notes.append("UTF-8 byte-order mark at the start (skipped)")
    if problem:
        ins.rows = physical_rows(data)
        return ins.refuse("header_mismatch", problem)
    ins.notes = "; ".join(notes) or None

    spool_dir.mkdir(parents=True, exist_ok=True)
    spool = spool_dir / spool_name(ins.file, ins.file_version)
    constants = {"_source_file": ins.file, "_source_file_version": ins.file_version,
                 "_landed_date": ins.landed_date, "_landing_entity": lp.entity}
    check_controls = may_hold_control_characters(data)
    fd, csv_path = tempfile.mkstemp(prefix="fsdp-landing-", suffix=".csv", dir=spool_dir)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        try:
            rows = parse_to_spool(csv_path, names, contract, constants, str(spool) + ".tmp", check_controls)
            # a value holding a line break makes the file's line count exceed its rows
            if not check_controls and rows != _line_rows(data):
                check_controls = True
                rows = parse_to_spool(csv_path, names, contract, constants, str(spool) + ".tmp", True)
        except CsvError as exc:
            ins.rows = physical_rows(data)
            if "unicode" in exc.message.lower() or "utf-8" in exc.message.lower():
                return ins.refuse("not_utf8", utf8_problem(data) or exc.message)
            where = f"line {exc.line}: " if exc.line else ""
            crlf, lf = data.count(b"\r\n"), data.count(b"\n")
            if exc.line is None and 0 < crlf < lf:
                bare = next(i for i, line in enumerate(data.split(b"\n"), start=1) if not line.endswith(b"\r"))
                return ins.refuse("csv_parse_error", f"mixed line ends: {crlf} lines end in CRLF, {lf - crlf} in LF "
                                                     f"(the first LF-only line is line {bare})")
            return ins.refuse("csv_parse_error", where + exc.message)
    finally:
        os.unlink(csv_path)
    ins.rows, ins.has_control_characters = rows, check_controls
    refusal = _manifest_problem(ins, lp, manifest) if check_manifest else None
    if refusal:
        os.unlink(str(spool) + ".tmp")
        return ins.refuse(*refusal)
    os.replace(str(spool) + ".tmp", spool)
    ins.spool, ins.outcome = str(spool), ACCEPTED
    return ins


def _line_rows(data: bytes) -> int:
    return data.count(b"\n") + (0 if data.endswith(b"\n") else 1) - 1


def _manifest_problem(ins: Inspection, lp: LandingPath, manifest: Manifest | None) -> tuple[str, str] | None:
    if manifest is None:
        return ("manifest_missing", f"no {lp.manifest_path} in the container: the folder's landing is "
                                    f"incomplete, or its source writes no manifest")
    if manifest.error:
        return "manifest_invalid", manifest.error
    entry = manifest.parts.get(lp.path)
    if entry is None:
        listed = ", ".join(sorted(p.rsplit("/", 1)[-1] for p in manifest.parts)[:5]) or "no parts"
        return "not_in_manifest", f"the folder's manifest lists {listed}, not {lp.path.rsplit('/', 1)[-1]}"
    problems = []
    if int(entry["rows"]) != ins.rows:
        problems.append(f"the manifest says {entry['rows']} rows, the file has {ins.rows}")
    if str(entry["sha256"]).lower() != ins.sha256:
        problems.append(f"sha256 differs (manifest {str(entry['sha256'])[:12]}..., file {ins.sha256[:12]}...)")
    if "bytes" in entry and entry["bytes"] != ins.size_bytes:
        problems.append(f"the manifest says {entry['bytes']} bytes, the file has {ins.size_bytes}")
    return ("manifest_mismatch", "; ".join(problems)) if problems else None


def spool_name(file: str, version: str) -> str:
    return hashlib.sha256(f"{file}\n{version}".encode()).hexdigest()[:40] + ".parquet"
