"""Test harness: one throwaway database per run (SQLite file or a fresh PostgreSQL
database), migrated with Alembic, emptied between tests; callers get real tokens.

Choose the database with TEST_DB=sqlite|postgres (`make test` runs both).
PostgreSQL is TEST_DATABASE_URL's server, default 127.0.0.1:5432 as `postgres`.
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import tempfile
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from alembic import command
from alembic.config import Config
from httpx import ASGITransport, AsyncClient
from sqlalchemy import text
from sqlalchemy.engine import make_url

TEST_KEYS = {"test-1": "t" * 48, "test-0": "s" * 48}
os.environ["JWT_KEYS"] = json.dumps(TEST_KEYS)
os.environ["JWT_CURRENT_KID"] = "test-1"
os.environ["ENVIRONMENT"] = "test"

from app.core.config import Settings, get_settings
from app.core.db import Database
from app.main import create_app

ROOT = Path(__file__).resolve().parent.parent
TEST_DB = os.environ.get("TEST_DB", "sqlite")
ATTACHMENT_LIMIT = 64 * 1024
# Tables emptied between tests, children first. The audit trail is append-only
# (a trigger refuses DELETE), so it accumulates over a run; tests filter by resource.
CLEAN_TABLES = ["notification", "notification_preference", "webhook_delivery", "webhook_subscription", "event",
                "accountability_case_party", "accountability_case", "escalation_report",
                "escalation_duty_list", "escalation_finding", "escalation_party",
                "escalation", "finding_attachment", "report_attachment", "attachment", "progress_update",
                "finding_lookback", "extension_request", "measure", "finding_link",
                "finding_party", "finding", "finding_import_batch", "inspection_category", "inspection_organisation",
                "inspection",
                "idempotency_record", "transition_history", "report_party", "report", "refresh_token",
                "refresh_session", "membership", "integration_client", "user_account", "lead_decision_item",
                "lead_decision_opinion", "lead_decision_party", "lead_decision", "responsibility_item_organisation",
                "responsibility_item", "duty_list", "designation", "coordination_member", "organisation_closure"]


def pytest_report_header(config: pytest.Config) -> str:
    return f"database under test: {TEST_DB}"


def alembic_config(url: str) -> Config:
    cfg = Config(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["database_url"] = url
    cfg.attributes["skip_logging"] = True
    return cfg


def _pg_admin_url() -> str:
    return os.environ.get("TEST_DATABASE_URL", "postgresql+asyncpg://postgres@127.0.0.1:5432/postgres")


async def _pg_execute(sql: str) -> None:
    import asyncpg

    url = make_url(_pg_admin_url())
    conn = await asyncpg.connect(host=url.host, port=url.port or 5432, user=url.username,
                                 password=url.password, database=url.database or "postgres")
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def database_url() -> AsyncIterator[str]:
    if TEST_DB == "postgres":
        name = f"envduty_test_{secrets.token_hex(4)}"
        asyncio.run(_pg_execute(f'CREATE DATABASE "{name}"'))
        url = make_url(_pg_admin_url()).set(database=name).render_as_string(hide_password=False)
        try:
            yield url
        finally:
            asyncio.run(_pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        folder = tempfile.mkdtemp(prefix="envduty-test-")
        yield f"sqlite+aiosqlite:///{folder}/test.db"


@pytest.fixture(scope="session")
def migrated(database_url: str) -> str:
    command.upgrade(alembic_config(database_url), "head")
    return database_url


@pytest.fixture(scope="session")
def settings(migrated: str) -> Settings:
    get_settings.cache_clear()
    return Settings(database_url=migrated, environment="test", jwt_keys=TEST_KEYS, jwt_current_kid="test-1",
                    cors_origins=["https://spa.example.gov.cn"],
                    # uploads: a throwaway blob store and a small cap, so oversize tests stay cheap
                    attachments_dir=Path(tempfile.mkdtemp(prefix="envduty-blobs-")),
                    max_attachment_bytes=ATTACHMENT_LIMIT)


@pytest.fixture(scope="session")
async def database(settings: Settings) -> AsyncIterator[Database]:
    db = Database(settings.database_url, pool_size=20, pool_timeout=30)
    yield db
    await db.dispose()


@pytest.fixture(scope="session")
def app(settings: Settings, database: Database):
    return create_app(settings, database)


@pytest.fixture(autouse=True)
async def _clean_tables(request: pytest.FixtureRequest) -> AsyncIterator[None]:
    yield
    if "database" not in request.fixturenames:
        return
    db: Database = request.getfixturevalue("database")
    async with db.transaction() as session:
        for table in CLEAN_TABLES:
            await session.execute(text(f"DELETE FROM {table}"))
        # Organisations reference each other (parent, lead unit): clear links first.
        await session.execute(text("UPDATE organisation SET parent_id = NULL, superior_department_id = NULL, "
                                   "lead_unit_id = NULL"))
        await session.execute(text("DELETE FROM organisation"))


@pytest.fixture
async def client(app) -> AsyncIterator[AsyncClient]:
    transport = ASGITransport(app=app, raise_app_exceptions=False, client=("203.0.113.7", 50000))
    async with AsyncClient(transport=transport, base_url="http://testserver") as c:
        yield c


@pytest.fixture
def new_uuid() -> uuid.UUID:
    return uuid.uuid4()


@pytest.fixture
async def world(database: Database):
    """The forest of `tests.factories.World`, committed, with a user for every role."""
    from tests.factories import build_world

    async with database.transaction() as session:
        built = await build_world(session)
    return built


async def _no_dns(host: str, port: int) -> list[str]:
    raise OSError(f"tests resolve no names ({host}); stub app.services.ssrf.resolver where one must resolve")


@pytest.fixture(autouse=True)
def _no_name_lookups(monkeypatch):
    """Webhook targets are resolved for the SSRF check: in tests (the fuzzer included) no lookup leaves
    the process. IP literals and allowlisted hosts need none."""
    from app.services import ssrf

    monkeypatch.setattr(ssrf, "resolver", _no_dns)


@pytest.fixture(autouse=True)
def _fresh_login_throttle():
    """The login throttle is per process; each test starts with empty windows."""
    from app.services.login_throttle import reset_default_throttle

    reset_default_throttle()
    yield
