"""Candidates carry the offices serving them from another province (registry's PersonServedAt),
so that those offices' staff rank, refer and place them; and the destination of their latest
migration record, so that an overseas placement can require one open for the job's country.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "candidates",
        sa.Column(
            "serving_offices",
            postgresql.ARRAY(sa.String(length=20)),
            server_default="{}",
            nullable=False,
        ),
    )
    op.add_column("candidates", sa.Column("migration_destination", sa.String(2), nullable=True))
    # Rows held before: only a person without a jobseeker profile kept their prospective
    # record's destination (as the one country they would work in). Others get it from the next
    # MigrationStatusChanged, or from a replay of registry.people into a fresh consumer group.
    op.execute(
        """
        UPDATE candidates SET migration_destination = abroad_countries[1]
        WHERE jobseeker_status IS NULL AND migration_status = 'prospective'
          AND cardinality(abroad_countries) = 1
        """
    )


def downgrade() -> None:
    op.drop_column("candidates", "migration_destination")
    op.drop_column("candidates", "serving_offices")
