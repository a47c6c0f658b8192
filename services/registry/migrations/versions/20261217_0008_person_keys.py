"""Each person's key (AES-256), which seals the personal part of their events on registry.people
and is destroyed on erasure (docs/architecture.md, "Erasure on the event log"). People
registered before it get theirs at their next change.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-17
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person_keys",
        sa.Column("person_id", sa.Uuid(), primary_key=True),
        sa.Column("key", sa.LargeBinary(), nullable=False),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    )


def downgrade() -> None:
    op.drop_table("person_keys")
