"""Notify's API, as the console reads it: the messages sent to a person."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict

if TYPE_CHECKING:
    from services.console.apis.client import Api


class Message(BaseModel):
    model_config = ConfigDict(extra="ignore")

    id: uuid.UUID
    template_key: str
    channel: str
    recipient: str
    language: str
    body: str
    status: str
    created_at: datetime


async def messages_to(api: Api, person_id: uuid.UUID, *, limit: int = 50) -> list[Message]:
    """The person's messages, oldest first (notify's order), as staff serving them may read."""
    found = await api.get("notify", "/v1/messages", {"person_id": str(person_id), "limit": limit})
    return [Message.model_validate(m) for m in found["items"]]
