"""Contacts with email, names and the standing of each channel; template versions with email
subjects and authors, and the default templates in Lao and English; message delivery columns
and status history; the vacancies and enrolments messages describe.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import insert

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# The default templates as this revision released them (frozen: the live file moves on).
FROZEN = Path(__file__).parents[1] / "frozen" / "templates_0002.json"


def template_rows() -> list[dict[str, object]]:
    released = json.loads(FROZEN.read_text(encoding="utf-8"))["templates"]
    return [row | {"version": 1} for row in released]


def upgrade() -> None:
    for column in (
        sa.Column("reference", sa.String(40)),
        sa.Column("given_name_lo", sa.String(200)),
        sa.Column("given_name_en", sa.String(200)),
        sa.Column("email", sa.String(320)),
        sa.Column("office_code", sa.String(20)),
        sa.Column("sms_consent", sa.String(20)),
        sa.Column("sms_consent_expires_on", sa.Date),
        sa.Column("email_consent", sa.String(20)),
        sa.Column("email_consent_expires_on", sa.Date),
        sa.Column("sms_opted_out_at", sa.DateTime(timezone=True)),
        sa.Column("merged_into", sa.Uuid),
    ):
        op.add_column("contacts", column)
    op.create_index("ix_contacts_phone", "contacts", ["phone"])

    op.add_column("templates", sa.Column("subject", sa.String(300)))
    op.add_column(
        "templates",
        sa.Column("created_by", sa.String(200), server_default="migration", nullable=False),
    )
    templates = sa.table(
        "templates",
        sa.column("key", sa.String),
        sa.column("channel", sa.String),
        sa.column("language", sa.String),
        sa.column("version", sa.Integer),
        sa.column("subject", sa.String),
        sa.column("body", sa.Text),
    )
    # The welcome SMS of revision 0001 is version 1 already; every other default is added.
    op.execute(insert(templates).values(template_rows()).on_conflict_do_nothing())

    op.add_column(
        "messages",
        sa.Column("template_key", sa.String(100), server_default="welcome", nullable=False),
    )
    op.alter_column("messages", "template_key", server_default=None)
    op.alter_column("messages", "recipient", type_=sa.String(320))
    for column in (
        sa.Column("subject", sa.String(300)),
        sa.Column("attempts", sa.Integer, server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("provider_message_id", sa.String(200)),
        sa.Column("last_error", sa.Text),
        sa.Column("sent_at", sa.DateTime(timezone=True)),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
    ):
        op.add_column("messages", column)
    op.create_index("ix_messages_provider_message_id", "messages", ["provider_message_id"])
    op.create_index(
        "ix_messages_due",
        "messages",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'queued'"),
    )
    op.create_table(
        "message_statuses",
        sa.Column("id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column(
            "message_id",
            sa.Uuid,
            sa.ForeignKey(
                "messages.id", ondelete="CASCADE", name="fk_message_statuses_message_id_messages"
            ),
            nullable=False,
        ),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("detail", sa.Text),
        sa.Column("at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False),
    )
    op.create_index("ix_message_statuses_message_id", "message_statuses", ["message_id"])

    op.create_table(
        "known_vacancies",
        sa.Column("vacancy_id", sa.Uuid, primary_key=True),
        sa.Column("reference", sa.String(40), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("province_code", sa.String(6), nullable=False),
        sa.Column("destination_country", sa.String(2)),
        sa.Column("overseas", sa.Boolean, nullable=False),
    )
    op.create_table(
        "known_enrolments",
        sa.Column("enrolment_id", sa.Uuid, primary_key=True),
        sa.Column("session_id", sa.Uuid, nullable=False, index=True),
        sa.Column("person_id", sa.Uuid, nullable=False, index=True),
        sa.Column("status", sa.String(20), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("known_enrolments")
    op.drop_table("known_vacancies")
    op.drop_table("message_statuses")
    op.drop_index("ix_messages_due", "messages")
    op.drop_index("ix_messages_provider_message_id", "messages")
    for name in (
        "updated_at",
        "sent_at",
        "last_error",
        "provider_message_id",
        "next_attempt_at",
        "attempts",
        "subject",
        "template_key",
    ):
        op.drop_column("messages", name)
    op.alter_column("messages", "recipient", type_=sa.String(200))
    op.execute("DELETE FROM templates WHERE NOT (key = 'welcome' AND channel = 'sms')")
    op.drop_column("templates", "created_by")
    op.drop_column("templates", "subject")
    op.drop_index("ix_contacts_phone", "contacts")
    for name in (
        "merged_into",
        "sms_opted_out_at",
        "email_consent_expires_on",
        "email_consent",
        "sms_consent_expires_on",
        "sms_consent",
        "office_code",
        "email",
        "given_name_en",
        "given_name_lo",
        "reference",
    ):
        op.drop_column("contacts", name)
