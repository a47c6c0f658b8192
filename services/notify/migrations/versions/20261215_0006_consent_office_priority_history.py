"""Issue 14 in notify: contacts keep whether the person is a jobseeker and when they registered
(which welcome, and until when a late consent still gets it) and the offices of other provinces
that serve them; messages get a priority (transactional before courtesy) that the dispatcher's
index orders by; partner subscriptions record where they start and whether they asked for the
history; the templates that name the person's office, and the migrant's welcome, are added as
new versions.

Two rules change for data already here:
- Channels are opt-in now: a contact with no `contact_sms` / `contact_email` consent on record is
  sent nothing on that channel until one is recorded in registry.
- A subscription made before this revision starts at its creation on the pull feed too (as its
  webhook and Kafka topic always did): the last entry written before it is its start.

A template whose newest version an admin wrote keeps that wording: no version is added over it.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-15
"""

import json
from pathlib import Path

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

# The templates as this revision releases them (frozen: the live file moves on).
FROZEN = Path(__file__).parents[1] / "frozen" / "templates_0006.json"
AUTHOR = "migration 0006"

# The priorities of messages already written, as messages/domain.py had them at this revision.
TRANSACTIONAL_KEYS = (
    "referral",
    "offer",
    "placement_confirmed",
    "orientation_required",
    "orientation_invitation",
    "orientation_waitlisted",
    "orientation_cancelled",
    "session_changed",
    "certificate_issued",
)


def upgrade() -> None:
    op.add_column(
        "contacts", sa.Column("jobseeker", sa.Boolean, server_default="false", nullable=False)
    )
    op.add_column("contacts", sa.Column("registered_at", sa.DateTime(timezone=True)))
    op.create_table(
        "contact_serving_offices",
        sa.Column(
            "person_id",
            sa.Uuid,
            sa.ForeignKey(
                "contacts.person_id",
                ondelete="CASCADE",
                name="fk_contact_serving_offices_person_id_contacts",
            ),
            nullable=False,
        ),
        sa.Column("office_code", sa.String(20), nullable=False),
        sa.Column("basis", sa.String(20), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("person_id", "office_code", name="pk_contact_serving_offices"),
    )
    op.create_index(
        "ix_contact_serving_offices_office_code", "contact_serving_offices", ["office_code"]
    )

    op.add_column(
        "messages", sa.Column("priority", sa.SmallInteger, server_default="1", nullable=False)
    )
    op.execute(
        sa.text("UPDATE messages SET priority = 0 WHERE template_key = ANY(:keys)").bindparams(
            keys=list(TRANSACTIONAL_KEYS)
        )
    )
    op.drop_index("ix_messages_due", "messages")
    op.create_index(
        "ix_messages_due",
        "messages",
        ["priority", "next_attempt_at"],
        postgresql_where=sa.text("status = 'queued'"),
    )

    op.add_column(
        "partner_subscriptions",
        sa.Column("starts_after", sa.BigInteger, server_default="0", nullable=False),
    )
    op.add_column(
        "partner_subscriptions",
        sa.Column("include_history", sa.Boolean, server_default="false", nullable=False),
    )
    op.add_column("partner_subscriptions", sa.Column("catching_up_after", sa.BigInteger))
    op.add_column("partner_subscriptions", sa.Column("created_by", sa.String(200)))
    op.execute(
        """
        UPDATE partner_subscriptions s SET starts_after = coalesce(
            (SELECT max(e.id) FROM partner_feed_entries e WHERE e.created_at < s.created_at), 0)
        """
    )

    templates = json.loads(FROZEN.read_text(encoding="utf-8"))["templates"]
    add = sa.text(
        """
        INSERT INTO templates (key, channel, language, version, subject, body, created_by)
        SELECT :key, :channel, :language, coalesce(max(version), 0) + 1, :subject, :body, :author
        FROM templates WHERE key = :key AND channel = :channel AND language = :language
        HAVING coalesce((array_agg(created_by ORDER BY version DESC))[1], 'migration')
            LIKE 'migration%'
        """
    )
    for row in templates:
        op.execute(add.bindparams(**row, author=AUTHOR))


def downgrade() -> None:
    op.execute(
        sa.text(
            "DELETE FROM templates t WHERE created_by = :author"
            " AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.template_id = t.id)"
        ).bindparams(author=AUTHOR)
    )
    for name in ("created_by", "catching_up_after", "include_history", "starts_after"):
        op.drop_column("partner_subscriptions", name)
    op.drop_index("ix_messages_due", "messages")
    op.create_index(
        "ix_messages_due",
        "messages",
        ["next_attempt_at"],
        postgresql_where=sa.text("status = 'queued'"),
    )
    op.drop_column("messages", "priority")
    op.drop_index("ix_contact_serving_offices_office_code", "contact_serving_offices")
    op.drop_table("contact_serving_offices")
    op.drop_column("contacts", "registered_at")
    op.drop_column("contacts", "jobseeker")
