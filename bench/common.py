"""What the generator, the driver and the baseline share: where PostgreSQL is, the
documented bench password, the signing key, and where artefacts go."""

from __future__ import annotations

import json
import os
from pathlib import Path

from sqlalchemy.engine import URL, make_url

ROOT = Path(__file__).resolve().parent.parent
OUT_DIR = ROOT / "bench" / "out"  # raw wrk output, logs, JSON summaries (git-ignored)

# Every generated account signs in with this password. Bench data only, never a real system.
BENCH_PASSWORD = "Bench-Pass-2024!"
# A fixed HS256 key for the bench service (48 bytes, RFC 7518 §3.2 wants >= 32): tokens are
# minted by the service itself through POST /auth/token, the key only has to be stable per run.
BENCH_JWT_KEYS = {"bench-1": "bench-signing-key-" + "b" * 30}

DEFAULT_SERVER = "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres"
SMALL_DB, LARGE_DB = "envduty_bench_small", "envduty_bench"


def server_url() -> URL:
    """The PostgreSQL server to use: BENCH_DATABASE_URL, else TEST_DATABASE_URL (the Makefile's), else local."""
    raw = os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_SERVER
    return make_url(raw).set(drivername="postgresql+asyncpg")


def database_url(name: str) -> str:
    """SQLAlchemy URL of one bench database, as the service's DATABASE_URL."""
    return server_url().set(database=name).render_as_string(hide_password=False)


def asyncpg_dsn(name: str) -> str:
    """libpq-style DSN of one bench database, for raw asyncpg."""
    return server_url().set(drivername="postgresql", database=name).render_as_string(hide_password=False)


def service_env(db_name: str) -> dict[str, str]:
    """Environment of the service under test: production settings on the bench database, log at WARNING."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "JWT_"))}
    env.update(ENVIRONMENT="production", DATABASE_URL=database_url(db_name),
               JWT_KEYS=json.dumps(BENCH_JWT_KEYS), JWT_CURRENT_KID="bench-1", PYTHONUNBUFFERED="1",
               LOG_LEVEL="WARNING")  # one row repeats the list at INFO to show the access log's price
    return env


def summary_path(db_name: str) -> Path:
    return OUT_DIR / f"dataset-{db_name}.json"
