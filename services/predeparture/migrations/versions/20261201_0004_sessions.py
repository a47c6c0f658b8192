"""Orientation sessions, enrolments and waiting lists.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('orientation_sessions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('office_code', sa.String(length=20), nullable=False),
    sa.Column('province_code', sa.String(length=6), nullable=False),
    sa.Column('curriculum_id', sa.Uuid(), nullable=False),
    sa.Column('starts_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('ends_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('facilitator', sa.String(length=200), nullable=False),
    sa.Column('language', sa.String(length=3), nullable=False),
    sa.Column('venue', sa.String(length=300), nullable=False),
    sa.Column('outreach', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('district', sa.String(length=100), nullable=True),
    sa.Column('village', sa.String(length=100), nullable=True),
    sa.Column('capacity', sa.Integer(), nullable=False),
    sa.Column('planned_modules', postgresql.ARRAY(sa.String(length=20)), nullable=False),
    sa.Column('status', sa.String(length=10), server_default='scheduled', nullable=False),
    sa.Column('status_reason', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), server_default=sa.text('now()'), nullable=False),
    sa.Column('version', sa.Integer(), server_default='1', nullable=False),
    sa.CheckConstraint("status IN ('scheduled', 'held', 'closed', 'cancelled')", name=op.f('ck_orientation_sessions_status')),
    sa.CheckConstraint('capacity > 0', name=op.f('ck_orientation_sessions_capacity')),
    sa.CheckConstraint('ends_at > starts_at', name=op.f('ck_orientation_sessions_times')),
    sa.ForeignKeyConstraint(['curriculum_id'], ['curricula.id'], name=op.f('fk_orientation_sessions_curriculum_id_curricula')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_orientation_sessions'))
    )
    op.create_index('ix_orientation_sessions_office_starts', 'orientation_sessions', ['office_code', 'starts_at'], unique=False)
    op.create_table('enrolments',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('status', sa.String(length=10), nullable=False),
    sa.Column('automatic', sa.Boolean(), server_default=sa.text('false'), nullable=False),
    sa.Column('destination_country', sa.String(length=2), nullable=True),
    sa.Column('reason', sa.Text(), nullable=True),
    sa.Column('created_by', sa.String(length=100), nullable=False),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('updated_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('enrolled', 'waitlisted', 'cancelled')", name=op.f('ck_enrolments_status')),
    sa.ForeignKeyConstraint(['session_id'], ['orientation_sessions.id'], name=op.f('fk_enrolments_session_id_orientation_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_enrolments'))
    )
    op.create_index('ix_enrolments_person', 'enrolments', ['person_id'], unique=False)
    op.create_index('ix_enrolments_session_status', 'enrolments', ['session_id', 'status', 'created_at'], unique=False)
    op.create_index('uq_enrolments_live', 'enrolments', ['session_id', 'person_id'], unique=True, postgresql_where=sa.text("status <> 'cancelled'"))


def downgrade() -> None:
    op.drop_index('uq_enrolments_live', table_name='enrolments')
    op.drop_index('ix_enrolments_session_status', table_name='enrolments')
    op.drop_index('ix_enrolments_person', table_name='enrolments')
    op.drop_table('enrolments')
    op.drop_index('ix_orientation_sessions_office_starts', table_name='orientation_sessions')
    op.drop_table('orientation_sessions')
