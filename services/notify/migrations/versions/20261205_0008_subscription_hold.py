"""Who disabled or deleted a partner's subscription: an admin's hold (issue 16) is lifted by an
admin only, while a subscription disabled after failing webhooks, or by the partner itself, is
re-enabled by the partner. NULL `disabled_by`: disabled by the webhook job.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-05
"""

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("partner_subscriptions", sa.Column("disabled_by", sa.String(200)))
    op.add_column("partner_subscriptions", sa.Column("deleted_by", sa.String(200)))
    op.add_column(
        "partner_subscriptions", sa.Column("deleted_at", sa.DateTime(timezone=True))
    )


def downgrade() -> None:
    op.drop_column("partner_subscriptions", "deleted_at")
    op.drop_column("partner_subscriptions", "deleted_by")
    op.drop_column("partner_subscriptions", "disabled_by")
