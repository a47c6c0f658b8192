"""Backbone tables and people.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
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
        "people",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("reference", sa.String(12), nullable=False),
        sa.Column("given_name_lo", sa.String(100)),
        sa.Column("family_name_lo", sa.String(100)),
        sa.Column("given_name_en", sa.String(100)),
        sa.Column("family_name_en", sa.String(100)),
        sa.Column("sex", sa.String(10), nullable=False),
        sa.Column("date_of_birth", sa.Date, nullable=False),
        sa.Column("phone", sa.String(20)),
        sa.Column("province_code", sa.String(6), nullable=False),
        sa.Column("office_code", sa.String(20)),
        sa.Column("preferred_language", sa.String(2), nullable=False),
        sa.Column("registered_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("reference", name="uq_people_reference"),
        sa.CheckConstraint("given_name_lo IS NOT NULL OR given_name_en IS NOT NULL", name="a_name"),
    )
    op.create_index("ix_people_province_code", "people", ["province_code"])


def downgrade() -> None:
    op.drop_table("people")
    drop_backbone_tables()
