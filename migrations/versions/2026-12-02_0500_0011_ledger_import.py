"""ledger import: spreadsheet import batches of responsibility items

Issue 7 item 5. A spreadsheet import of items into a draft or returned duty-list version is one
`duty_list_import_batch` (filed at the list's organisation, for scope); the items it created
point at it (`responsibility_item.import_batch_id`, indexed for "what did this import create").
Findings imported from a spreadsheet reuse `finding_import_batch` (0009): nothing to add there.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-02 05:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0011'
down_revision: str | None = '0010'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('duty_list_import_batch',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('duty_list_id', sa.Uuid(), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('source', sa.String(length=500), nullable=True),
    sa.Column('counts', sa.JSON(), nullable=False),
    sa.Column('created_by_id', sa.String(length=64), nullable=True),
    sa.Column('created_by_name', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['duty_list_id'], ['duty_list.id'], name=op.f('fk_duty_list_import_batch_duty_list_id_duty_list'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['organisation.id'], name=op.f('fk_duty_list_import_batch_jurisdiction_id_organisation')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_duty_list_import_batch_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_list_import_batch'))
    )
    with op.batch_alter_table('duty_list_import_batch', schema=None) as batch_op:
        batch_op.create_index('ix_duty_list_import_batch_duty_list_id_created_at', ['duty_list_id', 'created_at'], unique=False)

    with op.batch_alter_table('responsibility_item', schema=None) as batch_op:
        batch_op.add_column(sa.Column('import_batch_id', sa.Uuid(), nullable=True))
        batch_op.create_index(batch_op.f('ix_responsibility_item_import_batch_id'), ['import_batch_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_responsibility_item_import_batch_id_duty_list_import_batch'), 'duty_list_import_batch', ['import_batch_id'], ['id'])


def downgrade() -> None:
    with op.batch_alter_table('responsibility_item', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_responsibility_item_import_batch_id_duty_list_import_batch'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_responsibility_item_import_batch_id'))
        batch_op.drop_column('import_batch_id')

    with op.batch_alter_table('duty_list_import_batch', schema=None) as batch_op:
        batch_op.drop_index('ix_duty_list_import_batch_duty_list_id_created_at')

    op.drop_table('duty_list_import_batch')
