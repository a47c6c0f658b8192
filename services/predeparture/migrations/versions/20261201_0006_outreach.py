"""Outreach sessions in communities, counted by sex and age band.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('outreach_sessions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('office_code', sa.String(length=20), nullable=False),
    sa.Column('province_code', sa.String(length=6), nullable=False),
    sa.Column('district', sa.String(length=100), nullable=False),
    sa.Column('village', sa.String(length=100), nullable=False),
    sa.Column('held_on', sa.Date(), nullable=False),
    sa.Column('facilitator', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=3), nullable=False),
    sa.Column('topics', postgresql.ARRAY(sa.String(length=20)), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_outreach_sessions'))
    )
    op.create_index('ix_outreach_sessions_held_on', 'outreach_sessions', ['held_on'], unique=False)
    op.create_index('ix_outreach_sessions_recorded', 'outreach_sessions', ['recorded_at', 'id'], unique=False)
    op.create_table('outreach_counts',
    sa.Column('outreach_id', sa.Uuid(), nullable=False),
    sa.Column('sex', sa.String(length=6), nullable=False),
    sa.Column('age_band', sa.String(length=8), nullable=False),
    sa.Column('people', sa.Integer(), nullable=False),
    sa.CheckConstraint('people >= 0', name=op.f('ck_outreach_counts_people')),
    sa.CheckConstraint("sex IN ('female', 'male', 'other')", name=op.f('ck_outreach_counts_sex')),
    sa.CheckConstraint("age_band IN ('under_15', '15-17', '18-24', '25-34', '35-44', '45-54', '55+')", name=op.f('ck_outreach_counts_age_band')),
    sa.ForeignKeyConstraint(['outreach_id'], ['outreach_sessions.id'], name=op.f('fk_outreach_counts_outreach_id_outreach_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('outreach_id', 'sex', 'age_band', name=op.f('pk_outreach_counts'))
    )


def downgrade() -> None:
    op.drop_table('outreach_counts')
    op.drop_index('ix_outreach_sessions_recorded', table_name='outreach_sessions')
    op.drop_index('ix_outreach_sessions_held_on', table_name='outreach_sessions')
    op.drop_table('outreach_sessions')
