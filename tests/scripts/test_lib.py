"""scripts/lib.sh: setup steps of two scripts started at once in one checkout run one after the
other; each checkout chooses its own ports once and keeps them."""
from __future__ import annotations

import os
import shutil
import subprocess
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
STRIP = ("AZURE", "AZURITE", "FSDP_", "AIRFLOW", "TMPDIR")


def fake_checkout(path: Path) -> Path:
    (path / "scripts").mkdir(parents=True)
    shutil.copy(ROOT / "scripts" / "lib.sh", path / "scripts" / "lib.sh")
    (path / ".venv").symlink_to(ROOT / ".venv")
    return path


def bash(checkout: Path, script: str, env_extra: dict | None = None, **kw) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith(STRIP)} | (env_extra or {})
    return subprocess.run(["bash", "-c", f"set -euo pipefail; source scripts/lib.sh; {script}"], cwd=checkout,
                          env=env, capture_output=True, text=True, **kw)


def test_two_setups_at_once_in_one_checkout_run_one_after_the_other(tmp_path):
    checkout = fake_checkout(tmp_path / "c")
    script = ('setup_lock; echo "start $(date +%s.%N)"; sleep 1.5; echo "end $(date +%s.%N)"; setup_unlock')
    env = {k: v for k, v in os.environ.items() if not k.startswith(STRIP)}
    procs = [subprocess.Popen(["bash", "-c", f"source scripts/lib.sh; {script}"], cwd=checkout, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outs = [p.communicate(timeout=30) for p in procs]
    windows = sorted(tuple(float(line.split()[1]) for line in out.splitlines()) for out, _ in outs)
    assert windows[1][0] >= windows[0][1], windows
    assert sum("another script is setting up this checkout: waiting for it" in err for _, err in outs) == 1


def test_a_process_started_during_setup_does_not_keep_the_lock(tmp_path):
    checkout = fake_checkout(tmp_path / "c")
    # like Azurite under nohup: started with the lock's descriptor closed, it outlives the script
    started = bash(checkout, 'setup_lock; nohup sleep 30 >/dev/null 2>&1 {_SETUP_LOCK_FD}>&- & echo $!; setup_unlock')
    pid = int(started.stdout.strip())
    try:
        t0 = time.monotonic()
        bash(checkout, "setup_lock; setup_unlock", timeout=10, check=True)
        assert time.monotonic() - t0 < 5
    finally:
        os.kill(pid, 9)


def test_each_checkout_chooses_its_ports_once(tmp_path):
    a, b = fake_checkout(tmp_path / "a"), fake_checkout(tmp_path / "b")
    show = 'ensure_ports >/dev/null 2>&1; echo "$AZURITE_BLOB_PORT $AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT ' \
           '$AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT $FSDP_AIRFLOW_PORT $FSDP_API_PORT $FSDP_SUPERSET_PORT"'
    pa = bash(a, show, check=True).stdout.split()
    pb = bash(b, show, check=True).stdout.split()
    # Azurite, the two log servers, the Airflow UI, the data API and Superset
    assert len(set(pa)) == len(set(pb)) == 6 and not set(pa) & set(pb)
    assert bash(a, show, check=True).stdout.split() == pa             # kept in .local/ports.env
    assert (a / ".local" / "ports.env").read_text().count("=") == 6
    # the environment (or .env) wins; a connection string decides Azurite's port
    assert bash(b, show, {"AZURITE_BLOB_PORT": "23999"}, check=True).stdout.split()[0] == "23999"
    conn = ("DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=x;"
            "BlobEndpoint=http://127.0.0.1:24001/devstoreaccount1;")
    out = bash(tmp_path / "a", 'ensure_storage_env; echo "$AZURITE_BLOB_PORT"',
               {"AZURE_STORAGE_CONNECTION_STRING": conn}, check=True)
    assert out.stdout.split()[-1] == "24001"
    clash = bash(tmp_path / "a", "ensure_storage_env", {"AZURE_STORAGE_CONNECTION_STRING": conn,
                                                       "AZURITE_BLOB_PORT": "24002"})
    assert clash.returncode != 0 and "points at Azurite port 24001 but AZURITE_BLOB_PORT is 24002" in clash.stderr


def test_the_checkouts_azurite_port_taken_by_someone_else_is_refused(tmp_path):
    import socket

    checkout = fake_checkout(tmp_path / "c")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        (checkout / ".local").mkdir()
        (checkout / ".local" / "ports.env").write_text(f"AZURITE_BLOB_PORT={port}\n")
        out = bash(checkout, "ensure_azurite")
    assert out.returncode != 0
    assert f"port {port} (this checkout's Azurite port, .local/ports.env) is taken by another process" in out.stderr


def test_two_scripts_started_at_once_in_a_fresh_checkout_agree_on_its_ports(tmp_path):
    # Regression: both read .local/ports.env before it existed and the second chose a second block
    # (the first one's Azurite held the first), so two runs of one checkout used two storages
    checkout = fake_checkout(tmp_path / "c")
    script = ('setup_lock; ensure_ports >/dev/null 2>&1; python3 -c "import socket,time; s=socket.socket(); '
              's.bind((\'127.0.0.1\', $AZURITE_BLOB_PORT)); s.listen(); time.sleep(2)" & sleep 0.5; '
              'echo "$AZURITE_BLOB_PORT"; setup_unlock; wait')
    env = {k: v for k, v in os.environ.items() if not k.startswith(STRIP)}
    procs = [subprocess.Popen(["bash", "-c", f"source scripts/lib.sh; {script}"], cwd=checkout, env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    ports = [p.communicate(timeout=60)[0].split()[-1] for p in procs]
    assert ports[0] == ports[1]
    assert (checkout / ".local" / "ports.env").read_text().count("AZURITE_BLOB_PORT=") == 1
