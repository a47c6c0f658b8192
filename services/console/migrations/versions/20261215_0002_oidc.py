"""OpenID Connect sign-in: sign-ins under way, and each session's tokens from the provider.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-15
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "console_oidc_flows",
        sa.Column("state", sa.String(128), nullable=False),
        sa.Column("browser_hash", sa.String(64), nullable=False),
        sa.Column("data", postgresql.JSONB, nullable=False),
        sa.Column("next", sa.String(2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("state", name="pk_console_oidc_flows"),
    )
    op.create_index("ix_console_oidc_flows_created_at", "console_oidc_flows", ["created_at"])
    op.create_table(
        "console_oidc_grants",
        sa.Column("session_hash", sa.String(64), nullable=False),
        sa.Column("refresh_token", sa.Text),
        sa.Column("id_token", sa.Text),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("session_hash", name="pk_console_oidc_grants"),
        sa.ForeignKeyConstraint(
            ["session_hash"],
            ["console_sessions.id_hash"],
            name="fk_console_oidc_grants_session_hash_console_sessions",
            ondelete="CASCADE",
        ),
    )


def downgrade() -> None:
    op.drop_table("console_oidc_grants")
    op.drop_table("console_oidc_flows")
