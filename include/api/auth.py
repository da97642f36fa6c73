"""Who is calling: a Bearer JWT (HS256 with a secret from the environment, or RS256 keys from a
JWKS URL) or an API key (``fsdp_<id>_<secret>``, stored as a SHA-256 hash, never in clear).

Token claims: ``sub`` (the caller), ``group`` (a group of user_groups.yml), ``exp`` (required),
plus any attribute a group's segments read (e.g. ``zone``). The algorithm is fixed by the key
type: an HS256 secret never verifies an RS256 header and a JWKS key never an HS256 one, ``none``
is never accepted.
"""
from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import jwt

from include.api.errors import ApiError, forbidden, unauthenticated
from include.api.groups import RateLimits, UserGroup, UserGroups, Window

KEY_PREFIX = "fsdp_"
RESERVED_CLAIMS = {"sub", "group", "exp", "iat", "nbf", "iss", "aud", "jti"}


@dataclass(frozen=True)
class Principal:
    """An authenticated caller."""

    subject: str
    group: UserGroup
    method: str                          # "jwt" | "api_key"
    claims: dict = field(default_factory=dict)
    key_id: str | None = None
    key_limits: RateLimits | None = None

    @property
    def caller_id(self) -> str:
        return f"key:{self.key_id}" if self.key_id else f"sub:{self.subject}"


def hash_secret(secret: str) -> str:
    # the secret is 32 random bytes: a plain SHA-256 cannot be brute-forced, no salt or KDF needed
    return hashlib.sha256(secret.encode()).hexdigest()


class ApiKeyStore:
    """API keys in a JSON file (id -> hashed secret, group, attributes, limits, revoked)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self._lock = threading.Lock()
        self._stamp = None
        self._keys: dict[str, dict] = {}

    def _load(self) -> dict[str, dict]:
        try:
            st = self.path.stat()
        except FileNotFoundError:
            return {}
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
        if stamp != self._stamp:   # re-read when changed: revocation applies without a restart
            with self._lock:
                self._keys = {k["id"]: k for k in json.loads(self.path.read_text() or "[]")}
                self._stamp = stamp
        return self._keys

    def _write(self, keys: list[dict]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(keys, indent=2) + "\n")
        tmp.chmod(0o600)
        os.replace(tmp, self.path)

    def create(self, group: str, name: str, attributes: dict | None = None, limits: dict | None = None) -> str:
        """A new key; returns the key text (shown once, only its hash is stored)."""
        key_id = secrets.token_hex(6)
        secret = secrets.token_urlsafe(32)
        record = {"id": key_id, "name": name, "group": group, "sha256": hash_secret(secret),
                  "attributes": attributes or {}, "rateLimits": limits or None, "revoked": False,
                  "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds")}
        keys = list(self._load().values()) + [record]
        self._write(keys)
        return f"{KEY_PREFIX}{key_id}_{secret}"

    def revoke(self, key_id: str) -> bool:
        keys = self._load()
        if key_id not in keys:
            return False
        self._write([{**k, "revoked": True} if k["id"] == key_id else k for k in keys.values()])
        return True

    def list(self) -> list[dict]:
        return [{k: v for k, v in r.items() if k != "sha256"} for r in self._load().values()]

    def verify(self, presented: str) -> dict | None:
        parts = presented[len(KEY_PREFIX):].split("_", 1)
        if len(parts) != 2:
            return None
        record = self._load().get(parts[0])
        if record is None or record.get("revoked"):
            return None
        if not hmac.compare_digest(record["sha256"], hash_secret(parts[1])):
            return None
        return record


class Authenticator:
    """Turns the request's credentials into a :class:`Principal`, or raises a 401/403 ApiError."""

    def __init__(self, groups: UserGroups, *, jwt_secret: str | None, jwks_url: str | None,
                 issuer: str | None, audience: str | None, keys: ApiKeyStore):
        self.groups, self.keys = groups, keys
        self.secret, self.issuer, self.audience = jwt_secret, issuer, audience
        self.jwks = jwt.PyJWKClient(jwks_url, cache_keys=True, lifespan=300) if jwks_url else None

    def authenticate(self, authorization: str | None, api_key_header: str | None) -> Principal:
        credential = None
        if authorization:
            scheme, _, value = authorization.partition(" ")
            if scheme.lower() != "bearer" or not value.strip():
                raise unauthenticated("Authorization must be 'Bearer <token or API key>'")
            credential = value.strip()
        elif api_key_header:
            credential = api_key_header.strip()
        if not credential:
            raise unauthenticated("authentication required: send 'Authorization: Bearer <token>' "
                                  "(python -m include.api token --group analyst) or an API key")
        if credential.startswith(KEY_PREFIX):
            return self._from_key(credential)
        return self._from_jwt(credential)

    def _group(self, name, who: str) -> UserGroup:
        group = self.groups.get(name) if isinstance(name, str) else None
        if group is None:
            raise forbidden(f"{who} names no known user group (claim 'group': {name!r})", "UNKNOWN_GROUP")
        return group

    def _from_key(self, presented: str) -> Principal:
        record = self.keys.verify(presented)
        if record is None:
            raise unauthenticated("invalid or revoked API key")
        group = self._group(record.get("group"), f"API key {record['id']}")
        limits = self.groups.defaults.per_key
        own = record.get("rateLimits")
        if own:
            windows = [Window(own["requestsPerMinute"], 60)] if own.get("requestsPerMinute") else []
            if own.get("requestsPerHour"):
                windows.append(Window(own["requestsPerHour"], 3600))
            if own.get("burst"):
                windows.append(Window(own["burst"]["requests"], own["burst"]["seconds"]))
            limits = RateLimits(tuple(windows))
        return Principal(subject=record.get("name") or record["id"], group=group, method="api_key",
                         claims=dict(record.get("attributes") or {}), key_id=record["id"], key_limits=limits)

    def _from_jwt(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise unauthenticated("malformed token") from None
        alg = header.get("alg")
        options = {"require": ["exp", "sub"]}
        kwargs = {"issuer": self.issuer} if self.issuer else {}
        if self.audience:
            kwargs["audience"] = self.audience
        else:
            options["verify_aud"] = False
        try:
            if alg == "HS256" and self.secret:
                claims = jwt.decode(token, self.secret, algorithms=["HS256"], options=options, leeway=5, **kwargs)
            elif alg == "RS256" and self.jwks:
                key = self.jwks.get_signing_key_from_jwt(token).key
                claims = jwt.decode(token, key, algorithms=["RS256"], options=options, leeway=5, **kwargs)
            else:
                raise unauthenticated(f"tokens signed with {alg!r} are not accepted here")
        except jwt.ExpiredSignatureError:
            raise unauthenticated("token expired") from None
        except jwt.PyJWKClientError as exc:
            raise unauthenticated(f"token key not found in the JWKS ({exc})") from None
        except jwt.PyJWTError as exc:
            raise unauthenticated(f"invalid token: {exc}") from None
        if not isinstance(claims.get("sub"), str) or not claims["sub"]:
            raise unauthenticated("token has no subject")
        group = self._group(claims.get("group"), f"token of {claims['sub']}")
        attrs = {k: v for k, v in claims.items() if k not in RESERVED_CLAIMS}
        return Principal(subject=claims["sub"], group=group, method="jwt", claims=attrs)


def mint_token(secret: str, subject: str, group: str, ttl_seconds: int = 3600, **claims) -> str:
    """An HS256 token for ``subject`` in ``group`` (the CLI's `token` command and the tests)."""
    now = int(time.time())
    payload = {"sub": subject, "group": group, "iat": now, "exp": now + ttl_seconds, **claims}
    return jwt.encode(payload, secret, algorithm="HS256")


def require_scope(principal: Principal, scope: str) -> None:
    if scope not in principal.group.scopes:
        raise forbidden(f"group {principal.group.name} has no '{scope}' scope for this endpoint "
                        f"(its scopes: {', '.join(sorted(principal.group.scopes)) or 'none'})", "SCOPE_DENIED")


__all__ = ["ApiError", "ApiKeyStore", "Authenticator", "Principal", "mint_token", "require_scope"]
