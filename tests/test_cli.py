"""Operator commands: the production bootstrap leaves no usable default account (AUTH-5)."""

from __future__ import annotations

import asyncio
import tempfile

import pytest
from alembic import command
from sqlalchemy import select

from app import cli
from app.core.config import get_settings
from app.core.db import Database
from app.models import Membership, Organisation, Role, User
from tests.conftest import alembic_config


@pytest.fixture
def empty_database(monkeypatch):
    url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='envduty-cli-')}/cli.db"
    command.upgrade(alembic_config(url), "head")
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()
    yield url
    get_settings.cache_clear()


async def _read(url: str):
    database = Database(url)
    try:
        async with database.transaction(write=False) as session:
            user = await session.scalar(select(User))
            membership = await session.scalar(select(Membership))
            root = await session.scalar(select(Organisation))
            return user, membership, root
    finally:
        await database.dispose()


def test_bootstrap_creates_a_root_and_an_admin_who_must_change_the_password(empty_database, monkeypatch):
    monkeypatch.setenv("BOOTSTRAP_ADMIN_PASSWORD", "A-long-bootstrap-secret-1")
    asyncio.run(cli.bootstrap("河南省", "henan", "HA.Admin"))
    user, membership, root = asyncio.run(_read(empty_database))
    assert (user.username, user.must_change_password) == ("ha.admin", True)
    assert user.password_hash.startswith("$argon2id$")
    assert (membership.role, membership.organisation_id) == (Role.admin, root.id)
    assert (root.profile_code, root.parent_id, root.jurisdiction_id) == ("henan", None, root.id)


def test_bootstrap_refuses_a_weak_password_and_a_second_run(empty_database, monkeypatch):
    monkeypatch.setenv("BOOTSTRAP_ADMIN_PASSWORD", "short")
    with pytest.raises(SystemExit, match="at least 8"):
        asyncio.run(cli.bootstrap("河南省", "henan", "ha.admin"))
    monkeypatch.setenv("BOOTSTRAP_ADMIN_PASSWORD", "A-long-bootstrap-secret-1")
    asyncio.run(cli.bootstrap("河南省", "henan", "ha.admin"))
    with pytest.raises(SystemExit, match="already has organisations"):
        asyncio.run(cli.bootstrap("河南省", "henan", "ha.admin"))
