"""escalation links to reports and duty lists

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02 08:00:00

DOMAIN.md "Escalations": an escalation is linked to zero or more findings, reports or duty lists
(a 督办 to a department whose annual duty report is late, 000 §(十二); a 通报 on bodies that have
not published their duty list, 002 §(十一)). Two link tables shaped like `escalation_finding`:
composite primary key, both sides cascade on delete, an index on the linked id for
`GET /escalations?report_id=` and `?duty_list_id=`.
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0014'
down_revision: str | None = '0013'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('escalation_report',
    sa.Column('escalation_id', sa.Uuid(), nullable=False),
    sa.Column('report_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalation.id'], name=op.f('fk_escalation_report_escalation_id_escalation'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], name=op.f('fk_escalation_report_report_id_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('escalation_id', 'report_id', name=op.f('pk_escalation_report'))
    )
    with op.batch_alter_table('escalation_report', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalation_report_report_id'), ['report_id'], unique=False)

    op.create_table('escalation_duty_list',
    sa.Column('escalation_id', sa.Uuid(), nullable=False),
    sa.Column('duty_list_id', sa.Uuid(), nullable=False),
    sa.ForeignKeyConstraint(['duty_list_id'], ['duty_list.id'], name=op.f('fk_escalation_duty_list_duty_list_id_duty_list'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['escalation_id'], ['escalation.id'], name=op.f('fk_escalation_duty_list_escalation_id_escalation'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('escalation_id', 'duty_list_id', name=op.f('pk_escalation_duty_list'))
    )
    with op.batch_alter_table('escalation_duty_list', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_escalation_duty_list_duty_list_id'), ['duty_list_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('escalation_duty_list', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalation_duty_list_duty_list_id'))

    op.drop_table('escalation_duty_list')
    with op.batch_alter_table('escalation_report', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_escalation_report_report_id'))

    op.drop_table('escalation_report')
