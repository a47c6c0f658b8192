"""How referrals and placements react to registry's merge and erasure of a person.

Matching's app.py runs these after the candidate read model's own reaction, in the same
transaction as the event's inbox row (see `combine_handlers`).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.referrals import service
from shared.consumer import Handler, expect
from shared.events import CloudEvent, Event
from shared.events.registry import PersonErased, PersonMerged


async def on_person_merged(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    """The duplicate's referrals and placements follow the survivor."""
    merged = expect(payload, PersonMerged)
    await service.repoint_merged_person(session, merged.person_id, merged.survivor_id)


async def on_person_erased(session: AsyncSession, event: CloudEvent, payload: Event) -> None:
    """Referrals and placements keep no free text about the person."""
    erased = expect(payload, PersonErased)
    await service.forget_person(session, erased.person_id)


HANDLERS: dict[str, Handler] = {
    PersonMerged.event_type(): on_person_merged,
    PersonErased.event_type(): on_person_erased,
}
