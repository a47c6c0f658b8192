"""The erasure ledger: each erased id, when and on what basis, and the PersonErased it records
(ids and dates only), as registry's copy of the `registry.erasures` topic.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "erasure_ledger",
        sa.Column("person_id", sa.Uuid(), primary_key=True),
        sa.Column("erased_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("basis", sa.String(10), nullable=False),
        sa.Column("survivor_id", sa.Uuid(), nullable=True),
        sa.Column("cause_event_id", sa.Uuid(), nullable=False),
    )
    # Erasures made before this revision are not listed: their ids stay in the audit trail
    # (action "erased") and their tombstones, and a backup older than this revision predates
    # the ledger (docs/operations.md, "Back up and restore").


def downgrade() -> None:
    op.drop_table("erasure_ledger")
