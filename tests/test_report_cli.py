"""`python -m app.cli generate-reports`: the scheduled, idempotent generation of report obligations."""

from __future__ import annotations

import asyncio
import tempfile

import pytest
from alembic import command
from sqlalchemy import func, select

from app import cli
from app.core.config import get_settings
from app.core.db import Database
from app.models import AuditEvent, Report
from tests.conftest import alembic_config
from tests.report_factories import BUILDERS


@pytest.fixture
def provinces(monkeypatch):
    url = f"sqlite+aiosqlite:///{tempfile.mkdtemp(prefix='envduty-cli-')}/cli.db"
    command.upgrade(alembic_config(url), "head")
    monkeypatch.setenv("DATABASE_URL", url)
    get_settings.cache_clear()

    async def build():
        database = Database(url)
        try:
            async with database.transaction() as session:
                return {code: (await BUILDERS[code](session)).root.id for code in ("hainan", "shandong")}
        finally:
            await database.dispose()

    yield url, asyncio.run(build())
    get_settings.cache_clear()


async def _counts(url: str) -> tuple[int, int]:
    database = Database(url)
    try:
        async with database.transaction(write=False) as session:
            return (await session.scalar(select(func.count()).select_from(Report)),
                    await session.scalar(select(func.count()).where(AuditEvent.action == "report.generate",
                                                                    AuditEvent.actor_type == "system")))
    finally:
        await database.dispose()


def test_every_province_once_and_a_rerun_creates_nothing(provinces, capsys):
    url, roots = provinces
    cli.main(["generate-reports", "--year", "2024"])
    first = capsys.readouterr().out
    assert "海南省 (hainan) 2024: 92 created, 0 existing" in first
    assert "山东省 (shandong) 2024: 19 created, 0 existing" in first  # the 15, and 济南's four quarters (004 §九)
    cli.main(["generate-reports", "--year", "2024", "--jurisdiction-id", str(roots["hainan"])])
    assert capsys.readouterr().out.strip() == "海南省 (hainan) 2024: 0 created, 92 existing"
    assert asyncio.run(_counts(url)) == (111, 2)


def test_an_unknown_province_is_refused(provinces):
    with pytest.raises(SystemExit, match="no active province"):
        cli.main(["generate-reports", "--year", "2024", "--jurisdiction-id", "01937c1e-5a2b-7c3d-8e4f-0a1b2c3d4e5f"])
