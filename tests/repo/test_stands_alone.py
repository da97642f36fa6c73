"""The repository stands alone: a user who clones it needs nothing outside it, and every decision
id the code and docs cite (D1, D2, ...) is explained on the reference design page."""
from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DESIGN = ROOT / "docs" / "reference-design.md"
# what a session workspace or a sibling checkout looks like from inside the repository
OUTSIDE = re.compile(r"\.\./shared|/work/|SEED_NOTES|STACK\.md|seeds/0\d\d_")
DECISION = re.compile(r"\bD(1[0-5]|[1-9])\b")
BINARY = {".png", ".jpg", ".jpeg", ".gif", ".ico", ".parquet", ".duckdb"}


def _tracked_files() -> list[Path]:
    try:
        out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
        names = [n for n in out.decode().split("\0") if n]
    except (OSError, subprocess.CalledProcessError):  # an exported tree without .git
        names = [str(p.relative_to(ROOT)) for p in ROOT.rglob("*") if p.is_file()
                 and not any(part.startswith((".venv", ".local", "node_modules", ".git")) for part in p.parts)]
    return [ROOT / n for n in names if (ROOT / n).suffix not in BINARY and (ROOT / n).is_file()]


def _text(path: Path) -> str:
    try:
        return path.read_text()
    except UnicodeDecodeError:
        return ""


def test_no_file_refers_to_anything_outside_the_repository():
    me = Path(__file__).resolve()
    hits = [f"{p.relative_to(ROOT)}:{n}: {line.strip()[:120]}"
            for p in _tracked_files() if p.resolve() != me
            for n, line in enumerate(_text(p).splitlines(), 1) if OUTSIDE.search(line)]
    assert not hits, "references outside the repository:\n" + "\n".join(hits)


def test_every_cited_decision_is_on_the_reference_design_page():
    design = DESIGN.read_text()
    defined = set(re.findall(r"^\| \*\*D(\d+)\*\* \|", design, re.M))
    assert defined == {str(n) for n in range(1, 16)}
    cited = {m for p in _tracked_files() if p.suffix in {".py", ".sql", ".yml", ".yaml", ".md"}
             for m in DECISION.findall(_text(p))}
    assert cited <= defined, sorted(cited - defined)


def test_readme_and_dbt_docs_link_the_reference_design_page():
    assert "docs/reference-design.md" in (ROOT / "README.md").read_text()
    assert "reference-design.md" in (ROOT / "dbt_project" / "README.md").read_text()
    overview = (ROOT / "dbt_project" / "models" / "overview.md").read_text()
    assert "{% docs __overview__ %}" in overview and "docs/reference-design.md" in overview


def test_gitignore_names_only_scripts_that_exist():
    for script in re.findall(r"scripts/[\w.-]+\.sh", (ROOT / ".gitignore").read_text()):
        assert (ROOT / script).exists(), script


def test_every_setting_the_code_reads_is_documented_in_env_example():
    documented = set(re.findall(r"^#?\s*(FSDP_[A-Z0-9_]+)=", (ROOT / ".env.example").read_text(), re.M))
    read = set()
    for p in _tracked_files():
        if p.suffix in {".py", ".sh", ".yml", ".yaml"} and not str(p.relative_to(ROOT)).startswith("tests/"):
            read |= set(re.findall(r"""(?:environ(?:\.get)?\(|getenv\(|env_var\(|\$\{?)["']?(FSDP_[A-Z0-9_]+)""", _text(p)))
    assert not sorted(read - documented), sorted(read - documented)
