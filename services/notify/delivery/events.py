"""The events a message's delivery publishes, staged in the caller's transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from shared.context import causation_id_var, correlation_id_var
from shared.events.notify import MessageDelivered, MessageEvent, MessageFailed, MessageSent
from shared.outbox import add_event

if TYPE_CHECKING:
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.notify.messages.models import Message


async def message_event(
    session: AsyncSession,
    message: Message,
    verb: Literal["sent", "delivered", "failed"],
    at: datetime,
    *,
    error_code: str | None = None,
    after_sent: bool = False,
) -> None:
    """Stage the message's `verb` event: ids, channel, template and outcome, never its text or
    address. It carries the flow's correlation id, caused by the event that made the message."""
    fields = {
        "message_id": message.id,
        "person_id": message.person_id,
        "channel": message.channel,
        "template_key": message.template_key,
        "province_code": message.province_code,
        "cause_event_id": message.event_id,
        "cause_event_type": message.event_type,
        "attempts": message.attempts,
        "at": at,
    }
    event: MessageEvent
    if verb == "sent":
        event = MessageSent(**fields)
    elif verb == "delivered":
        event = MessageDelivered(**fields)
    else:
        event = MessageFailed(**fields, error_code=error_code or "failed", after_sent=after_sent)
    tokens = (
        correlation_id_var.set(message.correlation_id or str(message.event_id)),
        causation_id_var.set(str(message.event_id)),
    )
    try:
        await add_event(session, event)
    finally:
        correlation_id_var.reset(tokens[0])
        causation_id_var.reset(tokens[1])
