"""The person keys fetched from registry, one per person met, to open registry's sealed person
events; each is deleted when PersonErased is applied (docs/architecture.md, "Erasure on the
event log").

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-17
"""

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
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
