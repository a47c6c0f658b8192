"""Partner organisations, their keys and subscriptions, the feed, webhook deliveries, and the
partner-sharing consents the feed honours."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import Base, CreatedAt
from shared.personal import EVENT_DATA, personal


class Partner(CreatedAt, Base):
    """A partner organisation (IOM, ILO, LFTU, ...) that follows events through feeds."""

    __tablename__ = "partners"
    __table_args__ = (
        CheckConstraint(
            "max_scope IN ('aggregate', 'pseudonymised', 'personal')", name="max_scope"
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    # Upper case letters, digits and dashes: also part of its Kafka topic names.
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    category: Mapped[str] = mapped_column(String(40))
    # The widest scope its subscriptions may ask for, set by an admin.
    max_scope: Mapped[str] = mapped_column(String(20))
    active: Mapped[bool] = mapped_column(Boolean, default=True, server_default="true")
    created_by: Mapped[str] = mapped_column(String(200))


class PartnerKey(CreatedAt, Base):
    """An API key of a partner: only its SHA-256 is kept, and a prefix to tell keys apart."""

    __tablename__ = "partner_keys"

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    partner_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("partners.id", ondelete="CASCADE"), index=True
    )
    prefix: Mapped[str] = mapped_column(String(20))
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True), sort_order=1)


class Subscription(CreatedAt, Base):
    """A partner's subscription to one stream (all its event types, or some), with a scope and
    the ways it is delivered: the pull feed always, a signed webhook and a Kafka topic if asked.

    Every way out starts after feed position `starts_after` (the feed's end at its creation),
    unless the history was asked for (`include_history`, by `created_by`): then 0, and
    `catching_up_after` walks the past entries into the webhook and the topic before new ones
    (null once it has caught up, or when there was nothing to catch up on).
    """

    __tablename__ = "partner_subscriptions"
    __table_args__ = (
        CheckConstraint("scope IN ('aggregate', 'pseudonymised', 'personal')", name="scope"),
        CheckConstraint("status IN ('active', 'disabled', 'deleted')", name="status"),
        # One live subscription per partner and stream: the feed of a stream has one scope.
        Index(
            "uq_partner_subscriptions_stream",
            "partner_id",
            "stream",
            unique=True,
            postgresql_where=text("status <> 'deleted'"),
        ),
        Index("ix_partner_subscriptions_stream", "stream"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    stream: Mapped[str] = mapped_column(String(100))
    # Empty: every event type of the stream.
    event_types: Mapped[list[str]] = mapped_column(ARRAY(String(200)), server_default="{}")
    scope: Mapped[str] = mapped_column(String(20))
    webhook_url: Mapped[str | None] = mapped_column(String(2000))
    kafka: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    # The webhook secret is derived from the settings key and this version (never stored);
    # the previous version still signs until `secret_rotated_at` + the grace period.
    secret_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    secret_rotated_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    status: Mapped[str] = mapped_column(String(20), default="active", server_default="active")
    disabled_reason: Mapped[str | None] = mapped_column(Text)
    disabled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Who disabled it: `partner:<code>` (the partner), an admin's subject (then only an admin
    # enables it again), NULL when the webhook job did after persistent failures.
    disabled_by: Mapped[str | None] = mapped_column(String(200))
    deleted_by: Mapped[str | None] = mapped_column(String(200))
    deleted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_success_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    starts_after: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    include_history: Mapped[bool] = mapped_column(Boolean, default=False, server_default="false")
    catching_up_after: Mapped[int | None] = mapped_column(BigInteger)
    created_by: Mapped[str | None] = mapped_column(String(200))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), sort_order=1
    )


class FeedEntry(CreatedAt, Base):
    """One event of a stream, or one removal, in the order partners read them (`id`).

    `data` is the event's original payload: it is redacted per partner when read, so a consent
    given or withdrawn later counts for what is read later. An erasure replaces `data` of the
    person's entries with their aggregate view and clears `person_id` and `subject`.
    """

    __tablename__ = "partner_feed_entries"
    __table_args__ = (
        CheckConstraint("kind IN ('event', 'removal')", name="kind"),
        Index("ix_partner_feed_entries_stream_id", "stream", "id"),
        Index(
            "ix_partner_feed_entries_person_id",
            "person_id",
            postgresql_where=text("person_id IS NOT NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    stream: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(10))
    event_id: Mapped[uuid.UUID | None] = mapped_column()
    event_type: Mapped[str] = mapped_column(String(200))
    dataschema: Mapped[str | None] = mapped_column(String(300))
    subject: Mapped[str | None] = mapped_column(Text)
    person_id: Mapped[uuid.UUID | None] = mapped_column()
    # A removal for one partner only (a consent withdrawn from it); NULL: for every subscriber.
    target_partner_id: Mapped[uuid.UUID | None] = mapped_column()
    time: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    data: Mapped[dict[str, Any]] = mapped_column(
        JSONB, info=personal(EVENT_DATA, note="the event's payload, redacted per partner when read")
    )
    erased_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class SharingConsent(Base):
    """A person's latest partner-sharing decision per agency or category, from ConsentChanged."""

    __tablename__ = "partner_sharing_consents"
    __table_args__ = (
        # What the lapse sweep looks for: consents in force until a date, not swept yet.
        Index(
            "ix_partner_sharing_consents_unswept",
            "expires_on",
            postgresql_where=text(
                "status IN ('given', 'renewed') AND expires_on IS NOT NULL"
                " AND lapsed_swept_at IS NULL"
            ),
        ),
    )

    person_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    # 'agency:<code>' or 'category:<name>', as registry keys them.
    scope_key: Mapped[str] = mapped_column(String(60), primary_key=True)
    status: Mapped[str] = mapped_column(String(20))
    expires_on: Mapped[date | None] = mapped_column(Date)
    recorded_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    # When partners were sent removals for its lapse (after `expires_on`); a later decision
    # replaces the row and clears it.
    lapsed_swept_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class Delivery(CreatedAt, Base):
    """One feed entry to send to one subscription's webhook, retried on its schedule.

    pending → in_flight → succeeded; in_flight → pending (retry) or failed (schedule exhausted);
    pending → cancelled (the person was erased). An in_flight row whose lease ran out (the
    sender died) is due again.
    """

    __tablename__ = "partner_deliveries"
    __table_args__ = (
        CheckConstraint(
            "status IN ('pending', 'in_flight', 'succeeded', 'failed', 'cancelled')",
            name="status",
        ),
        UniqueConstraint("subscription_id", "entry_id"),
        Index(
            "ix_partner_deliveries_due",
            "next_attempt_at",
            postgresql_where=text("status IN ('pending', 'in_flight')"),
        ),
        Index("ix_partner_deliveries_partner", "partner_id", "created_at", "id"),
        Index("ix_partner_deliveries_entry_id", "entry_id"),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    partner_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("partners.id", ondelete="CASCADE"))
    subscription_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("partner_subscriptions.id", ondelete="CASCADE")
    )
    entry_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("partner_feed_entries.id", ondelete="CASCADE")
    )
    status: Mapped[str] = mapped_column(String(20), default="pending", server_default="pending")
    # Attempts in this round (a redelivery starts a new round) and in all.
    round_attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    round_started_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    last_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_status_code: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    succeeded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class DeliveryAttempt(Base):
    """Every attempt of a delivery with what the receiver answered (append-only)."""

    __tablename__ = "partner_delivery_attempts"

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("partner_deliveries.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status_code: Mapped[int | None] = mapped_column(Integer)
    error: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int] = mapped_column(Integer)
