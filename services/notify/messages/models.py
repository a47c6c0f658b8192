"""Messages to people and the history of each one's status."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.engine.default import DefaultExecutionContext
from sqlalchemy.orm import Mapped, mapped_column

from services.notify.messages.domain import priority_rank
from shared.db import Base, CreatedAt
from shared.personal import CONTACT, MESSAGE, personal

# queued → sending → sent → delivered | failed (the gateway's receipt);
# queued → failed (retries exhausted); queued → cancelled (consent withdrawn, STOP, erased).
MESSAGE_STATES = ("queued", "sending", "sent", "delivered", "failed", "cancelled")
OPEN_STATES = ("queued",)


def _rank_of_key(context: DefaultExecutionContext) -> int:
    # A row the ORM writes without its priority takes its key's.
    parameters = context.get_current_parameters()  # type: ignore[no-untyped-call]
    return priority_rank(str(parameters["template_key"]))


class Message(CreatedAt, Base):
    __tablename__ = "messages"
    __table_args__ = (
        # One message per event, recipient and channel, however often the event arrives.
        UniqueConstraint("event_id", "person_id", "channel"),
        # Cursor pagination walks (created_at, id).
        Index("ix_messages_created_at_id", "created_at", "id"),
        # The dispatcher claims due queued messages in this order: transactional ones first.
        Index(
            "ix_messages_due",
            "priority",
            "next_attempt_at",
            postgresql_where=text("status = 'queued'"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(primary_key=True, default=uuid.uuid4)
    event_id: Mapped[uuid.UUID]
    event_type: Mapped[str] = mapped_column(String(200))
    template_key: Mapped[str] = mapped_column(String(100))
    # 0 transactional, 1 courtesy (messages/domain.py PRIORITIES): claimed and rate-limited so
    # that what the person waits for is not held behind greetings and thanks. A row copied in
    # by hand without one (a benchmark's) is a courtesy message.
    priority: Mapped[int] = mapped_column(SmallInteger, default=_rank_of_key, server_default="1")
    person_id: Mapped[uuid.UUID] = mapped_column(index=True)
    province_code: Mapped[str] = mapped_column(String(6))
    channel: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(
        String(320), info=personal(CONTACT, note="phone number or email address")
    )
    language: Mapped[str] = mapped_column(String(2))
    template_id: Mapped[int] = mapped_column(ForeignKey("templates.id"))
    subject: Mapped[str | None] = mapped_column(String(300), info=personal(MESSAGE))
    body: Mapped[str] = mapped_column(
        Text, info=personal(MESSAGE, note="the rendered text: names, dates, places")
    )
    segments: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(20))
    attempts: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    provider_message_id: Mapped[str | None] = mapped_column(String(200), index=True)
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    correlation_id: Mapped[str | None] = mapped_column(String(100))
    updated_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now(), onupdate=func.now(), sort_order=1
    )


class MessageStatus(Base):
    """Every status a message passed through, with why (append-only)."""

    __tablename__ = "message_statuses"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    message_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("messages.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[str] = mapped_column(String(20))
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class KnownVacancy(Base):
    """What a referral message says about the job, from matching's vacancy events."""

    __tablename__ = "known_vacancies"

    vacancy_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    reference: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(300))
    province_code: Mapped[str] = mapped_column(String(6))
    destination_country: Mapped[str | None] = mapped_column(String(2))
    overseas: Mapped[bool]


class KnownEnrolment(Base):
    """Who is enrolled in which orientation session, so a change of session reaches them."""

    __tablename__ = "known_enrolments"

    enrolment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    session_id: Mapped[uuid.UUID] = mapped_column(index=True)
    person_id: Mapped[uuid.UUID] = mapped_column(index=True)
    status: Mapped[str] = mapped_column(String(20))
