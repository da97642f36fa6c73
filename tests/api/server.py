"""A real uvicorn running the data API in a subprocess (``python -m include.api serve``), on a
free port, with its own audit folder, API keys file and settings; plus a small HTTP client."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from include.api.auth import mint_token

ROOT = Path(__file__).resolve().parents[2]
SECRET = "test-secret-" + "s" * 40   # generated per test run would change nothing: tests mint their own


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ApiServer:
    def __init__(self, work: Path, serving_dir: Path, *, user_groups: Path | None = None, env: dict | None = None,
                 trust_proxy: bool = True):
        self.work = Path(work)
        self.work.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.audit_dir = self.work / "audit"
        self.keys_file = self.work / "api_keys.json"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("FSDP_API_")}
        self.env.update({"FSDP_SERVING_DIR": str(serving_dir), "FSDP_API_JWT_SECRET": SECRET,
                         "FSDP_API_AUDIT_DIR": str(self.audit_dir), "FSDP_API_KEYS_FILE": str(self.keys_file),
                         "PYTHONPATH": str(ROOT)})
        if user_groups:
            self.env["FSDP_API_USER_GROUPS"] = str(user_groups)
        self.env.update(env or {})
        self.trust_proxy = trust_proxy
        self.proc: subprocess.Popen | None = None
        self.log = self.work / "server.log"

    def start(self, timeout: float = 90) -> "ApiServer":
        cmd = [sys.executable, "-m", "include.api", "serve", "--port", str(self.port)]
        if self.trust_proxy:
            cmd += ["--forwarded-allow-ips", "127.0.0.1"]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=self.log.open("w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"data API exited: {self.log.read_text()[-3000:]}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"data API did not start: {self.log.read_text()[-3000:]}")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def cli(self, *args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "include.api", *args], cwd=ROOT, env=self.env,
                              capture_output=True, text=True, timeout=120)

    def audit_lines(self) -> list[dict]:
        import json

        return [json.loads(line) for f in sorted(self.audit_dir.glob("audit-*.jsonl"))
                for line in f.read_text().splitlines() if line.strip()]

    def client(self, address: str | None = None, **kwargs) -> "Client":
        return Client(self, address, **kwargs)


_addresses = iter(f"10.{a}.{b}.{c}" for a in range(1, 250) for b in range(250) for c in range(1, 250))


class Client:
    """httpx against the server; each client looks like its own address (X-Forwarded-For from a
    trusted proxy), so the per-address limit of one test never throttles another."""

    def __init__(self, server: ApiServer, address: str | None = None, timeout: float = 60):
        self.server = server
        self.address = address or next(_addresses)
        self.http = httpx.Client(base_url=server.url, timeout=timeout,
                                 headers={"X-Forwarded-For": self.address})

    def token(self, group: str, sub: str | None = None, ttl: int = 600, **claims) -> str:
        return mint_token(SECRET, sub or f"{group}-{self.address}", group, ttl, **claims)

    def auth(self, group: str, sub: str | None = None, **claims) -> dict:
        return {"Authorization": f"Bearer {self.token(group, sub, **claims)}"}

    def load(self, query: dict, headers: dict, **kw) -> httpx.Response:
        return self.http.post("/v2/load", json={"query": query}, headers=headers, **kw)

    def graphql(self, query: str, headers: dict, variables: dict | None = None) -> httpx.Response:
        return self.http.post("/v2/graphql", json={"query": query, "variables": variables}, headers=headers)

    def get(self, path: str, **kw) -> httpx.Response:
        return self.http.get(path, **kw)

    def post(self, path: str, **kw) -> httpx.Response:
        return self.http.post(path, **kw)
