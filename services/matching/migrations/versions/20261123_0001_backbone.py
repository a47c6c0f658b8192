"""Backbone tables: outbox, inbox, idempotency keys.

Revision ID: 0001
Revises:
Create Date: 2026-11-23
"""

from shared.migrations import create_backbone_tables, drop_backbone_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_backbone_tables()


def downgrade() -> None:
    drop_backbone_tables()
