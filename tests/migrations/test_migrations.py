"""Migrations upgrade, downgrade and upgrade again on a fresh database, and match the models."""

from __future__ import annotations

import asyncio
import os
import secrets
import tempfile

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect
from sqlalchemy.engine import make_url
from sqlalchemy.ext.asyncio import create_async_engine

from app.models import Base
from tests.conftest import TEST_DB, _pg_admin_url, _pg_execute, alembic_config


@pytest.fixture
def fresh_url():
    if TEST_DB == "postgres":
        name = f"envduty_mig_{secrets.token_hex(4)}"
        asyncio.run(_pg_execute(f'CREATE DATABASE "{name}"'))
        yield make_url(_pg_admin_url()).set(database=name).render_as_string(hide_password=False)
        asyncio.run(_pg_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    else:
        yield f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='envduty-mig-')}/m.db"


def _tables(url: str) -> set[str]:
    async def go() -> set[str]:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            names = await conn.run_sync(lambda c: set(inspect(c).get_table_names()))
        await engine.dispose()
        return names

    return asyncio.run(go())


def _diff(url: str) -> list:
    async def go() -> list:
        engine = create_async_engine(url)
        async with engine.connect() as conn:
            diff = await conn.run_sync(
                lambda c: compare_metadata(MigrationContext.configure(c, opts={"compare_type": True}),
                                           Base.metadata))
        await engine.dispose()
        return diff

    return asyncio.run(go())


def test_upgrade_downgrade_upgrade_round_trip(fresh_url):
    cfg = alembic_config(fresh_url)
    command.upgrade(cfg, "head")
    assert set(Base.metadata.tables) <= _tables(fresh_url)
    command.downgrade(cfg, "base")
    assert _tables(fresh_url) - {"alembic_version"} == set()
    command.upgrade(cfg, "head")
    assert set(Base.metadata.tables) <= _tables(fresh_url)


def test_models_and_migrations_do_not_drift(fresh_url):
    command.upgrade(alembic_config(fresh_url), "head")
    assert _diff(fresh_url) == []


def test_migration_file_names_follow_the_convention():
    folder = os.path.join(os.path.dirname(__file__), "..", "..", "migrations", "versions")
    import re

    for name in os.listdir(folder):
        if name.endswith(".py"):
            assert re.match(r"^\d{4}-\d{2}-\d{2}_\d{4}_[0-9a-z]+_[a-z0-9_]+\.py$", name), name
