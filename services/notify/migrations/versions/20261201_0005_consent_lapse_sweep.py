"""Partner-sharing consents remember when partners were sent removals for their lapse, so that
the daily sweep sends them once; a partial index finds the ones still to sweep.

Consents that lapsed before this revision are swept on the first pass: their partners were
never told to delete what they hold.

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
    op.add_column(
        "partner_sharing_consents",
        sa.Column("lapsed_swept_at", sa.DateTime(timezone=True), nullable=True),
    )
    op.create_index(
        "ix_partner_sharing_consents_unswept",
        "partner_sharing_consents",
        ["expires_on"],
        postgresql_where=sa.text(
            "status IN ('given', 'renewed') AND expires_on IS NOT NULL AND lapsed_swept_at IS NULL"
        ),
    )


def downgrade() -> None:
    op.drop_index("ix_partner_sharing_consents_unswept", table_name="partner_sharing_consents")
    op.drop_column("partner_sharing_consents", "lapsed_swept_at")
