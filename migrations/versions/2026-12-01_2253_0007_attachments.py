"""evidence attachments and their links to findings and reports

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:53:46.096207

Issue 6 item 4: `attachment` (one uploaded file: sniffed type, size, SHA-256, sanitised name;
the bytes are in the blob store under their SHA-256) and the link tables `finding_attachment`
and `report_attachment` (one file supports several records; the same bytes once per record,
unique on (record, sha256)).
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0007'
down_revision: str | None = '0006'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('attachment',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('jurisdiction_id', sa.Uuid(), nullable=False),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('size', sa.BigInteger(), nullable=False),
    sa.Column('media_type', sa.String(length=100), nullable=False),
    sa.Column('file_name', sa.String(length=255), nullable=False),
    sa.Column('client_file_name', sa.String(length=255), nullable=False),
    sa.Column('uploaded_by_id', sa.String(length=64), nullable=True),
    sa.Column('uploaded_by_name', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['jurisdiction_id'], ['organisation.id'], name=op.f('fk_attachment_jurisdiction_id_organisation')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_attachment_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment'))
    )
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.create_index('ix_attachment_organisation_id_created_at_id', ['organisation_id', 'created_at', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_sha256'), ['sha256'], unique=False)

    op.create_table('report_attachment',
    sa.Column('report_id', sa.Uuid(), nullable=False),
    sa.Column('attachment_id', sa.Uuid(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.Enum('evidence', 'plan', 'progress', 'closure', 'verification', 'report', 'annex', name='attachmentpurpose', native_enum=False, length=16), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('linked_by_id', sa.String(length=64), nullable=True),
    sa.Column('linked_by_name', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachment.id'], name=op.f('fk_report_attachment_attachment_id_attachment')),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_report_attachment_organisation_id_organisation')),
    sa.ForeignKeyConstraint(['report_id'], ['report.id'], name=op.f('fk_report_attachment_report_id_report'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('report_id', 'attachment_id', name=op.f('pk_report_attachment')),
    sa.UniqueConstraint('report_id', 'sha256', name=op.f('uq_report_attachment_report_id_sha256'))
    )
    with op.batch_alter_table('report_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_report_attachment_attachment_id'), ['attachment_id'], unique=False)
        batch_op.create_index('ix_report_attachment_report_id_created_at_attachment_id', ['report_id', 'created_at', 'attachment_id'], unique=False)

    op.create_table('finding_attachment',
    sa.Column('finding_id', sa.Uuid(), nullable=False),
    sa.Column('attachment_id', sa.Uuid(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.Enum('evidence', 'plan', 'progress', 'closure', 'verification', 'report', 'annex', name='attachmentpurpose', native_enum=False, length=16), nullable=False),
    sa.Column('label', sa.String(length=200), nullable=True),
    sa.Column('organisation_id', sa.Uuid(), nullable=False),
    sa.Column('linked_by_id', sa.String(length=64), nullable=True),
    sa.Column('linked_by_name', sa.String(length=100), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('(CURRENT_TIMESTAMP)'), nullable=False),
    sa.ForeignKeyConstraint(['attachment_id'], ['attachment.id'], name=op.f('fk_finding_attachment_attachment_id_attachment')),
    sa.ForeignKeyConstraint(['finding_id'], ['finding.id'], name=op.f('fk_finding_attachment_finding_id_finding'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['organisation_id'], ['organisation.id'], name=op.f('fk_finding_attachment_organisation_id_organisation')),
    sa.PrimaryKeyConstraint('finding_id', 'attachment_id', name=op.f('pk_finding_attachment')),
    sa.UniqueConstraint('finding_id', 'sha256', name=op.f('uq_finding_attachment_finding_id_sha256'))
    )
    with op.batch_alter_table('finding_attachment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_finding_attachment_attachment_id'), ['attachment_id'], unique=False)
        batch_op.create_index('ix_finding_attachment_finding_id_created_at_attachment_id', ['finding_id', 'created_at', 'attachment_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('finding_attachment', schema=None) as batch_op:
        batch_op.drop_index('ix_finding_attachment_finding_id_created_at_attachment_id')
        batch_op.drop_index(batch_op.f('ix_finding_attachment_attachment_id'))

    op.drop_table('finding_attachment')
    with op.batch_alter_table('report_attachment', schema=None) as batch_op:
        batch_op.drop_index('ix_report_attachment_report_id_created_at_attachment_id')
        batch_op.drop_index(batch_op.f('ix_report_attachment_attachment_id'))

    op.drop_table('report_attachment')
    with op.batch_alter_table('attachment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_sha256'))
        batch_op.drop_index('ix_attachment_organisation_id_created_at_id')

    op.drop_table('attachment')
