"""scripts/compose.sh's secret generation (docker/compose_secrets.py): every secret the stack
requires is generated once into .env, a value already set is never changed, and OpenMetadata gets
a key pair of its own."""
from __future__ import annotations

import importlib.util
import stat
import subprocess
from pathlib import Path

from cryptography.hazmat.primitives import serialization

ROOT = Path(__file__).resolve().parents[2]
spec = importlib.util.spec_from_file_location("compose_secrets", ROOT / "docker" / "compose_secrets.py")
compose_secrets = importlib.util.module_from_spec(spec)
spec.loader.exec_module(compose_secrets)


def test_missing_secrets_are_generated_once_and_set_ones_are_kept(tmp_path, monkeypatch):
    for name in (*compose_secrets.SECRETS, "OM_JWT_KEYS_DIR"):
        monkeypatch.delenv(name, raising=False)
    env_file = tmp_path / ".env"
    env_file.write_text("# mine\nAIRFLOW_DB_PASSWORD=kept-as-is\nAIRFLOW_JWT_SECRET=\nOTHER=1\n")
    made = compose_secrets.ensure(env_file, tmp_path / "jwt")
    assert made == ["AIRFLOW_JWT_SECRET", "FSDP_AIRFLOW_ADMIN_PASSWORD", "OM_DB_PASSWORD", "OM_JWT_KEYS_DIR",
                    "SUPERSET_ADMIN_PASSWORD", "SUPERSET_DB_PASSWORD", "SUPERSET_SECRET_KEY"]
    values = compose_secrets.read_env(env_file)
    assert values["AIRFLOW_DB_PASSWORD"] == "kept-as-is" and values["OTHER"] == "1"
    assert len(values["AIRFLOW_JWT_SECRET"]) >= 48 and values["FSDP_AIRFLOW_ADMIN_PASSWORD"] not in ("", "admin")
    assert env_file.read_text().startswith("# mine\n")            # filled in place, comments kept
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    private = (tmp_path / "jwt" / "private_key.der").read_bytes()
    public = (tmp_path / "jwt" / "public_key.der").read_bytes()
    key = serialization.load_der_private_key(private, password=None)
    assert key.key_size == 2048
    assert key.public_key().public_bytes(serialization.Encoding.DER,
                                         serialization.PublicFormat.SubjectPublicKeyInfo) == public
    # a second start changes nothing
    before = env_file.read_text()
    assert compose_secrets.ensure(env_file, tmp_path / "jwt") == []
    assert env_file.read_text() == before and (tmp_path / "jwt" / "private_key.der").read_bytes() == private


def test_two_installations_never_share_a_secret(tmp_path, monkeypatch):
    for name in (*compose_secrets.SECRETS, "OM_JWT_KEYS_DIR"):
        monkeypatch.delenv(name, raising=False)
    a, b = tmp_path / "a.env", tmp_path / "b.env"
    compose_secrets.ensure(a, tmp_path / "ja")
    compose_secrets.ensure(b, tmp_path / "jb")
    va, vb = compose_secrets.read_env(a), compose_secrets.read_env(b)
    assert all(va[k] != vb[k] for k in compose_secrets.SECRETS)
    assert (tmp_path / "ja" / "private_key.der").read_bytes() != (tmp_path / "jb" / "private_key.der").read_bytes()


def test_compose_sh_secrets_only_generates(tmp_path):
    text = (ROOT / "scripts" / "compose.sh").read_text()
    assert 'docker/compose_secrets.py' in text and '"secrets"' in text
    assert subprocess.run(["bash", "-n", str(ROOT / "scripts" / "compose.sh")]).returncode == 0
