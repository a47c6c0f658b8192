"""How messages follow registry's merge and erasure of a person.

Notify's app.py runs these after the contact read model's own reaction, in the same
transaction as the event's inbox row (see `combine_handlers`).
"""

from __future__ import annotations

from sqlalchemy import delete, update
from sqlalchemy.ext.asyncio import AsyncSession

from services.notify.contacts.domain import CHANNELS
from services.notify.messages.models import KnownEnrolment, Message
from services.notify.messages.service import cancel_queued
from shared.consumer import Handler, expect
from shared.events import CloudEvent, Event
from shared.events.registry import PersonErased, PersonMerged


async def on_person_merged(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    """The duplicate is never messaged again: what still waits for it is cancelled (what is
    queued from now on goes to the survivor, whose contact the duplicate's leads to)."""
    merged = expect(payload, PersonMerged)
    await cancel_queued(session, merged.person_id, CHANNELS, "merged into another record")


async def on_person_erased(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    """Nothing more goes out; messages stay as counted rows but keep neither address nor text,
    and the sessions the person held a place in are forgotten."""
    erased = expect(payload, PersonErased)
    await cancel_queued(session, erased.person_id, CHANNELS, "person erased")
    await session.execute(
        delete(KnownEnrolment).where(KnownEnrolment.person_id == erased.person_id)
    )
    await session.execute(
        update(Message)
        .where(Message.person_id == erased.person_id)
        .values(recipient="", subject=None, body="")
        .execution_options(synchronize_session=False)
    )


HANDLERS: dict[str, Handler] = {
    PersonMerged.event_type(): on_person_merged,
    PersonErased.event_type(): on_person_erased,
}
