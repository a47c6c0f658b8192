"""What delivery does when registry's events arrive: an erasure reaches delivery's own copies."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import delete, select, update

from services.notify.delivery.models import DevOutboxMessage, InboundSms
from services.notify.messages.models import Message
from shared.consumer import Handler, expect
from shared.events.registry import PersonErased

if TYPE_CHECKING:
    from shared.events import CloudEvent, Event
    from shared.work import Work


async def on_person_erased(work: Work, event: CloudEvent, payload: Event) -> None:
    """Drop the development provider's copies of the person's messages and blank what they
    sent us (the rows stay, as counts of STOPs). A number that replied STOP stays opted out:
    the list of such numbers holds no person, and forgetting one would message it again."""
    erased = expect(payload, PersonErased)
    await work.session.execute(
        delete(DevOutboxMessage).where(
            DevOutboxMessage.message_id.in_(
                select(Message.id).where(Message.person_id == erased.person_id)
            )
        )
    )
    await work.session.execute(
        update(InboundSms)
        .where(InboundSms.person_id == erased.person_id)
        .values(sender="", text="")
        .execution_options(synchronize_session=False)
    )


HANDLERS: dict[str, Handler] = {PersonErased.event_type(): on_person_erased}
