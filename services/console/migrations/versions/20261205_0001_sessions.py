"""Backbone tables and the console's sign-in sessions.

Revision ID: 0001
Revises:
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

from shared.migrations import create_backbone_tables, drop_backbone_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_backbone_tables()
    op.create_table(
        "console_sessions",
        sa.Column("id_hash", sa.String(64), nullable=False),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("roles", sa.ARRAY(sa.String(40)), nullable=False),
        sa.Column("office_code", sa.String(20)),
        sa.Column("province_code", sa.String(6)),
        sa.Column("national", sa.Boolean, server_default=sa.text("false"), nullable=False),
        sa.Column("method", sa.String(10), nullable=False),
        sa.Column("token", sa.Text, nullable=False),
        sa.Column("csrf_token", sa.String(64), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("end_reason", sa.String(20)),
        sa.PrimaryKeyConstraint("id_hash", name="pk_console_sessions"),
    )
    op.create_index(
        "ix_console_sessions_open_subject",
        "console_sessions",
        ["subject"],
        postgresql_where=sa.text("ended_at IS NULL"),
    )
    op.create_index("ix_console_sessions_last_seen_at", "console_sessions", ["last_seen_at"])


def downgrade() -> None:
    op.drop_table("console_sessions")
    drop_backbone_tables()
