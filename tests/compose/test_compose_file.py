"""docker-compose.yaml is a valid Compose file: it validates against the Compose Specification's
JSON schema (vendored, see SOURCE.md) after the interpolation Compose applies, and keeps the
project's rules: pinned images, the bundle mounted, settings from .env with defaults."""
from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path

import jsonschema
import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yaml"
SCHEMA = Path(__file__).with_name("compose_spec.json")
VAR = re.compile(r"\$(?:\$|\{(?P<braced>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}|(?P<plain>[A-Za-z_][A-Za-z0-9_]*))")


def interpolate(value, env: dict[str, str]):
    """Compose's variable interpolation (${VAR}, ${VAR:-default}, ${VAR-default}, $VAR, $$)."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def sub(m: re.Match) -> str:
        if m.group(0) == "$$":
            return "$"
        name = m.group("braced") or m.group("plain")
        op, arg = m.group("op"), m.group("arg")
        if op == ":-":
            return env.get(name) or arg
        if op == "-":
            return env.get(name, arg)
        if op in (":?", "?") and not env.get(name):
            raise ValueError(f"required variable {name} is missing: {arg}")
        return env.get(name, "")

    return VAR.sub(sub, value)


# what scripts/compose.sh writes into .env on first start (the stack has no default for them)
SECRETS = {"AIRFLOW_JWT_SECRET": "s" * 48, "FSDP_AIRFLOW_ADMIN_PASSWORD": "p" * 18, "AIRFLOW_DB_PASSWORD": "d" * 24,
           "OM_DB_PASSWORD": "o" * 24, "OM_JWT_KEYS_DIR": "/tmp/jwtkeys", "SUPERSET_SECRET_KEY": "k" * 48,
           "SUPERSET_ADMIN_PASSWORD": "a" * 18, "SUPERSET_DB_PASSWORD": "q" * 24}


@pytest.fixture(scope="module")
def compose() -> dict:
    return interpolate(yaml.safe_load(COMPOSE.read_text()), env=SECRETS)


@pytest.mark.parametrize("missing", sorted(SECRETS))
def test_the_stack_refuses_to_start_until_each_secret_is_set_and_says_how(missing):
    # Regression: a default JWT secret and admin/admin worked if nobody changed them
    env = {k: v for k, v in SECRETS.items() if k != missing}
    with pytest.raises(ValueError, match=f"required variable {missing} is missing: {missing} is not set - "
                                         r"run scripts/compose.sh \(it generates the secrets into .env\)"):
        interpolate(yaml.safe_load(COMPOSE.read_text()), env=env)


def test_no_secret_has_a_working_default():
    text = COMPOSE.read_text()
    for m in VAR.finditer(text):
        name = m.group("braced") or ""
        if re.search(r"PASSWORD|SECRET|TOKEN|KEY", name) and name not in ("OM_JWT_KEY_ID",):
            assert m.group("op") in (":?", "?") or (m.group("op") == ":-" and not m.group("arg")), m.group(0)[:80]


def test_ports_are_published_on_localhost_only(compose):
    for name, service in compose["services"].items():
        for port in service.get("ports", []):
            assert str(port).startswith("127.0.0.1:"), f"{name}: {port}"


def test_openmetadata_signs_with_generated_keys_not_the_images(compose):
    env = compose["services"]["openmetadata-server"]["environment"]
    assert env["RSA_PRIVATE_KEY_FILE_PATH"] == "/opt/openmetadata/jwtkeys/private_key.der"
    assert "/tmp/jwtkeys:/opt/openmetadata/jwtkeys:ro" in compose["services"]["openmetadata-server"]["volumes"]


def test_compose_file_validates_against_the_compose_specification(compose):
    schema = json.loads(SCHEMA.read_text())
    errors = sorted(jsonschema.Draft201909Validator(schema).iter_errors(compose), key=lambda e: list(e.path))
    assert [f"{'/'.join(map(str, e.path))}: {e.message}" for e in errors] == []


def test_the_schema_rejects_an_invalid_file():
    # Regression: a schema that loads but validates nothing would pass every file
    schema = json.loads(SCHEMA.read_text())
    bad = {"services": {"web": {"image": "nginx:1.27", "ports": {"not": "a list"}, "restartt": "always"}}}
    assert list(jsonschema.Draft201909Validator(schema).iter_errors(bad))


def test_the_stack_has_airflow_postgres_azurite_and_openmetadata(compose):
    services = set(compose["services"])
    assert {"airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer",
            "airflow-postgres", "azurite", "openmetadata-server"} <= services
    assert "postgresql" in compose["services"]["airflow-scheduler"]["environment"]["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]


def test_every_image_is_pinned_to_a_version(compose):
    for name, service in compose["services"].items():
        image = service["image"]
        tag = image.rsplit(":", 1)[1] if ":" in image.rsplit("/", 1)[-1] else ""
        assert tag and tag != "latest" and re.search(r"\d", tag), f"{name}: {image}"
    base = (ROOT / "docker" / "airflow.Dockerfile").read_text()
    assert re.search(r"^FROM apache/airflow:3\.3\.2-python3\.11$", base, re.M)


def test_airflow_services_mount_the_bundle(compose):
    for name in ("airflow-api-server", "airflow-scheduler", "airflow-dag-processor", "airflow-triggerer"):
        service = compose["services"][name]
        assert "./:/opt/fsdp" in service["volumes"], name
        assert service["environment"]["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/fsdp/dags"


def test_settings_come_from_env_with_defaults():
    text = COMPOSE.read_text()
    bare = [m.group(0) for m in VAR.finditer(text) if m.group(0) != "$$" and not m.group("op")]
    assert bare == [], "every ${VAR} needs a default (${VAR:-default})"
    assert "${AZURE_STORAGE_CONNECTION_STRING:-" in text


@pytest.mark.skipif(not shutil.which("docker"), reason="no docker CLI")
def test_docker_compose_config_accepts_the_file_when_the_cli_has_compose():
    probe = subprocess.run(["docker", "compose", "version"], capture_output=True, text=True)
    if probe.returncode != 0:
        pytest.skip("the docker CLI has no compose plugin here")
    proc = subprocess.run(["docker", "compose", "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
