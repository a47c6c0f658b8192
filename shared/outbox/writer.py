"""Write an event into the outbox inside the caller's transaction."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, insert

from shared.events.envelope import CloudEvent, envelope_for
from shared.outbox.models import OutboxRecord

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.events.base import Event

# A Core insert: outbox rows are never read back in the request, so they need no ORM identity
# tracking, which costs more than the insert itself.
_INSERT = insert(cast("Table", OutboxRecord.__table__))


async def add_event(session: AsyncSession, event: Event) -> CloudEvent:
    """Stage `event` for publication; it is published only if the caller's transaction commits.

    Must be given the same session as the state change (a second session breaks atomicity).
    """
    envelope = envelope_for(event)
    await session.execute(_INSERT, _row(event, envelope))
    return envelope


async def add_events(session: AsyncSession, events: Sequence[Event]) -> list[CloudEvent]:
    """Stage several events in one statement, in order (a class of sixty certificates costs one
    round trip, not sixty); the same guarantees as `add_event`."""
    envelopes = [envelope_for(event) for event in events]
    if envelopes:
        await session.execute(
            _INSERT,
            [_row(event, envelope) for event, envelope in zip(events, envelopes, strict=True)],
        )
    return envelopes


def _row(event: Event, envelope: CloudEvent) -> dict[str, object]:
    return {
        "event_id": envelope.id,
        "topic": event.topic,
        "key": envelope.subject,
        "type": envelope.type,
        "value": envelope.to_bytes(),
    }
