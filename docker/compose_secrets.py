"""Generate the compose stack's secrets into .env (scripts/compose.sh runs this before compose).

docker-compose.yaml gives no secret a default: compose refuses to start, naming the variable,
until each is set. This writes a fresh random value for every one that is unset or empty in .env
(creating .env from .env.example when there is none) and never changes one that is set:

    AIRFLOW_JWT_SECRET           signs the tokens Airflow's api-server gives task processes
    FSDP_AIRFLOW_ADMIN_PASSWORD  the Airflow UI's admin login
    AIRFLOW_DB_PASSWORD          Airflow's Postgres
    OM_DB_PASSWORD               OpenMetadata's Postgres
    SUPERSET_SECRET_KEY          signs Superset's sessions, encrypts its stored secrets
    SUPERSET_ADMIN_PASSWORD      Superset's admin login
    SUPERSET_DB_PASSWORD         Superset's Postgres
    OM_JWT_KEYS_DIR              a folder with an RSA key pair OpenMetadata signs its JWTs with
                                 (the ingestion bot's token), instead of the pair bundled in its image

Existing Postgres volumes keep the password they were created with: after changing one, drop the
volume (docker compose down -v) or put the old value back in .env.
"""
from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SECRETS = {
    "AIRFLOW_JWT_SECRET": lambda: secrets.token_urlsafe(48),
    "FSDP_AIRFLOW_ADMIN_PASSWORD": lambda: secrets.token_urlsafe(18),
    "AIRFLOW_DB_PASSWORD": lambda: secrets.token_urlsafe(24),
    "OM_DB_PASSWORD": lambda: secrets.token_urlsafe(24),
    "SUPERSET_SECRET_KEY": lambda: secrets.token_urlsafe(48),
    "SUPERSET_ADMIN_PASSWORD": lambda: secrets.token_urlsafe(18),
    "SUPERSET_DB_PASSWORD": lambda: secrets.token_urlsafe(24),
}


def read_env(path: Path) -> dict[str, str]:
    out = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip() and not line.lstrip().startswith("#") and "=" in line:
                name, value = line.split("=", 1)
                out[name.strip()] = value
    return out


def set_values(path: Path, values: dict[str, str]) -> None:
    """Write ``values`` into the env file: an empty ``NAME=`` line is filled in place, a missing
    name is appended; other lines are kept as they are."""
    lines = path.read_text().splitlines() if path.exists() else []
    done = set()
    for i, line in enumerate(lines):
        name = line.split("=", 1)[0].strip() if "=" in line and not line.lstrip().startswith("#") else None
        if name in values and not line.split("=", 1)[1].strip():
            lines[i] = f"{name}={values[name]}"
            done.add(name)
    lines += [f"{name}={value}" for name, value in values.items() if name not in done]
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text("\n".join(lines) + "\n")
    tmp.chmod(0o600)
    os.replace(tmp, path)


def jwt_keys(folder: Path) -> None:
    """An RSA pair in the DER files OpenMetadata reads (private PKCS#8, public SubjectPublicKeyInfo)."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    folder.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = folder / "private_key.der"
    private.write_bytes(key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8,
                                          serialization.NoEncryption()))
    private.chmod(0o600)
    (folder / "public_key.der").write_bytes(key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def ensure(env_file: Path = ROOT / ".env", keys_dir: Path = ROOT / ".local" / "compose" / "openmetadata-jwt") -> list[str]:
    """Fill in every missing secret; returns the names generated."""
    if not env_file.exists() and (ROOT / ".env.example").exists() and env_file == ROOT / ".env":
        env_file.write_text((ROOT / ".env.example").read_text())
    current = read_env(env_file)
    new = {name: make() for name, make in SECRETS.items() if not current.get(name, "").strip()
           and not os.environ.get(name)}
    keys = Path(current.get("OM_JWT_KEYS_DIR", "").strip() or os.environ.get("OM_JWT_KEYS_DIR", "") or keys_dir)
    if not (keys / "private_key.der").exists() or not (keys / "public_key.der").exists():
        jwt_keys(keys)
        new.setdefault("OM_JWT_KEYS_DIR", str(keys.resolve()))
    elif not current.get("OM_JWT_KEYS_DIR", "").strip() and not os.environ.get("OM_JWT_KEYS_DIR"):
        new["OM_JWT_KEYS_DIR"] = str(keys.resolve())
    if new:
        set_values(env_file, new)
    return sorted(new)


if __name__ == "__main__":
    made = ensure()
    where = ROOT / ".env"
    if made:
        print(f"generated into {where}: {', '.join(made)} (the Airflow admin password is "
              f"FSDP_AIRFLOW_ADMIN_PASSWORD there)")
    else:
        print(f"every secret of the compose stack is set ({where})")
    sys.exit(0)
