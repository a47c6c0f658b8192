"""Consent history per person, purpose and scope.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "consents",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "person_id",
            sa.Uuid,
            sa.ForeignKey("people.id", ondelete="CASCADE", name="fk_consents_person_id_people"),
            nullable=False,
        ),
        sa.Column("purpose", sa.String(30), nullable=False),
        sa.Column("scope_key", sa.String(80), nullable=False),
        sa.Column("agency", sa.String(40)),
        sa.Column("category", sa.String(40)),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("method", sa.String(20), nullable=False),
        sa.Column("witness_name", sa.String(200)),
        sa.Column("expires_on", sa.Date),
        sa.Column("note", sa.Text),
        sa.Column("recorded_by", sa.String(200), nullable=False),
        sa.Column("office_code", sa.String(20)),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_index(
        "ix_consents_person_scope",
        "consents",
        ["person_id", "purpose", "scope_key", "recorded_at"],
    )


def downgrade() -> None:
    op.drop_table("consents")
