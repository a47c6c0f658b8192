"""Attendance per person and module, its corrections after closing (append-only), completions
and certificates (numbered by a sequence).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('attendance',
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('module_code', sa.String(length=20), nullable=False),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('note', sa.Text(), nullable=True),
    sa.Column('recorded_by', sa.String(length=100), nullable=False),
    sa.Column('recorded_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('present', 'absent', 'excused')", name=op.f('ck_attendance_status')),
    sa.ForeignKeyConstraint(['session_id'], ['orientation_sessions.id'], name=op.f('fk_attendance_session_id_orientation_sessions')),
    sa.PrimaryKeyConstraint('session_id', 'person_id', 'module_code', name=op.f('pk_attendance'))
    )
    op.create_index('ix_attendance_person', 'attendance', ['person_id'], unique=False)
    op.create_table('attendance_corrections',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('session_id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('module_code', sa.String(length=20), nullable=False),
    sa.Column('previous_status', sa.String(length=8), nullable=True),
    sa.Column('status', sa.String(length=8), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('corrected_by', sa.String(length=100), nullable=False),
    sa.Column('corrected_at', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint("status IN ('present', 'absent', 'excused')", name=op.f('ck_attendance_corrections_status')),
    sa.ForeignKeyConstraint(['session_id'], ['orientation_sessions.id'], name=op.f('fk_attendance_corrections_session_id_orientation_sessions')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_corrections'))
    )
    op.create_index('ix_attendance_corrections_session', 'attendance_corrections', ['session_id', 'corrected_at'], unique=False)
    # Append-only for every role, the application's own included, like registry's audit_log:
    # a trail of corrections that can be edited proves nothing.
    op.execute(
        """
        CREATE FUNCTION attendance_corrections_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'attendance_corrections is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER attendance_corrections_append_only
            BEFORE UPDATE OR DELETE ON attendance_corrections
            FOR EACH ROW EXECUTE FUNCTION attendance_corrections_append_only()
        """
    )
    op.execute(
        """
        CREATE TRIGGER attendance_corrections_no_truncate BEFORE TRUNCATE ON attendance_corrections
            FOR EACH STATEMENT EXECUTE FUNCTION attendance_corrections_append_only()
        """
    )
    op.create_table('completions',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('person_id', sa.Uuid(), nullable=False),
    sa.Column('destination_country', sa.String(length=2), nullable=False),
    sa.Column('curriculum_id', sa.Uuid(), nullable=False),
    sa.Column('completed_on', sa.Date(), nullable=False),
    sa.Column('valid_until', sa.Date(), nullable=False),
    sa.Column('certificate_number', sa.String(length=40), nullable=False),
    sa.Column('verification_hash', sa.String(length=64), nullable=False),
    sa.Column('office_code', sa.String(length=20), nullable=True),
    sa.Column('status', sa.String(length=10), server_default='valid', nullable=False),
    sa.Column('withdrawn_reason', sa.Text(), nullable=True),
    sa.Column('issued_at', sa.DateTime(timezone=True), nullable=False),
    sa.Column('withdrawn_at', sa.DateTime(timezone=True), nullable=True),
    sa.CheckConstraint("status IN ('valid', 'withdrawn')", name=op.f('ck_completions_status')),
    sa.ForeignKeyConstraint(['curriculum_id'], ['curricula.id'], name=op.f('fk_completions_curriculum_id_curricula')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_completions')),
    sa.UniqueConstraint('certificate_number', name=op.f('uq_completions_certificate_number')),
    sa.UniqueConstraint('verification_hash', name=op.f('uq_completions_verification_hash'))
    )
    op.create_index('ix_completions_person', 'completions', ['person_id'], unique=False)
    op.create_index('uq_completions_valid', 'completions', ['person_id', 'destination_country'], unique=True, postgresql_where=sa.text("status = 'valid'"))
    op.execute("CREATE SEQUENCE completion_certificate_numbers")


def downgrade() -> None:
    op.execute("DROP SEQUENCE completion_certificate_numbers")
    op.drop_index('uq_completions_valid', table_name='completions')
    op.drop_index('ix_completions_person', table_name='completions')
    op.drop_table('completions')
    op.drop_index('ix_attendance_corrections_session', table_name='attendance_corrections')
    op.drop_table('attendance_corrections')
    op.execute("DROP FUNCTION attendance_corrections_append_only()")
    op.drop_index('ix_attendance_person', table_name='attendance')
    op.drop_table('attendance')
