"""Events the notify service publishes about the delivery of its messages (topic
`notify.deliveries`), for delivery statistics and for following a flow to its end.

They never carry what a message said nor where it went (the body, the phone number or email
address): only which message, about whom, on which channel and how it went. Keyed by message,
so each message's events stay in order.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import Field

from shared.events.base import Event, catalogued
from shared.events.topics import NOTIFY_DELIVERIES

DeliveryChannel = Literal["sms", "email"]


class MessageEvent(Event):
    service: ClassVar[str] = "notify"
    entity: ClassVar[str] = "message"
    topic: ClassVar[str] = NOTIFY_DELIVERIES
    subject_field: ClassVar[str] = "message_id"

    message_id: uuid.UUID
    person_id: uuid.UUID
    channel: DeliveryChannel
    template_key: str
    province_code: str = Field(description="ISO 3166-2:LA province of the person's office")
    cause_event_id: uuid.UUID = Field(description="The event that made notify write the message")
    cause_event_type: str
    attempts: int = Field(description="Hand-overs to the provider so far")
    at: datetime


@catalogued
class MessageSent(MessageEvent):
    """The provider accepted the message (an SMS gateway queued it, a mail server took it)."""

    verb: ClassVar[str] = "sent"
    version: ClassVar[int] = 1


@catalogued
class MessageDelivered(MessageEvent):
    """The SMS gateway's receipt says the message reached the handset."""

    verb: ClassVar[str] = "delivered"
    version: ClassVar[int] = 1


@catalogued
class MessageFailed(MessageEvent):
    """The message will not arrive: refused by the provider (e.g. an invalid number), retries
    exhausted, an outcome that cannot be known without risking a second copy, or a failed
    receipt after it was sent."""

    verb: ClassVar[str] = "failed"
    version: ClassVar[int] = 1

    error_code: str = Field(
        description="Short and stable: http_400, http_503, timeout, connection, smtp_550, "
        "unknown_outcome, receipt_failed, receipt_expired, ..."
    )
    after_sent: bool = Field(
        default=False, description="The provider had accepted it; a receipt reported failure"
    )
