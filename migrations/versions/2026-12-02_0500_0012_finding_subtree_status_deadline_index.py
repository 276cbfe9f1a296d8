"""finding subtree + status + deadline index

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-02 05:00:00

Issue 6 (bench targets): `GET /findings?subtree_of=&status=&overdue=true` and the statistics of an
organisation subtree reach `finding` through the subtree's organisations (organisation_closure),
one index probe each. With `deadline` in the index after `status`, "overdue" (deadline < today)
is a range inside the probe, so a province costs its own findings whatever the nation's size.
The new index starts with the columns of the one it replaces, which served only the first two.
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '0012'
down_revision: str | None = '0011'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.create_index('ix_finding_responsible_organisation_id_status_deadline',
                              ['responsible_organisation_id', 'status', 'deadline'], unique=False)
        batch_op.drop_index('ix_finding_responsible_organisation_id_status')


def downgrade() -> None:
    with op.batch_alter_table('finding', schema=None) as batch_op:
        batch_op.create_index('ix_finding_responsible_organisation_id_status',
                              ['responsible_organisation_id', 'status'], unique=False)
        batch_op.drop_index('ix_finding_responsible_organisation_id_status_deadline')
