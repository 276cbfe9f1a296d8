"""Settings read from the environment (and `.env`), once per process.

Every knob an operator may turn lives here, with its default for the embedded
SQLite deployment (`make run`). The README's configuration table mirrors it.
"""

from __future__ import annotations

import json
import secrets
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DATA_DIR = Path("data")


@lru_cache
def _dev_signing_key() -> dict[str, str]:
    """A per-checkout HMAC key for the embedded default, kept under ./data so
    tokens survive a restart of `make run`. Production sets JWT_KEYS instead."""
    key_file = DATA_DIR / "jwt-dev-key"
    if not key_file.exists():
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        key_file.write_text(secrets.token_urlsafe(48))
        key_file.chmod(0o600)
    return {"dev-1": key_file.read_text().strip()}


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = f"sqlite+aiosqlite:///./{DATA_DIR}/envduty.db"
    database_pool_size: int = 10
    database_pool_timeout_seconds: float = 5.0
    database_statement_timeout_ms: int = 15_000
    sqlite_busy_timeout_ms: int = 30_000

    # Tokens (RELIABILITY.md §2.3). JWT_KEYS is a JSON object {kid: secret};
    # the first key signs unless JWT_CURRENT_KID names another, all of them verify.
    jwt_keys: dict[str, str] = Field(default_factory=dict)
    jwt_current_kid: str | None = None
    jwt_issuer: str = "envduty"
    jwt_audience: str = "envduty-api"
    jwt_leeway_seconds: int = 30
    access_token_ttl_seconds: int = 900
    refresh_token_idle_seconds: int = 1800
    refresh_token_absolute_seconds: int = 12 * 3600
    refresh_reuse_grace_seconds: int = 10
    client_token_ttl_seconds: int = 900

    # Login throttling (API2-b): failures per minute before 429.
    login_failures_per_account_and_address: int = 5
    login_failures_per_address: int = 20

    # HTTP
    max_body_bytes: int = 1 << 20
    cors_origins: list[str] = Field(default_factory=list)
    trusted_proxies: list[str] = Field(default_factory=list)
    idempotency_retention_hours: int = 48

    # Evidence attachments (DOMAIN.md "Cross-cutting"): the largest file accepted, and where the
    # local-disk blob store keeps them (content-addressed by SHA-256; never the client's file name).
    max_attachment_bytes: int = 50 * 1024 * 1024
    attachments_dir: Path = DATA_DIR / "attachments"

    # Demo data: loaded by `make run` into an empty database.
    load_demo_data: bool = False

    # Root log level. At INFO every request writes one JSON access line, which cost 8% of the
    # organisation list's throughput (BENCHMARKS.md); WARNING keeps outages, conflicts and errors.
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"

    # Webhooks and the worker (issue 7; README "Worker and webhooks"). Targets must be https and resolve
    # to public addresses; hosts on WEBHOOK_ALLOWED_HOSTS (an admin's allowlist, for a receiver on the
    # intranet or in tests) skip the address check and may use http.
    webhook_allowed_hosts: list[str] = Field(default_factory=list)
    webhook_timeout_seconds: float = 15.0
    webhook_max_attempts: int = 12
    webhook_backoff_base_seconds: float = 30.0
    webhook_backoff_cap_seconds: float = 6 * 3600.0
    webhook_claim_seconds: float = 120.0
    webhook_batch_size: int = 20
    webhook_concurrency: int = 10
    webhook_secret_overlap_hours: int = 24
    # WORKER_IN_PROCESS=true runs the worker inside the API process (what `make run` does on the
    # embedded SQLite default); production runs `make worker` / `python -m app.cli worker` instead.
    worker_in_process: bool = False
    worker_poll_seconds: float = 1.0
    reminder_sweep_seconds: float = 3600.0
    reminder_days_before: int = 7

    @field_validator("jwt_keys", mode="before")
    @classmethod
    def _parse_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return json.loads(value) if value.strip() else {}
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_level(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("cors_origins", "trusted_proxies", "webhook_allowed_hosts", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str) and not value.lstrip().startswith("["):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @property
    def signing_keys(self) -> dict[str, str]:
        keys = self.jwt_keys or _dev_signing_key()
        for kid, secret in keys.items():
            if len(secret.encode()) < 32:  # RFC 7518 §3.2: at least 256 bits for HS256
                raise ValueError(f"JWT key {kid!r} is shorter than 32 bytes")
        return keys

    @property
    def signing_kid(self) -> str:
        keys = self.signing_keys
        if self.jwt_current_kid:
            if self.jwt_current_kid not in keys:
                raise ValueError("JWT_CURRENT_KID names a key that JWT_KEYS does not hold")
            return self.jwt_current_kid
        return next(iter(keys))

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")


@lru_cache
def get_settings() -> Settings:
    return Settings()
