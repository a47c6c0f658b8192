"""What registry does when matching places a worker abroad."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.registry.migration_records.domain import Channel
from services.registry.migration_records.service import apply_placement
from shared.auth import Principal
from shared.consumer import Handler, PoisonEvent, expect
from shared.events.matching import PlacementMade

if TYPE_CHECKING:
    from shared.events import CloudEvent, Event
    from shared.work import Work


def _placer(payload: PlacementMade) -> Principal:
    """The officer who made the placement in matching: the audit trail and the event name
    them. National scope: matching already checked theirs, and the person may have moved."""
    return Principal(subject=payload.placed_by, roles=frozenset(), national=True)


async def on_placement_made(work: Work, event: CloudEvent, payload: Event) -> None:
    """An overseas placement readies the person's migration record; a domestic one changes none."""
    payload = expect(payload, PlacementMade)
    if not payload.overseas:
        return
    if payload.destination_country is None or payload.channel is None:
        raise PoisonEvent("an overseas placement without destination_country or channel")
    if payload.channel == Channel.MOU.value and not payload.agency_code:
        raise PoisonEvent("an MOU placement without the agency_code of the recruiting agency")
    await apply_placement(
        work.session,
        payload.person_id,
        destination_country=payload.destination_country,
        channel=Channel(payload.channel),
        agency_code=payload.agency_code,
        principal=_placer(payload),
        reason=f"placement {payload.placement_id}",
    )


HANDLERS: dict[str, Handler] = {PlacementMade.event_type(): on_placement_made}
