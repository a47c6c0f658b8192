"""Partners: organisations and their hashed API keys, subscriptions to streams with a scope,
the feed (events and removals in one order), webhook deliveries and their attempts, and the
partner-sharing consents the feed honours.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCOPES = "'aggregate', 'pseudonymised', 'personal'"


def _now() -> sa.Column:
    return sa.Column(
        "created_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
    )


def upgrade() -> None:
    op.create_table(
        "partners",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("code", sa.String(40), nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("category", sa.String(40), nullable=False),
        sa.Column("max_scope", sa.String(20), nullable=False),
        sa.Column("active", sa.Boolean, server_default="true", nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        _now(),
        sa.CheckConstraint(f"max_scope IN ({SCOPES})", name="ck_partners_max_scope"),
        sa.UniqueConstraint("code", name="uq_partners_code"),
    )
    op.create_table(
        "partner_keys",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "partner_id",
            sa.Uuid,
            sa.ForeignKey(
                "partners.id", ondelete="CASCADE", name="fk_partner_keys_partner_id_partners"
            ),
            nullable=False,
        ),
        sa.Column("prefix", sa.String(20), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("created_by", sa.String(200), nullable=False),
        _now(),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("digest", name="uq_partner_keys_digest"),
    )
    op.create_index("ix_partner_keys_partner_id", "partner_keys", ["partner_id"])

    op.create_table(
        "partner_subscriptions",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "partner_id",
            sa.Uuid,
            sa.ForeignKey(
                "partners.id",
                ondelete="CASCADE",
                name="fk_partner_subscriptions_partner_id_partners",
            ),
            nullable=False,
        ),
        sa.Column("stream", sa.String(100), nullable=False),
        sa.Column(
            "event_types",
            postgresql.ARRAY(sa.String(200)),
            server_default="{}",
            nullable=False,
        ),
        sa.Column("scope", sa.String(20), nullable=False),
        sa.Column("webhook_url", sa.String(2000)),
        sa.Column("kafka", sa.Boolean, server_default="false", nullable=False),
        sa.Column("secret_version", sa.Integer, server_default="1", nullable=False),
        sa.Column("secret_rotated_at", sa.DateTime(timezone=True)),
        sa.Column("status", sa.String(20), server_default="active", nullable=False),
        sa.Column("disabled_reason", sa.Text),
        sa.Column("disabled_at", sa.DateTime(timezone=True)),
        sa.Column("last_success_at", sa.DateTime(timezone=True)),
        _now(),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), server_default=sa.func.now(), nullable=False
        ),
        sa.CheckConstraint(f"scope IN ({SCOPES})", name="ck_partner_subscriptions_scope"),
        sa.CheckConstraint(
            "status IN ('active', 'disabled', 'deleted')", name="ck_partner_subscriptions_status"
        ),
    )
    op.create_index(
        "uq_partner_subscriptions_stream",
        "partner_subscriptions",
        ["partner_id", "stream"],
        unique=True,
        postgresql_where=sa.text("status <> 'deleted'"),
    )
    op.create_index("ix_partner_subscriptions_stream", "partner_subscriptions", ["stream"])

    op.create_table(
        "partner_feed_entries",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("stream", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("event_id", sa.Uuid),
        sa.Column("event_type", sa.String(200), nullable=False),
        sa.Column("dataschema", sa.String(300)),
        sa.Column("subject", sa.Text),
        sa.Column("person_id", sa.Uuid),
        sa.Column("target_partner_id", sa.Uuid),
        sa.Column("time", sa.DateTime(timezone=True), nullable=False),
        sa.Column("data", postgresql.JSONB, nullable=False),
        sa.Column("erased_at", sa.DateTime(timezone=True)),
        _now(),
        sa.CheckConstraint("kind IN ('event', 'removal')", name="ck_partner_feed_entries_kind"),
    )
    op.create_index("ix_partner_feed_entries_stream_id", "partner_feed_entries", ["stream", "id"])
    op.create_index(
        "ix_partner_feed_entries_person_id",
        "partner_feed_entries",
        ["person_id"],
        postgresql_where=sa.text("person_id IS NOT NULL"),
    )

    op.create_table(
        "partner_sharing_consents",
        sa.Column("person_id", sa.Uuid, primary_key=True),
        sa.Column("scope_key", sa.String(60), primary_key=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("expires_on", sa.Date),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
    )

    op.create_table(
        "partner_deliveries",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column(
            "partner_id",
            sa.Uuid,
            sa.ForeignKey(
                "partners.id", ondelete="CASCADE", name="fk_partner_deliveries_partner_id_partners"
            ),
            nullable=False,
        ),
        sa.Column(
            "subscription_id",
            sa.Uuid,
            sa.ForeignKey(
                "partner_subscriptions.id",
                ondelete="CASCADE",
                name="fk_partner_deliveries_subscription_id_partner_subscriptions",
            ),
            nullable=False,
        ),
        sa.Column(
            "entry_id",
            sa.BigInteger,
            sa.ForeignKey(
                "partner_feed_entries.id",
                ondelete="CASCADE",
                name="fk_partner_deliveries_entry_id_partner_feed_entries",
            ),
            nullable=False,
        ),
        sa.Column("status", sa.String(20), server_default="pending", nullable=False),
        sa.Column("round_attempts", sa.Integer, server_default="0", nullable=False),
        sa.Column("attempts", sa.Integer, server_default="0", nullable=False),
        sa.Column(
            "next_attempt_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column(
            "round_started_at",
            sa.DateTime(timezone=True),
            server_default=sa.func.now(),
            nullable=False,
        ),
        sa.Column("last_attempt_at", sa.DateTime(timezone=True)),
        sa.Column("last_status_code", sa.Integer),
        sa.Column("last_error", sa.Text),
        sa.Column("succeeded_at", sa.DateTime(timezone=True)),
        _now(),
        sa.CheckConstraint(
            "status IN ('pending', 'in_flight', 'succeeded', 'failed', 'cancelled')",
            name="ck_partner_deliveries_status",
        ),
        sa.UniqueConstraint(
            "subscription_id", "entry_id", name="uq_partner_deliveries_subscription_id"
        ),
    )
    op.create_index(
        "ix_partner_deliveries_due",
        "partner_deliveries",
        ["next_attempt_at"],
        postgresql_where=sa.text("status IN ('pending', 'in_flight')"),
    )
    op.create_index(
        "ix_partner_deliveries_partner",
        "partner_deliveries",
        ["partner_id", "created_at", "id"],
    )
    op.create_index("ix_partner_deliveries_entry_id", "partner_deliveries", ["entry_id"])

    op.create_table(
        "partner_delivery_attempts",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column(
            "delivery_id",
            sa.Uuid,
            sa.ForeignKey(
                "partner_deliveries.id",
                ondelete="CASCADE",
                name="fk_partner_delivery_attempts_delivery_id_partner_deliveries",
            ),
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status_code", sa.Integer),
        sa.Column("error", sa.Text),
        sa.Column("duration_ms", sa.Integer, nullable=False),
    )
    op.create_index(
        "ix_partner_delivery_attempts_delivery_id", "partner_delivery_attempts", ["delivery_id"]
    )


def downgrade() -> None:
    op.drop_table("partner_delivery_attempts")
    op.drop_table("partner_deliveries")
    op.drop_table("partner_sharing_consents")
    op.drop_table("partner_feed_entries")
    op.drop_table("partner_subscriptions")
    op.drop_table("partner_keys")
    op.drop_table("partners")
