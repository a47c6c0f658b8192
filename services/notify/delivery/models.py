"""Delivery's own tables: what the development provider kept, SMS people sent us, and the
numbers that replied STOP."""

from __future__ import annotations

import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Index, String, Text, func
from sqlalchemy import text as sql_text
from sqlalchemy.orm import Mapped, mapped_column

from services.notify.messages.models import Message
from shared.db import Base
from shared.personal import CONTACT, MESSAGE, personal


class DevOutboxMessage(Base):
    """A message the development provider "sent": kept here for `GET /v1/dev/outbox` instead of
    reaching a phone or a mailbox. One per message, so handing it over again changes nothing."""

    __tablename__ = "dev_outbox"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    message_id: Mapped[uuid.UUID] = mapped_column(unique=True)
    channel: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(String(320), info=personal(CONTACT))
    sender: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str | None] = mapped_column(String(300), info=personal(MESSAGE))
    body: Mapped[str] = mapped_column(Text, info=personal(MESSAGE))
    kept_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())


class InboundSms(Base):
    """An SMS a person sent to our sender id, as the gateway passed it on, and what we did."""

    __tablename__ = "inbound_sms"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    # The gateway's id: a webhook delivered twice is recorded and acted on once.
    provider_id: Mapped[str | None] = mapped_column(String(200), unique=True)
    sender: Mapped[str] = mapped_column(
        String(20), index=True, info=personal(CONTACT, note="the phone number the SMS came from")
    )
    text: Mapped[str] = mapped_column(Text, info=personal(MESSAGE))
    keyword: Mapped[str | None] = mapped_column(String(10))
    person_id: Mapped[uuid.UUID | None]
    # opted_out, opted_in, no_keyword, unknown_number
    action: Mapped[str] = mapped_column(String(30))
    received_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )


class SmsOptOut(Base):
    """A number that replied STOP. The dispatcher sends nothing to it, whoever the message is
    for: a phone shared by a family opted out for all of them, and a number whose contact is not
    (or no longer) in the read model stays opted out."""

    __tablename__ = "sms_opt_outs"

    phone: Mapped[str] = mapped_column(String(20), primary_key=True, info=personal(CONTACT))
    opted_out_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    inbound_id: Mapped[int | None] = mapped_column(BigInteger)


# Indexes delivery reads on the messages table (declared here, beside the queries that need
# them; migration 0003 creates them).
Index(
    "ix_messages_sms_recipient_sent_at",
    Message.recipient,
    Message.sent_at,
    postgresql_where=sql_text("channel = 'sms' AND sent_at IS NOT NULL"),
)
Index("ix_messages_sending", Message.updated_at, postgresql_where=sql_text("status = 'sending'"))
