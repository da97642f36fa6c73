"""The one module that talks to Soda: runs SodaCL check files on a DuckDB connection and returns
plain results.

Everything Soda-specific (imports, telemetry settings, the scan API, the shape of its result
dictionaries) stays in this file, so moving to another Soda line (Soda Core 4 contracts, Soda
Library) changes this module and nothing else. The rest of ``include.quality`` only sees
``CheckResult`` and ``ScanResult``.

Pinned: soda-core-duckdb 3.5.6 (SodaCL). It declares ``duckdb<1.1.0``; the venv runs DuckDB 2.0.0
through a resolver override (overrides.txt; why in requirements.txt). Soda only sends SQL through
the connection handed to it here, and tests/quality runs every check on that DuckDB.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping, Sequence

SODA_SETTINGS = Path(__file__).with_name("soda_settings.yml")
DATA_SOURCE = "fsdp_duckdb"

# Outcomes as stored in the history: Soda's pass/warn/fail, plus ``error`` for a check Soda could
# not evaluate (missing table or column, SQL error). An error counts as a failure at the gate:
# a check that did not run proves nothing.
PASS, WARN, FAIL, ERROR = "pass", "warn", "fail", "error"

# Diagnostics kept per check: measured value, thresholds, freshness and schema differences.
# Soda's failed-rows blocks are dropped: they can carry customer rows (PII) into the history.
_DIAGNOSTIC_KEYS = (
    "value", "fail", "warn", "freshness", "maxColumnTimestamp", "nowTimestamp",
    # schema checks
    "missing_column_names", "present_column_names", "column_type_mismatches", "column_index_mismatches",
)


@dataclass(frozen=True)
class CheckResult:
    """One SodaCL check's outcome on one dataset (table)."""
    dataset: str
    name: str
    outcome: str                   # pass | warn | fail | error
    column: str | None = None
    value: float | None = None     # the measured metric (count, share, freshness in ms), when numeric
    definition: str = ""
    diagnostics: dict = field(default_factory=dict)

    @property
    def qualified_name(self) -> str:
        return f"{self.dataset}.{self.name}"


@dataclass(frozen=True)
class ScanResult:
    checks: list[CheckResult]
    errors: list[str]              # scan-level errors: unparsable SodaCL, failed queries
    engine: str                    # e.g. "soda-core 3.5.6"


class _AutocommitConnection:
    """The DuckDB connection as Soda should see it. Soda calls ``rollback()`` after a failed query;
    DuckDB in autocommit mode raises "no transaction is active" there, and Soda then abandons the
    whole scan, so one missing column would hide every other check's result (schema included)."""

    def __init__(self, con):
        self._con = con

    def __getattr__(self, name):
        return getattr(self._con, name)

    def rollback(self):
        try:
            self._con.rollback()
        except Exception as exc:  # noqa: BLE001 - duckdb.TransactionException; only that one is expected
            if "no transaction is active" not in str(exc):
                raise


def _load_soda():
    """Import Soda with telemetry off. The settings file must be registered before any other soda
    module is imported: soda creates its telemetry singleton at import time.

    And without its .env loading: every Scan runs ``load_dotenv(override=True)``, which finds the
    ``.env`` above Soda's own package (the checkout's, when the venv is inside it) and writes it over
    the process environment. In a task process that replaced the storage endpoint, ports and paths
    the scripts had resolved (a run with its own Azurite then published into the one named in
    .env). The settings come from the environment the scripts build (.env included, the
    environment winning); python-dotenv's own switch turns Soda's loading off."""
    import os

    os.environ["PYTHON_DOTENV_DISABLED"] = "1"
    from soda.common.config_helper import ConfigHelper

    ConfigHelper.get_instance(str(SODA_SETTINGS))
    from soda.__version__ import SODA_CORE_VERSION
    from soda.scan import Scan

    return Scan, SODA_CORE_VERSION


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _diagnostics(raw: Mapping[str, Any]) -> dict:
    out = {k: raw[k] for k in _DIAGNOSTIC_KEYS if k in raw and raw[k] not in (None, [], {})}
    return out


def _from_soda_dict(d: Mapping[str, Any], outcome: str | None = None) -> CheckResult:
    diagnostics = d.get("diagnostics") or {}
    return CheckResult(
        dataset=d.get("table") or "",
        name=d.get("name") or "",
        outcome=outcome or d.get("outcome") or ERROR,
        column=d.get("column"),
        value=_number(diagnostics.get("value")),
        # Soda's definition text carries the YAML comments that follow the check: drop them
        definition="\n".join(line for line in (d.get("definition") or "").splitlines()
                             if not line.lstrip().startswith("#")).strip(),
        diagnostics=_diagnostics(diagnostics),
    )


def _scan_file(Scan, con, path: Path, variables: Mapping[str, str], scan_name: str) -> tuple[list[CheckResult], list[str]]:
    scan = Scan()
    scan.disable_telemetry()
    scan.set_scan_definition_name(scan_name)
    scan.set_data_source_name(DATA_SOURCE)
    scan.add_duckdb_connection(_AutocommitConnection(con), data_source_name=DATA_SOURCE)
    scan.add_variables(dict(variables))
    scan.add_sodacl_yaml_file(str(path))
    scan.execute()

    results = [_from_soda_dict(d) for d in scan.get_scan_results()["checks"]]
    # build_scan_results() leaves out checks without an outcome (Soda could not evaluate them);
    # the gate must see them, so read them off the scan's check list.
    for check in getattr(scan, "_checks", []):
        if getattr(check, "outcome", None) is not None or getattr(check, "archetype", None) is not None:
            continue
        try:
            result = _from_soda_dict(check.get_dict(), outcome=ERROR)
        except Exception:  # noqa: BLE001 - a half-built check still has to be reported
            result = CheckResult(dataset="", name=str(getattr(check, "name", None) or "unnamed check"), outcome=ERROR)
        if not result.dataset:
            # one file per table (checks/<table>.yml): the file names the dataset
            result = CheckResult(path.stem, result.name, ERROR, result.column, None, result.definition,
                                 result.diagnostics)
        results.append(result)
    errors = [f"{path.name}: {getattr(log, 'message', log)}" for log in scan.get_error_logs()]
    return results, errors


def run_scan(con, check_files: Sequence[Path], variables: Mapping[str, str], scan_name: str,
             schema: str | None = None) -> ScanResult:
    """Run the SodaCL ``check_files`` on the DuckDB connection ``con`` (the caller opens and closes
    it) with ``variables`` substituted for ``${NAME}``; tables resolve in ``schema``. Returns every
    check's result, including checks Soda could not evaluate (outcome ``error``).

    One Soda scan per file, each on its own cursor: Soda evaluates a table's metrics in one query,
    and when that query fails it abandons the whole scan, so a broken table must not blank the
    results of the others."""
    Scan, version = _load_soda()
    checks: list[CheckResult] = []
    errors: list[str] = []
    for path in check_files:
        cursor = con.cursor()
        try:
            if schema:
                cursor.execute(f"set schema = '{schema}'")
            file_checks, file_errors = _scan_file(Scan, cursor, Path(path), variables, scan_name)
        finally:
            cursor.close()
        checks += file_checks
        errors += file_errors
    return ScanResult(checks, errors, f"soda-core {version}")
