"""The models stay portable (profiles.yml documents a Trino target): engine-specific SQL lives only
in dbt_project/macros/adapters/, behind adapter.dispatch."""
from __future__ import annotations

import re
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2] / "dbt_project"
# DuckDB-only functions and syntax, and the fsdp_blob plugin's functions (lower case: an env_var name such as
# FSDP_LOGICAL_DATE is portable)
DUCKDB_ONLY = re.compile(r"\b(read_csv|read_parquet|list_filter|list_concat|regexp_matches|regexp_full_match|"
                         r"(?-i:fsdp_)\w+|qualify|exclude\s*\(|replace\s*\()", re.IGNORECASE)


def test_models_and_shared_macros_use_no_duckdb_only_sql():
    offenders = []
    for path in sorted(PROJECT.glob("models/**/*.sql")) + sorted(PROJECT.glob("macros/*.sql")) \
            + sorted(PROJECT.glob("macros/cleansing/*.sql")) + sorted(PROJECT.glob("tests/**/*.sql")):
        text = re.sub(r"\{#.*?#\}", "", path.read_text(), flags=re.DOTALL)  # comments may name them
        offenders += [f"{path.relative_to(PROJECT)}: {m.group(0)}" for m in DUCKDB_ONLY.finditer(text)]
    assert not offenders


def test_every_dispatched_macro_has_a_default_implementation():
    text = "\n".join(p.read_text() for p in PROJECT.glob("macros/adapters/*.sql"))
    dispatched = set(re.findall(r"adapter\.dispatch\('(\w+)'", text))
    defaults = set(re.findall(r"macro default__(\w+)\(", text))
    assert dispatched and dispatched <= defaults
