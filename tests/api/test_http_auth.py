"""Authentication and scopes over HTTP: no credentials, bad tokens, algorithm confusion, expiry,
unknown groups, RS256 via JWKS, API keys (hashed, revocable), and each group's scopes."""
from __future__ import annotations

import base64
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import jwt
import pytest

from tests.api.server import SECRET, ApiServer

pytestmark = [pytest.mark.azurite, pytest.mark.integration]
Q = {"measures": ["transactions.debit_to_credit_ratio"], "dimensions": ["customers.zone"]}


def _error(resp, status: int, code: str) -> dict:
    assert resp.status_code == status, resp.text
    body = resp.json()
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    return body


def test_no_credentials_is_a_401_with_a_bearer_challenge(client):
    resp = client.load(Q, headers={})
    _error(resp, 401, "UNAUTHENTICATED")
    assert resp.headers["WWW-Authenticate"].startswith("Bearer")
    assert "X-RateLimit-Limit" in resp.headers           # the address window answers even here


@pytest.mark.parametrize("header", ["Basic YWRtaW46YWRtaW4=", "Bearer", "Bearer not.a.jwt", "Token abc"])
def test_malformed_credentials_are_401(client, header):
    _error(client.load(Q, headers={"Authorization": header}), 401, "UNAUTHENTICATED")


def test_a_token_signed_with_another_secret_is_refused(client):
    forged = jwt.encode({"sub": "mallory", "group": "admin", "exp": int(time.time()) + 60}, "x" * 40, algorithm="HS256")
    _error(client.load(Q, headers={"Authorization": f"Bearer {forged}"}), 401, "UNAUTHENTICATED")


def test_an_unsigned_token_alg_none_is_refused(client):
    def b64(d):
        return base64.urlsafe_b64encode(json.dumps(d).encode()).rstrip(b"=").decode()
    token = f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64({'sub': 'm', 'group': 'admin', 'exp': 9999999999})}."
    _error(client.load(Q, headers={"Authorization": f"Bearer {token}"}), 401, "UNAUTHENTICATED")


def test_an_expired_token_is_refused(client):
    token = jwt.encode({"sub": "a", "group": "admin", "exp": int(time.time()) - 60}, SECRET, algorithm="HS256")
    body = _error(client.load(Q, headers={"Authorization": f"Bearer {token}"}), 401, "UNAUTHENTICATED")
    assert "expired" in body["error"]["message"]


def test_a_token_without_expiry_or_subject_is_refused(client):
    for claims in ({"sub": "a", "group": "admin"}, {"group": "admin", "exp": int(time.time()) + 60}):
        token = jwt.encode(claims, SECRET, algorithm="HS256")
        _error(client.load(Q, headers={"Authorization": f"Bearer {token}"}), 401, "UNAUTHENTICATED")


def test_an_unknown_group_is_forbidden(client):
    _error(client.load(Q, headers=client.auth("superuser")), 403, "UNKNOWN_GROUP")


@pytest.mark.parametrize("group, allowed", [
    ("admin", {"load", "meta", "sql", "graphql"}),
    ("analyst", {"load", "sql", "graphql"}),
    ("viewer", {"load"}),
])
def test_each_group_reaches_exactly_its_scopes(client, group, allowed):
    headers = client.auth(group, zone="North")
    calls = {
        "load": lambda: client.load(Q, headers),
        "meta": lambda: client.get("/v2/meta", headers=headers),
        "sql": lambda: client.post("/v2/sql", json={"query": Q}, headers=headers),
        "graphql": lambda: client.graphql('{ load(query: {measures: ["transactions.debit_to_credit_ratio"]}) '
                                          '{ data } }', headers),
    }
    for name, call in calls.items():
        resp = call()
        if name in allowed:
            assert resp.status_code == 200, (name, resp.text)
        else:
            _error(resp, 403, "SCOPE_DENIED")


def test_api_keys_are_stored_hashed_work_as_bearer_or_header_and_can_be_revoked(api, client):
    created = api.cli("apikey", "create", "--group", "viewer", "--name", "mobile-app")
    assert created.returncode == 0, created.stderr
    key = created.stdout.strip()
    assert key.startswith("fsdp_")
    stored = api.keys_file.read_text()
    assert key.split("_", 2)[2] not in stored and "sha256" in stored
    assert client.load(Q, headers={"Authorization": f"Bearer {key}"}).status_code == 200
    assert client.load(Q, headers={"X-API-Key": key}).status_code == 200
    _error(client.load(Q, headers={"Authorization": f"Bearer {key[:-2]}xx"}), 401, "UNAUTHENTICATED")
    key_id = key.split("_")[1]
    assert api.cli("apikey", "revoke", key_id).returncode == 0
    _error(client.load(Q, headers={"Authorization": f"Bearer {key}"}), 401, "UNAUTHENTICATED")


class _Jwks(BaseHTTPRequestHandler):
    body = b"{}"

    def do_GET(self):  # noqa: N802
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


def test_rs256_tokens_verify_against_a_jwks_url_and_hs256_cannot_impersonate(serving_dir, tmp_path):
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    _Jwks.body = json.dumps({"keys": [{**jwk, "kid": "k1", "use": "sig", "alg": "RS256"}]}).encode()
    httpd = HTTPServer(("127.0.0.1", 0), _Jwks)
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    server = ApiServer(tmp_path, serving_dir, env={
        "FSDP_API_JWKS_URL": f"http://127.0.0.1:{httpd.server_port}/jwks.json", "FSDP_API_JWT_SECRET": "",
        "FSDP_API_JWT_ISSUER": "https://idp.example", "FSDP_API_JWT_AUDIENCE": "fsdp-data-api"}).start()
    try:
        c = server.client()
        claims = {"sub": "svc", "group": "admin", "exp": int(time.time()) + 60, "iss": "https://idp.example",
                  "aud": "fsdp-data-api"}
        good = jwt.encode(claims, key, algorithm="RS256", headers={"kid": "k1"})
        assert c.load(Q, headers={"Authorization": f"Bearer {good}"}).status_code == 200
        wrong_aud = jwt.encode({**claims, "aud": "other"}, key, algorithm="RS256", headers={"kid": "k1"})
        _error(c.load(Q, headers={"Authorization": f"Bearer {wrong_aud}"}), 401, "UNAUTHENTICATED")
        # algorithm confusion: the public key used as an HS256 secret
        pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        import hashlib
        import hmac
        header = base64.urlsafe_b64encode(b'{"alg":"HS256","typ":"JWT","kid":"k1"}').rstrip(b"=")
        payload = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=")
        sig = base64.urlsafe_b64encode(hmac.new(pem, header + b"." + payload, hashlib.sha256).digest()).rstrip(b"=")
        confused = b".".join([header, payload, sig]).decode()
        _error(c.load(Q, headers={"Authorization": f"Bearer {confused}"}), 401, "UNAUTHENTICATED")
        other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        forged = jwt.encode(claims, other, algorithm="RS256", headers={"kid": "k1"})
        _error(c.load(Q, headers={"Authorization": f"Bearer {forged}"}), 401, "UNAUTHENTICATED")
    finally:
        server.stop()
        httpd.shutdown()


def test_a_short_jwt_secret_refuses_to_start(serving_dir, tmp_path):
    server = ApiServer(tmp_path, serving_dir, env={"FSDP_API_JWT_SECRET": "short"})
    with pytest.raises(RuntimeError, match="at least 32 bytes"):
        server.start(timeout=60)
