"""Delivery: the development provider's kept messages, inbound SMS, numbers that replied STOP,
and the indexes the dispatcher's rate limit and its sweep of interrupted sends read.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dev_outbox",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("message_id", sa.Uuid, nullable=False),
        sa.Column("channel", sa.String(10), nullable=False),
        sa.Column("recipient", sa.String(320), nullable=False),
        sa.Column("sender", sa.String(320), nullable=False),
        sa.Column("subject", sa.String(300)),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column(
            "kept_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.UniqueConstraint("message_id", name="uq_dev_outbox_message_id"),
    )
    op.create_table(
        "inbound_sms",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("provider_id", sa.String(200)),
        sa.Column("sender", sa.String(20), nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("keyword", sa.String(10)),
        sa.Column("person_id", sa.Uuid),
        sa.Column("action", sa.String(30), nullable=False),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.UniqueConstraint("provider_id", name="uq_inbound_sms_provider_id"),
    )
    op.create_index("ix_inbound_sms_sender", "inbound_sms", ["sender"])
    op.create_table(
        "sms_opt_outs",
        sa.Column("phone", sa.String(20), primary_key=True),
        sa.Column("opted_out_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("inbound_id", sa.BigInteger),
    )
    # The rate limit counts SMS sent to a number within the last hour.
    op.create_index(
        "ix_messages_sms_recipient_sent_at",
        "messages",
        ["recipient", "sent_at"],
        postgresql_where=sa.text("channel = 'sms' AND sent_at IS NOT NULL"),
    )
    # Messages being handed over: few at any time; the sweep finds those a dead dispatcher left.
    op.create_index(
        "ix_messages_sending",
        "messages",
        ["updated_at"],
        postgresql_where=sa.text("status = 'sending'"),
    )


def downgrade() -> None:
    op.drop_index("ix_messages_sending", "messages")
    op.drop_index("ix_messages_sms_recipient_sent_at", "messages")
    op.drop_table("sms_opt_outs")
    op.drop_index("ix_inbound_sms_sender", "inbound_sms")
    op.drop_table("inbound_sms")
    op.drop_table("dev_outbox")
