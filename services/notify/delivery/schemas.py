"""API shapes of delivery: the gateway's webhooks, a message's history, the development outbox."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from services.notify.delivery.domain import ReceiptStatus
from services.notify.messages.schemas import PriorityName


class InboundSmsIn(BaseModel):
    """An SMS a person sent to our sender id, as the gateway passes it on."""

    model_config = ConfigDict(populate_by_name=True)

    id: str | None = Field(default=None, max_length=200, description="The gateway's id")
    sender: str = Field(alias="from", min_length=3, max_length=32, description="E.164 number")
    text: str = Field(max_length=2000)


InboundAction = Literal["opted_out", "opted_in", "no_keyword"]


class InboundSmsResult(BaseModel):
    action: InboundAction
    person_id: uuid.UUID | None = Field(description="The contact the number belongs to, if known")
    cancelled: int = Field(description="Queued SMS cancelled by this STOP")
    duplicate: bool = Field(default=False, description="This id was received before")


class ReceiptIn(BaseModel):
    """A gateway's delivery receipt; `id` (the gateway's) or `reference` (ours) finds it."""

    id: str | None = Field(default=None, max_length=200)
    reference: uuid.UUID | None = None
    status: ReceiptStatus
    error: str | None = Field(default=None, max_length=200, description="The gateway's code")

    @model_validator(mode="after")
    def _one_key(self) -> ReceiptIn:
        if self.id is None and self.reference is None:
            raise ValueError("a receipt needs the gateway's id or our reference")
        return self


class ReceiptResult(BaseModel):
    message_id: uuid.UUID
    status: str
    changed: bool


class StatusRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    status: str
    detail: str | None
    at: datetime


class MessageHistory(BaseModel):
    """Where a message stands and every status it passed through, oldest first."""

    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    person_id: uuid.UUID
    channel: str
    template_key: str
    priority: PriorityName
    status: str
    attempts: int
    next_attempt_at: datetime
    sent_at: datetime | None
    provider_message_id: str | None
    last_error: str | None
    statuses: list[StatusRead]


class DevOutboxRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    message_id: uuid.UUID
    channel: str
    recipient: str
    sender: str
    subject: str | None
    body: str
    kept_at: datetime
