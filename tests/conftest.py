"""Shared fixtures: a real Azurite process per test session, on a free port, with its own data dir."""
from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AZURITE_BIN = ROOT / "node_modules" / ".bin" / "azurite-blob"
# Azurite's public, documented development account key (not a secret).
DEV_KEY = "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw=="


def azurite_connection_string(port: int) -> str:
    return (
        "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
        f"AccountKey={DEV_KEY};BlobEndpoint=http://127.0.0.1:{port}/devstoreaccount1;"
    )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _port_open(port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex(("127.0.0.1", port)) == 0


class AzuriteProcess:
    """A real azurite-blob process that a test can stop and start again (same port, same data)."""

    def __init__(self, data_dir: Path, port: int):
        self.data_dir, self.port = data_dir, port
        self.proc: subprocess.Popen | None = None
        self.connection_string = azurite_connection_string(port)

    def start(self) -> None:
        if not AZURITE_BIN.exists():
            pytest.fail("Azurite is not installed: run scripts/test.sh (it runs npm ci)")
        self.proc = subprocess.Popen(
            [str(AZURITE_BIN), "--silent", "--location", str(self.data_dir), "--blobHost", "127.0.0.1",
             "--blobPort", str(self.port), "--skipApiVersionCheck", "--loose"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while not _port_open(self.port):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"Azurite did not start on port {self.port}")
            time.sleep(0.05)

    def stop(self, graceful: bool = True) -> None:
        """Stop Azurite. Graceful (SIGTERM) persists its metadata but waits for idle keep-alive
        connections (up to ~10 s); SIGKILL is instant but loses metadata not yet flushed, so use it
        only when the data is thrown away."""
        if self.proc and self.proc.poll() is None:
            if graceful:
                self.proc.terminate()
                try:
                    self.proc.wait(15)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
            else:
                self.proc.kill()
            self.proc.wait()
        while _port_open(self.port):
            time.sleep(0.05)


@pytest.fixture(scope="session")
def azurite(tmp_path_factory) -> AzuriteProcess:
    """A fresh Azurite for the test session; tests isolate themselves by container/prefix names."""
    proc = AzuriteProcess(tmp_path_factory.mktemp("azurite"), _free_port())
    proc.start()
    yield proc
    proc.stop(graceful=False)
    shutil.rmtree(proc.data_dir, ignore_errors=True)


@pytest.fixture
def azurite_env(azurite, monkeypatch) -> str:
    """Point AZURE_STORAGE_CONNECTION_STRING at the session's Azurite; returns the string."""
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", azurite.connection_string)
    return azurite.connection_string
