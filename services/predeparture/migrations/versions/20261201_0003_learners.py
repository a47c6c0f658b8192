"""Predeparture's read model of people (learners), from registry's events.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('learners',
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('reference', sa.String(length=12), nullable=False),
    sa.Column('initials', sa.String(length=10), nullable=False),
    sa.Column('sex', sa.String(length=6), nullable=False),
    sa.Column('date_of_birth', sa.Date(), nullable=False),
    sa.Column('province_code', sa.String(length=6), nullable=False),
    sa.Column('office_code', sa.String(length=20), nullable=True),
    sa.Column('migration_status', sa.String(length=12), nullable=True),
    sa.Column('destination_country', sa.String(length=2), nullable=True),
    sa.Column('record_status', sa.String(length=10), server_default='active', nullable=False),
    sa.Column('merged_into', sa.Uuid(), nullable=True),
    sa.Column('record_version', sa.Integer(), server_default='0', nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('person_id', name=op.f('pk_learners'))
    )
    op.create_index('ix_learners_prospective', 'learners', ['created_at', 'person_id'], unique=False, postgresql_where=sa.text("migration_status = 'prospective' AND record_status = 'active'"))


def downgrade() -> None:
    op.drop_index('ix_learners_prospective', table_name='learners')
    op.drop_table('learners')
