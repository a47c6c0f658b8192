"""Migration records with their travel and work documents.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "migration_records",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "person_id",
            sa.Uuid,
            sa.ForeignKey(
                "people.id", ondelete="CASCADE", name="fk_migration_records_person_id_people"
            ),
            nullable=False,
        ),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("destination_country", sa.String(2), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("agency_code", sa.String(40)),
        sa.Column("employer_name", sa.String(200)),
        sa.Column("departed_on", sa.Date),
        sa.Column("returned_on", sa.Date),
        sa.Column("return_reason", sa.String(40)),
        sa.Column("skills_gained", JSONB, server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.Column("passport_number", sa.String(20)),
        sa.Column("passport_expires_on", sa.Date),
        sa.Column("visa_number", sa.String(40)),
        sa.Column("visa_expires_on", sa.Date),
        sa.Column("permit_number", sa.String(40)),
        sa.Column("permit_issued_on", sa.Date),
        sa.Column("permit_extended", sa.Boolean, server_default=sa.text("false"), nullable=False),
        sa.Column("office_code", sa.String(20)),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )
    op.create_index(
        "uq_migration_records_open_per_person",
        "migration_records",
        ["person_id"],
        unique=True,
        postgresql_where=sa.text("status NOT IN ('returned', 'cancelled')"),
    )


def downgrade() -> None:
    op.drop_table("migration_records")
