"""Settings of the data API, from the environment (see .env.example, section Data API).

Secrets only from the environment: with neither ``FSDP_API_JWT_SECRET`` nor ``FSDP_API_JWKS_URL``
set, no token is accepted (API keys still are); ``scripts/api.sh`` generates a random secret per
installation into ``.local/api/jwt_secret`` when none is given.
"""
from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE_DIR = Path(__file__).resolve().parent
MIN_SECRET_BYTES = 32   # RFC 7518 3.2: an HS256 key must be at least as long as the hash (PyJWT warns below)


def _env(name: str, default: str | None = None) -> str | None:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


def _path(name: str, default: Path) -> Path:
    value = _env(name)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class ApiSettings:
    user_groups: Path = PACKAGE_DIR / "user_groups.yml"
    apis_dir: Path = PACKAGE_DIR / "apis"
    serving_dir: Path | None = None           # None: include.serving's default (FSDP_SERVING_DIR)
    jwt_secret: str | None = None             # HS256
    jwks_url: str | None = None               # RS256 via JWKS
    jwt_issuer: str | None = None
    jwt_audience: str | None = None
    api_keys_file: Path = ROOT / ".local" / "api" / "api_keys.json"
    rate_limit_storage: str = "memory://"     # or redis://host:port/db
    audit_dir: Path = ROOT / ".local" / "api" / "audit"
    audit_fold_seconds: float = 300.0          # audit trail -> audit.duckdb (include.api.audit_table); 0: never
    cache_ttl_seconds: int = 300
    cache_max_entries: int = 512
    semantic_manifest: Path | None = None
    public_url: str = "http://127.0.0.1:8000"
    extra: dict = field(default_factory=dict)

    @classmethod
    def from_env(cls, **overrides) -> "ApiSettings":
        values = dict(
            user_groups=_path("FSDP_API_USER_GROUPS", PACKAGE_DIR / "user_groups.yml"),
            apis_dir=_path("FSDP_API_APIS_DIR", PACKAGE_DIR / "apis"),
            serving_dir=_path("FSDP_SERVING_DIR", ROOT / ".local" / "serving"),
            jwt_secret=_env("FSDP_API_JWT_SECRET"),
            jwks_url=_env("FSDP_API_JWKS_URL"),
            jwt_issuer=_env("FSDP_API_JWT_ISSUER"),
            jwt_audience=_env("FSDP_API_JWT_AUDIENCE"),
            api_keys_file=_path("FSDP_API_KEYS_FILE", ROOT / ".local" / "api" / "api_keys.json"),
            rate_limit_storage=_env("FSDP_API_RATE_LIMIT_STORAGE", "memory://"),
            audit_dir=_path("FSDP_API_AUDIT_DIR", ROOT / ".local" / "api" / "audit"),
            audit_fold_seconds=float(_env("FSDP_API_AUDIT_FOLD_SECONDS", "300")),
            cache_ttl_seconds=int(_env("FSDP_API_CACHE_TTL_SECONDS", "300")),
            cache_max_entries=int(_env("FSDP_API_CACHE_MAX_ENTRIES", "512")),
            semantic_manifest=_path("FSDP_SEMANTIC_MANIFEST", Path()) if _env("FSDP_SEMANTIC_MANIFEST") else None,
            public_url=_env("FSDP_API_PUBLIC_URL", f"http://127.0.0.1:{_env('FSDP_API_PORT') or 8000}"),
        )
        values.update(overrides)
        settings = cls(**values)
        settings.validate()
        return settings

    def validate(self) -> None:
        if self.jwt_secret is not None and len(self.jwt_secret.encode()) < MIN_SECRET_BYTES:
            raise ValueError(f"FSDP_API_JWT_SECRET must be at least {MIN_SECRET_BYTES} bytes "
                             "(generate one: python -c 'import secrets; print(secrets.token_urlsafe(48))')")
        if not (self.rate_limit_storage.startswith("memory://") or self.rate_limit_storage.startswith(("redis://", "rediss://"))):
            raise ValueError("FSDP_API_RATE_LIMIT_STORAGE must be memory:// or redis://host:port[/db]")
