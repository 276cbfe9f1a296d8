"""user_account keyset index for GET /users pages

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21 07:36:00

make bench measured GET /users at a million users: each page scanned and
sorted the whole table (1.9 s) because no index served ORDER BY created_at, id.
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_user_account_created_at_id", "user_account", ["created_at", "id"])


def downgrade() -> None:
    op.drop_index("ix_user_account_created_at_id", table_name="user_account")
