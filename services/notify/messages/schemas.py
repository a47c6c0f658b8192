"""API shapes for messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, BeforeValidator, ConfigDict

from services.notify.messages.domain import Priority, priority_of_rank

# Stored as its rank (the dispatcher orders by it); read by its name.
PriorityName = Annotated[
    Priority, BeforeValidator(lambda v: priority_of_rank(v) if isinstance(v, int) else v)
]


class MessageRead(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    template_key: str
    priority: PriorityName
    person_id: uuid.UUID
    channel: str
    recipient: str
    language: str
    body: str
    segments: int
    status: str
    created_at: datetime


class MessagePage(BaseModel):
    items: list[MessageRead]
    next_cursor: str | None
