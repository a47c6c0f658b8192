"""Write an event into the outbox inside the caller's transaction."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic_core import to_json

from shared.context import current_causation_id, current_correlation_id
from shared.db import driver_connection
from shared.events.envelope import CloudEvent

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.events.base import Event

# Run on the transaction's own connection (shared.db.driver_connection), not through the ORM
# session: outbox rows are never read back in the request, and the session's path costs more
# than the insert itself. Rows get their ids (the relay's order) in the order given.
_INSERT = "INSERT INTO outbox (event_id, topic, key, type, value) VALUES ($1, $2, $3, $4, $5)"
# Several in one statement: one array per column, the rows in the order given.
_INSERT_MANY = (
    "INSERT INTO outbox (event_id, topic, key, type, value) SELECT event_id, topic, key, type,"
    " value FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::bytea[])"
    " WITH ORDINALITY AS event (event_id, topic, key, type, value, n) ORDER BY n"
)


async def add_event(session: AsyncSession, event: Event) -> CloudEvent:
    """Stage `event` for publication; it is published only if the caller's transaction commits.

    Must be given the same session as the state change (a second session breaks atomicity).
    """
    envelope, row = _staged(event)
    await (await driver_connection(session)).execute(_INSERT, *row)
    return envelope


async def add_events(session: AsyncSession, events: Sequence[Event]) -> list[CloudEvent]:
    """Stage several events in one statement, in order (a class of sixty certificates costs
    one round trip, not sixty); the same guarantees as `add_event`."""
    staged = [_staged(event) for event in events]
    if len(staged) == 1:
        await (await driver_connection(session)).execute(_INSERT, *staged[0][1])
    elif staged:
        columns = [list(column) for column in zip(*(row for _, row in staged), strict=True)]
        await (await driver_connection(session)).execute(_INSERT_MANY, *columns)
    return [envelope for envelope, _ in staged]


def _staged(event: Event) -> tuple[CloudEvent, tuple[uuid.UUID, str, str, str, bytes]]:
    """The event's envelope (`envelope_for`'s) and its outbox row, the event's JSON encoded once:
    the row's value is the envelope's JSON with the event's own JSON as its `data`, byte for
    byte what `CloudEvent.to_bytes` gives (tests/unit/test_outbox_writer.py)."""
    payload = event.model_dump_json()
    event_id = uuid.uuid4()
    head: dict[str, Any] = {
        "specversion": "1.0",
        "id": event_id,
        "source": f"/labourx/{event.service}",
        "type": event.event_type(),
        "subject": event.subject(),
        "time": datetime.now(UTC),
        "datacontenttype": "application/json",
        "dataschema": f"/{event.schema_path()}",
        "correlationid": current_correlation_id() or str(event_id),
    }
    if (causation := current_causation_id()) is not None:
        head["causationid"] = causation
    # pydantic's own encoder, as the envelope's model_dump_json: the same text for each value.
    value = b"".join((to_json(head)[:-1], b',"data":', payload.encode(), b"}"))
    envelope = CloudEvent(**head, data=json.loads(payload))
    return envelope, (event_id, event.topic, envelope.subject, envelope.type, value)
