"""Backbone tables, contacts, templates (with the Lao and English welcome SMS) and messages.

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

WELCOME_LO = (
    "ສະບາຍດີ {{ name }}! ທ່ານໄດ້ລົງທະບຽນຊອກວຽກກັບສູນບໍລິການຈັດຫາງານແລ້ວ. "
    "ເລກອ້າງອີງ: {{ reference }}"
)
WELCOME_EN = (
    "Hello {{ name }}, you are registered as a jobseeker with the Employment Service Centre. "
    "Reference: {{ reference }}"
)


def upgrade() -> None:
    create_backbone_tables()
    op.create_table(
        "contacts",
        sa.Column("person_id", sa.Uuid, primary_key=True),
        sa.Column("phone", sa.String(20)),
        sa.Column("preferred_language", sa.String(2), nullable=False),
        sa.Column("province_code", sa.String(6), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    templates = op.create_table(
        "templates",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("key", sa.String(100), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("key", "channel", "language", "version", name="uq_templates_key"),
    )
    op.bulk_insert(
        templates,
        [
            {"key": "welcome", "channel": "sms", "language": "lo", "version": 1, "body": WELCOME_LO},
            {"key": "welcome", "channel": "sms", "language": "en", "version": 1, "body": WELCOME_EN},
        ],
    )
    op.create_table(
        "messages",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("event_id", sa.Uuid, nullable=False),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("person_id", sa.Uuid, nullable=False, index=True),
        sa.Column("province_code", sa.String(6), nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("recipient", sa.String(200), nullable=False),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column(
            "template_id",
            sa.Integer,
            sa.ForeignKey("templates.id", name="fk_messages_template_id_templates"),
            nullable=False,
        ),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("segments", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("correlation_id", sa.String(100)),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
        sa.UniqueConstraint("event_id", "person_id", "channel", name="uq_messages_event_id"),
    )
    op.create_index("ix_messages_created_at_id", "messages", ["created_at", "id"])


def downgrade() -> None:
    op.drop_table("messages")
    op.drop_table("templates")
    op.drop_table("contacts")
    drop_backbone_tables()
