"""Fixtures the router tests of one feature share; a module asks for them with
`pytestmark = pytest.mark.usefixtures(...)`."""

from __future__ import annotations

import pytest

from tests.sheet_helpers import AUDIT_MARK, latest_audit_seq


@pytest.fixture
async def audit_mark(database) -> int:
    """Marks the end of the audit trail as the test starts (the spreadsheet import tests count after it)."""
    AUDIT_MARK["seq"] = await latest_audit_seq(database)
    return AUDIT_MARK["seq"]
