"""Learners keep names in both scripts and the offices serving them; sessions and outreach
entered late from paper are marked; an append-only audit trail.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Names arrive with each person's next PersonRegistered/PersonUpdated; until then a
    # certificate prints the initials, as before.
    for column in ("given_name_lo", "family_name_lo", "given_name_en", "family_name_en"):
        op.add_column("learners", sa.Column(column, sa.String(length=100), nullable=True))
    op.add_column(
        "learners",
        sa.Column(
            "serving_offices",
            postgresql.ARRAY(sa.String(length=20)),
            server_default="{}",
            nullable=False,
        ),
    )
    op.create_index(
        "ix_learners_serving_offices",
        "learners",
        ["serving_offices"],
        unique=False,
        postgresql_using="gin",
    )
    op.add_column(
        "orientation_sessions",
        sa.Column("entered_late", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.add_column(
        "outreach_sessions",
        sa.Column("entered_late", sa.Boolean(), server_default=sa.text("false"), nullable=False),
    )
    op.create_table(
        "predeparture_audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "at",
            sa.DateTime(timezone=True),
            server_default=sa.text("clock_timestamp()"),
            nullable=False,
        ),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("office_code", sa.String(length=20), nullable=True),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("person_id", sa.Uuid(), nullable=True),
        sa.Column("subject_id", sa.Uuid(), nullable=True),
        sa.Column("basis", sa.String(length=20), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_predeparture_audit_log")),
    )
    op.create_index("ix_predeparture_audit_log_person_at", "predeparture_audit_log", ["person_id", "at"], unique=False)
    op.create_index("ix_predeparture_audit_log_actor_at", "predeparture_audit_log", ["actor", "at"], unique=False)
    op.create_index("ix_predeparture_audit_log_subject_at", "predeparture_audit_log", ["subject_id", "at"], unique=False)
    # Append-only for every role, the application's own included: a trail that can be edited
    # proves nothing.
    op.execute(
        """
        CREATE FUNCTION predeparture_audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            RAISE EXCEPTION 'predeparture_audit_log is append-only (% refused)', TG_OP
                USING ERRCODE = 'insufficient_privilege';
        END $$
        """
    )
    op.execute(
        """
        CREATE TRIGGER predeparture_audit_log_append_only BEFORE UPDATE OR DELETE ON predeparture_audit_log
            FOR EACH ROW EXECUTE FUNCTION predeparture_audit_log_append_only()
        """
    )
    op.execute(
        """
        CREATE TRIGGER predeparture_audit_log_no_truncate BEFORE TRUNCATE ON predeparture_audit_log
            FOR EACH STATEMENT EXECUTE FUNCTION predeparture_audit_log_append_only()
        """
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER predeparture_audit_log_no_truncate ON predeparture_audit_log")
    op.execute("DROP TRIGGER predeparture_audit_log_append_only ON predeparture_audit_log")
    op.execute("DROP FUNCTION predeparture_audit_log_append_only()")
    op.drop_index("ix_predeparture_audit_log_subject_at", table_name="predeparture_audit_log")
    op.drop_index("ix_predeparture_audit_log_actor_at", table_name="predeparture_audit_log")
    op.drop_index("ix_predeparture_audit_log_person_at", table_name="predeparture_audit_log")
    op.drop_table("predeparture_audit_log")
    op.drop_column("outreach_sessions", "entered_late")
    op.drop_column("orientation_sessions", "entered_late")
    op.drop_index("ix_learners_serving_offices", table_name="learners")
    op.drop_column("learners", "serving_offices")
    for column in ("family_name_en", "given_name_en", "family_name_lo", "given_name_lo"):
        op.drop_column("learners", column)
