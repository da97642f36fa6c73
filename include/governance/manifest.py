"""Column tags from the dbt manifest: the one place they are declared (dbt column ``tags``).

Masking, the catalog and docs all read them from ``target/manifest.json``; when the manifest is
missing, ``dbt parse`` writes it (parsing needs no warehouse connection).
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from include.governance.errors import GovernanceError

ROOT = Path(__file__).resolve().parents[2]
DBT_PROJECT_DIR = ROOT / "dbt_project"
DEFAULT_MANIFEST = DBT_PROJECT_DIR / "target" / "manifest.json"


@dataclass(frozen=True)
class ModelColumns:
    """One dbt model: where it lives in the warehouse and the tags of each documented column."""

    name: str
    schema: str
    alias: str
    column_tags: dict[str, frozenset[str]]  # lower-cased column name -> tags (maybe empty)


def load_manifest(path: str | os.PathLike | None = None, project_dir: Path = DBT_PROJECT_DIR) -> dict:
    """The parsed manifest at ``path`` (default: the project's), running ``dbt parse`` if it is missing."""
    manifest = Path(path) if path else project_dir / "target" / "manifest.json"
    if not manifest.exists():
        # only the project's own manifest can be produced here; any other path is a caller's typo
        own = (project_dir / "target" / "manifest.json").resolve()
        if manifest.resolve() != own or not (project_dir / "dbt_project.yml").exists():
            raise GovernanceError(f"dbt manifest not found: {manifest} (run dbt parse or dbt build first)")
        run_dbt_parse(project_dir)
    try:
        return json.loads(manifest.read_text())
    except (OSError, ValueError) as exc:
        raise GovernanceError(f"cannot read dbt manifest {manifest}: {exc}") from None


def run_dbt_parse(project_dir: Path = DBT_PROJECT_DIR) -> None:
    """Write ``target/manifest.json`` with ``dbt parse`` (the venv's dbt, the project's profiles.yml)."""
    dbt = Path(sys.executable).with_name("dbt")
    exe = str(dbt) if dbt.exists() else shutil.which("dbt")
    if not exe:
        raise GovernanceError("dbt manifest missing and no dbt executable found to run dbt parse")
    cmd = [exe, "parse", "--project-dir", str(project_dir)]
    if (project_dir / "profiles.yml").exists() and "DBT_PROFILES_DIR" not in os.environ:
        cmd += ["--profiles-dir", str(project_dir)]
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=project_dir)
    if done.returncode != 0:
        lines = [ln for ln in (done.stdout + done.stderr).splitlines() if ln.strip()]
        raise GovernanceError(f"dbt parse failed: {lines[-1] if lines else 'no output'}")


def all_column_tags(manifest: dict) -> dict[str, list[str]]:
    """Every column tag any dbt node carries -> the ``model.column`` names carrying it."""
    found: dict[str, list[str]] = {}
    for node in manifest.get("nodes", {}).values():
        for col_name, col in (node.get("columns") or {}).items():
            for tag in col.get("tags") or []:
                found.setdefault(tag, []).append(f"{node.get('name')}.{col_name}")
    return found


def model_columns(manifest: dict, model: str) -> ModelColumns:
    """The model named ``model`` (preferring the root project's, as dbt does) and its column tags."""
    nodes = [n for n in manifest.get("nodes", {}).values()
             if n.get("resource_type") == "model" and n.get("name") == model]
    project = (manifest.get("metadata") or {}).get("project_name")
    if len(nodes) > 1:
        nodes = [n for n in nodes if n.get("package_name") == project]
    if len(nodes) != 1:
        raise GovernanceError(f"model '{model}' not found in the dbt manifest" if not nodes
                              else f"model '{model}' is ambiguous in the dbt manifest")
    node = nodes[0]
    tags = {name.lower(): frozenset(col.get("tags") or []) for name, col in (node.get("columns") or {}).items()}
    return ModelColumns(name=model, schema=node["schema"], alias=node.get("alias") or model, column_tags=tags)
