"""LOG_LEVEL: the level `app_factory` configures, and what it lets through."""

from __future__ import annotations

import json
import logging

import pytest
from httpx import ASGITransport, AsyncClient
from pydantic import ValidationError

from app.core.config import Settings, get_settings
from app.main import app_factory


@pytest.fixture
def restore_logging():
    """app_factory reconfigures the process's root logger: put pytest's back afterwards."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    yield
    root.handlers[:] = handlers
    root.setLevel(level)
    get_settings.cache_clear()


class TestSetting:
    def test_defaults_to_info(self, monkeypatch):
        monkeypatch.delenv("LOG_LEVEL", raising=False)
        assert Settings(_env_file=None).log_level == "INFO"

    def test_any_case_is_accepted(self):
        assert Settings(log_level=" warning ").log_level == "WARNING"

    def test_an_unknown_level_is_refused_at_start(self):
        with pytest.raises(ValidationError):
            Settings(log_level="LOUD")


class TestAppFactory:
    async def access_lines(self, capsys, monkeypatch, level: str) -> list[dict]:
        monkeypatch.setenv("LOG_LEVEL", level)
        get_settings.cache_clear()
        app = app_factory()
        capsys.readouterr()
        async with AsyncClient(transport=ASGITransport(app=app), base_url="http://testserver") as client:
            assert (await client.get("/healthz")).status_code == 200
        lines = [json.loads(line) for line in capsys.readouterr().err.splitlines() if line.startswith("{")]
        return [line for line in lines if line.get("logger") == "envduty.access"]

    async def test_info_writes_one_access_line_per_request(self, capsys, monkeypatch, restore_logging):
        [line] = await self.access_lines(capsys, monkeypatch, "INFO")
        assert (line["level"], line["path"], line["status"]) == ("info", "/healthz", 200)
        assert logging.getLogger().level == logging.INFO

    async def test_warning_writes_none(self, capsys, monkeypatch, restore_logging):
        assert await self.access_lines(capsys, monkeypatch, "warning") == []
        assert logging.getLogger().level == logging.WARNING
