"""The environment of the embedded Superset (scripts/dashboards.sh, the tests, the benchmark):
SQLite metadata and caches under FSDP_SUPERSET_HOME (default .local/superset), this folder's
superset_config.py, the serving copy of FSDP_SERVING_DIR.

    python -m include.dashboards.embedded --exports    # shell `export` lines (creates the home)

Secrets: SUPERSET_SECRET_KEY and SUPERSET_ADMIN_PASSWORD from the environment when set; otherwise
random ones generated once per home into files only its owner can read (secret_key,
admin_password), never a default. Pure Python: runs in any venv.
"""
from __future__ import annotations

import os
import secrets
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path(__file__).resolve().parent / "superset_config.py"
DEFAULT_PORT = 8088


def superset_env(base: dict[str, str] | None = None) -> dict[str, str]:
    """Variables for Superset processes; ``base`` (default os.environ) values win."""
    base = dict(os.environ if base is None else base)
    home = Path(base.get("FSDP_SUPERSET_HOME") or ROOT / ".local" / "superset").expanduser().resolve()
    serving = Path(base.get("FSDP_SERVING_DIR") or ROOT / ".local" / "serving").expanduser().resolve()
    env = {
        "SUPERSET_CONFIG_PATH": str(CONFIG),
        "FSDP_SUPERSET_HOME": str(home),
        "FSDP_SERVING_DIR": str(serving),
        "FLASK_APP": "superset",
        "SUPERSET_HOME": str(home),
        # no usage telemetry (Superset's Scarf pixel)
        "SCARF_ANALYTICS": "false",
        "DO_NOT_TRACK": "1",
        "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), base.get("PYTHONPATH", "")) if p),
    }
    for key in ("SUPERSET_SECRET_KEY", "SUPERSET_ADMIN_PASSWORD", "SUPERSET_DATABASE_URI", "FSDP_SUPERSET_ADMIN_USER"):
        if base.get(key):
            env[key] = base[key]
    return env


def _secret_file(path: Path, nbytes: int) -> str:
    if not path.exists():
        path.write_text(secrets.token_urlsafe(nbytes))
        path.chmod(0o600)
    return path.read_text().strip()


def prepare_home(env: dict[str, str]) -> None:
    """Create the home and, for secrets not given in ``env``, the per-home random ones (added to ``env``)."""
    home = Path(env["FSDP_SUPERSET_HOME"])
    home.mkdir(parents=True, exist_ok=True)
    if not env.get("SUPERSET_SECRET_KEY"):
        env["SUPERSET_SECRET_KEY"] = _secret_file(home / "secret_key", 42)
    if not env.get("SUPERSET_ADMIN_PASSWORD"):
        env["SUPERSET_ADMIN_PASSWORD"] = _secret_file(home / "admin_password", 12)


def main(argv: list[str]) -> int:
    if argv[1:] == ["--exports"]:
        env = superset_env()
        prepare_home(env)
        for key, value in env.items():
            print(f"export {key}={shlex.quote(value)}")
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
