"""import batch report

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02 09:00:00

Issue 7 item 5 follow-up: a clerk who closed the tab reads a spreadsheet import's answer again
(`GET /duty-lists/{id}/items/imports/{batch_id}`, `GET /inspections/{id}/findings/imports/{batch_id}`).
The batch keeps the answer it gave, row errors included, as `report`. Nullable: batches written
before this revision, and JSON ledger imports (finding_import_batch), have none.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0013'
down_revision: str | None = '0012'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ('duty_list_import_batch', 'finding_import_batch'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(sa.Column('report', sa.JSON(), nullable=True))


def downgrade() -> None:
    for table in ('finding_import_batch', 'duty_list_import_batch'):
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column('report')
