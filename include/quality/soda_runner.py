"""The one module that talks to Soda: runs SodaCL check files on a DuckDB connection and returns
plain results.

Everything Soda-specific (imports, telemetry settings, the scan API, the shape of its result
dictionaries) stays in this file, so moving to another Soda line (Soda Core 4 contracts, Soda
Library) changes this module and nothing else. The rest of ``include.quality`` only sees
``CheckResult`` and ``ScanResult``.

Pinned: soda-core-duckdb 3.5.6 (SodaCL). It declares ``duckdb<1.1.0``, which is why the whole
venv runs DuckDB 1.0.0 (requirements.txt).
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
    "schema_missing_column_names", "schema_present_column_names", "schema_column_type_mismatches",
    "schema_column_index_mismatches", "schemaMeasured",
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


def _load_soda():
    """Import Soda with telemetry off. The settings file must be registered before any other soda
    module is imported: soda creates its telemetry singleton at import time."""
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
        definition=(d.get("definition") or "").strip(),
        diagnostics=_diagnostics(diagnostics),
    )


def run_scan(con, check_files: Sequence[Path], variables: Mapping[str, str], scan_name: str) -> ScanResult:
    """Run the SodaCL ``check_files`` on the DuckDB connection ``con`` (the caller opens and closes
    it; its default schema must hold the tables the files name) with ``variables`` substituted for
    ``${NAME}``. Returns every check's result, including checks Soda could not evaluate."""
    Scan, version = _load_soda()
    scan = Scan()
    scan.disable_telemetry()
    scan.set_scan_definition_name(scan_name)
    scan.set_data_source_name(DATA_SOURCE)
    scan.add_duckdb_connection(con, data_source_name=DATA_SOURCE)
    scan.add_variables(dict(variables))
    for path in check_files:
        scan.add_sodacl_yaml_file(str(path))
    scan.execute()

    results = [_from_soda_dict(d) for d in scan.get_scan_results()["checks"]]
    # build_scan_results() leaves out checks without an outcome (Soda could not evaluate them);
    # the gate must see them, so read them off the scan's check list.
    for check in getattr(scan, "_checks", []):
        if getattr(check, "outcome", None) is None and getattr(check, "archetype", None) is None:
            try:
                results.append(_from_soda_dict(check.get_dict(), outcome=ERROR))
            except Exception:  # noqa: BLE001 - a half-built check still has to be reported
                results.append(CheckResult(dataset="", name=str(getattr(check, "name", "unknown check")),
                                           outcome=ERROR))
    errors = [log.message if hasattr(log, "message") else str(log) for log in scan.get_error_logs()]
    return ScanResult(results, errors, f"soda-core {version}")
