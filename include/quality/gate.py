"""The quality gate: SodaCL checks and column profiles of the product tables for one run.

``run_quality`` is the entry point the DAG calls after dbt and before the product is published:

    result = run_quality(db_path, run_id, logical_date, out_dir)
    result.raise_for_failures()     # QualityGateFailed("quality gate FAILED for ...: a.b, c.d")

It reads the warehouse read-only (Soda scan, then profiles), then opens it read-write once to
record the run in ``quality.check_results`` / ``quality.column_profiles``, and writes the same
results as one JSON file per run. Fail-level checks that fail, and checks Soda could not
evaluate, fail the gate; warnings are recorded and reported but let the run go on.
"""
from __future__ import annotations

import json
import logging
import os
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Mapping, Sequence

from include.pipeline import product
from include.quality import history, profiles
from include.quality.soda_runner import ERROR, FAIL, WARN, CheckResult, run_scan

log = logging.getLogger(__name__)

CHECKS_DIR = Path(__file__).with_name("checks")
PRODUCT_SCHEMA = "fs_accelerator"
# the product tables, one checks file each (checks/<table>.yml)
# the product tables are declared once, with their Airflow Assets (include/pipeline/product.py)
PRODUCT_TABLES: tuple[str, ...] = tuple(t.name for t in product.PRODUCT_TABLES)
# checked on every run too, but not profiled: the landing ledger (refused files, unaccounted rows)
LANDING_TABLES: tuple[str, ...] = ("landing_ledger",)
# Share of a day's landed rows the cleansing may reject before the rejected_share checks warn.
DEFAULT_REJECTED_SHARE_WARN = 0.05
# Refused landing files of a day before the refused_files check warns / fails (unset: never fails).
DEFAULT_REFUSED_FILES_WARN = 0
NO_LIMIT = 2_147_483_647


class QualityGateFailed(RuntimeError):
    """A fail-level check failed (or could not run): the product must not be marked healthy."""

    def __init__(self, result: "QualityResult"):
        super().__init__(result.summary())
        self.result = result


@dataclass
class QualityResult:
    run_id: str
    logical_date: date
    checks: list[CheckResult]
    scan_errors: list[str]          # errors outside any one check (Soda scan, profile parameters)
    profiles: int                   # column profiles recorded
    json_path: Path | None
    engine: str = ""
    profile_filter: dict = field(default_factory=dict)

    @property
    def failed(self) -> list[str]:
        """``dataset.check`` names of failed fail-level checks and of checks that could not run."""
        return [c.qualified_name for c in self.checks if c.outcome in (FAIL, ERROR)]

    @property
    def warnings(self) -> list[str]:
        return [c.qualified_name for c in self.checks if c.outcome == WARN]

    @property
    def ok(self) -> bool:
        return not self.failed and not self.scan_errors

    def summary(self) -> str:
        """One line: verdict, counts, and the names of failed (then warned) checks."""
        head = "quality gate PASSED" if self.ok else "quality gate FAILED"
        counts = (f"{len(self.checks)} checks, {len(self.failed)} failed, {len(self.warnings)} warnings"
                  + (f", {len(self.scan_errors)} scan errors" if self.scan_errors else ""))
        line = f"{head} for {self.logical_date.isoformat()} (run {self.run_id}): {counts}"
        if self.failed:
            line += "; failed: " + ", ".join(self.failed)
        if self.scan_errors and not self.failed:
            line += "; scan error: " + self.scan_errors[0].splitlines()[0][:200]
        if self.warnings:
            line += "; warnings: " + ", ".join(self.warnings)
        return line

    def raise_for_failures(self) -> "QualityResult":
        if not self.ok:
            raise QualityGateFailed(self)
        return self

    def as_dict(self) -> dict:
        """Small, JSON-able summary (e.g. an Airflow XCom)."""
        return {"run_id": self.run_id, "logical_date": self.logical_date.isoformat(), "ok": self.ok,
                "checks": len(self.checks), "failed": self.failed, "warnings": self.warnings,
                "scan_errors": self.scan_errors, "profiles": self.profiles,
                "json_path": str(self.json_path) if self.json_path else None}


def scan_variables(logical_date: date, rejected_share_warn: float | None = None) -> dict[str, str]:
    """SodaCL variables of a run. NOW is the end of the logical day (UTC): freshness is judged
    against the day the run processes, not the wall clock, so a backfill of an old date passes
    when that day's data was fresh."""
    now = datetime.combine(logical_date + timedelta(days=1), time(0, 0))
    share = rejected_share_warn if rejected_share_warn is not None else float(
        os.environ.get("FSDP_REJECTED_SHARE_WARN", DEFAULT_REJECTED_SHARE_WARN))
    refused_warn = int(os.environ.get("FSDP_REFUSED_FILES_WARN") or DEFAULT_REFUSED_FILES_WARN)
    refused_fail = int(os.environ.get("FSDP_REFUSED_FILES_FAIL") or NO_LIMIT)
    return {"NOW": now.isoformat(), "LOGICAL_DATE": logical_date.isoformat(), "REJECTED_SHARE_WARN": repr(float(share)),
            "REFUSED_FILES_WARN": str(refused_warn), "REFUSED_FILES_FAIL": str(refused_fail)}


def check_files(tables: Sequence[str] = PRODUCT_TABLES, checks_dir: Path = CHECKS_DIR) -> list[Path]:
    files = [checks_dir / f"{t}.yml" for t in tables]
    missing = [str(f) for f in files if not f.exists()]
    if missing:
        raise FileNotFoundError(f"no checks file for: {', '.join(missing)}")
    return files


def _connect(db_path: Path, read_only: bool):
    import duckdb

    return duckdb.connect(str(db_path), read_only=read_only)


def _as_date(value) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _file_name(run_id: str) -> str:
    # Airflow run ids look like scheduled__2026-01-05T00:00:00+00:00
    return re.sub(r"[^A-Za-z0-9._-]+", "_", run_id).strip("_") or "run"


def _write_json(path: Path, payload: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=str))
    tmp.replace(path)   # atomic on one filesystem: readers never see half a file


def run_quality(db_path: str | Path | None, run_id: str, logical_date: date | datetime | str,
                out_dir: str | Path | None = None, *, tables: Sequence[str] = PRODUCT_TABLES,
                profile: bool = True, profile_filter: Mapping[str, str] | None = None,
                rejected_share_warn: float | None = None, record: bool = True,
                checks_dir: Path = CHECKS_DIR) -> QualityResult:
    """Check and profile the product tables of the DuckDB file ``db_path`` for one run; returns a
    QualityResult (never raises for failed checks: call ``raise_for_failures``).

    * ``out_dir``: where ``<logical_date>/quality_<run_id>.json`` goes (default: the reports dir
      of include.pipeline.settings, subfolder ``quality``).
    * ``profile_filter``: column -> value for an extra filtered profile, e.g. the seed's
      ``profiles.SEED_PROFILE_FILTER`` (``Semi`` is mapped to ``Semi-Urban``).
    * ``record``: write the run into the ``quality`` schema of the same file.
    Raises FileNotFoundError when the DuckDB file does not exist.
    """
    from include.pipeline import settings

    day = _as_date(logical_date)
    db = Path(db_path) if db_path else settings.duckdb_path()
    if not db.exists():
        raise FileNotFoundError(f"DuckDB file {db} does not exist: has dbt run?")
    out = Path(out_dir) if out_dir else settings.reports_dir() / "quality"
    files = check_files(tuple(tables) + tuple(t for t in LANDING_TABLES if t not in tables), checks_dir)
    variables = scan_variables(day, rejected_share_warn)
    started = datetime.now(timezone.utc).replace(tzinfo=None)

    con = _connect(db, read_only=True)
    try:
        scan = run_scan(con, files, variables, scan_name=f"fsdp_quality_{day.isoformat()}", schema=PRODUCT_SCHEMA)
        con.execute(f"set schema = '{PRODUCT_SCHEMA}'")
        column_profiles: list[profiles.ColumnProfile] = []
        errors = list(scan.errors)
        if profile:
            existing = {r[0] for r in con.execute(
                "select table_name from information_schema.tables where table_schema = current_schema()").fetchall()}
            try:
                # a missing table is already a failed check; profile what exists
                column_profiles = profiles.profile_tables(con, [t for t in tables if t in existing], profile_filter)
            except ValueError as exc:   # a profile filter that fits no table: a bad run parameter
                errors.append(f"profile: {exc}")
    finally:
        con.close()

    if record:
        con = _connect(db, read_only=False)
        try:
            history.write_run(con, run_id, day, started, scan.checks, column_profiles, scan.engine)
        finally:
            con.close()

    json_path = out / day.isoformat() / f"quality_{_file_name(run_id)}.json"
    result = QualityResult(run_id=run_id, logical_date=day, checks=scan.checks, scan_errors=errors,
                           profiles=len(column_profiles), json_path=json_path, engine=scan.engine,
                           profile_filter=profiles.normalise_filter(profile_filter))
    _write_json(json_path, {
        "summary": result.as_dict() | {"engine": scan.engine, "variables": variables, "checked_at": started,
                                        "profile_filter": result.profile_filter},
        "checks": [asdict(c) for c in scan.checks],
        "profiles": [p.as_dict() for p in column_profiles],
    })
    (log.info if result.ok else log.error)(result.summary())
    return result
