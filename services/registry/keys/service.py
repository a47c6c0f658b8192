"""Each person's key, and the person events sealed with it (docs/architecture.md, "Erasure on
the event log").

A key is made in the registration's transaction and destroyed in the erasure's (`purge`, also
what the erasure ledger re-applies after a restore). PersonRegistered and PersonUpdated are
published as their v2 types, personal fields sealed under it; in an upgrade's migration window
(`publish_person_events_v1`) the v1 record goes out beside it, marked as the twin of the v2
event so that consumers that read v2 apply the change once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import asyncpg
from sqlalchemy import Table, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert

from shared.consumer.direct import Direct
from shared.events.envelope import envelope_for
from shared.outbox import add_events
from shared.outbox.models import OutboxRecord
from shared.sealing import new_key
from shared.sealing_events import TWIN, sealed_event
from shared.sealing_keys import PersonKey, forget_keys, held_keys, stored_keys

if TYPE_CHECKING:
    import uuid
    from collections.abc import Collection

    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

    from shared.events.registry import PersonRegistered, PersonUpdated
    from shared.settings import Settings

# session.info: whether this transaction publishes the v1 twins (the process's setting, noted on
# the session by whoever opened it: a request, a consumer's event, a job's pass).
PUBLISH_V1 = "labourx.publish_person_events_v1"

_OUTBOX = insert(cast("Table", OutboxRecord.__table__))
# `keep_keys`'s insert of one key, run on the transaction's connection (shared.consumer.direct):
# one a registration, where the session's path costs more than the insert.
_KEEP = Direct(pg_insert(cast("Table", PersonKey.__table__)).on_conflict_do_nothing())


def note_publishing(session: AsyncSession, settings: Settings) -> None:
    """Publish this transaction's person events as the settings say (v2, and v1 twins in an
    upgrade's migration window)."""
    session.info[PUBLISH_V1] = settings.publish_person_events_v1


async def new_person_key(session: AsyncSession, person_id: uuid.UUID) -> bytes:
    """A key for a person registered now, kept in the registration's transaction."""
    key = new_key()
    await _KEEP.execute(session, {"person_id": person_id, "key": key})
    return key


async def key_of(session: AsyncSession, person_id: uuid.UUID) -> bytes:
    """The person's key; one made now for a person registered before keys existed."""
    found = await stored_keys(session, [person_id])
    return found.get(person_id) or await new_person_key(session, person_id)


async def held_keys_of(
    engine: AsyncEngine, person_ids: Collection[uuid.UUID]
) -> list[tuple[uuid.UUID, bytes]]:
    """The keys registry holds of `person_ids`, for the other services (keys/api.py): one
    SELECT on a pooled connection, in no transaction (a single statement sees one snapshot; an
    erasure committed before it is seen whole). A connection found closed is dropped from the
    pool, as SQLAlchemy drops one that fails under a session, and its error is the outage it is
    (a 503), whatever state asyncpg was left in when the server ended it."""
    async with engine.connect() as connection:
        driver = (await connection.get_raw_connection()).driver_connection
        try:
            return await held_keys(driver, person_ids)
        except Exception as exc:
            if driver is None or driver.is_closed():
                await connection.invalidate()
                raise asyncpg.ConnectionDoesNotExistError("connection was closed") from exc
            raise


async def destroy_keys(session: AsyncSession, person_ids: Collection[uuid.UUID]) -> None:
    """The erasure: every event sealed for these people can no longer be opened by anyone who
    has not fetched the key before (and they forget it with PersonErased)."""
    await forget_keys(session, person_ids)


async def announce(
    session: AsyncSession, event: PersonRegistered | PersonUpdated, key: bytes | None = None
) -> None:
    """Publish the person's record: its v2 event, sealed with the person's key (given, or read),
    and in a migration window the v1 twin."""
    sealed = sealed_event(event, key if key is not None else await key_of(session, event.person_id))
    # add_events: its envelope is built only if read, in a migration window.
    staged = await add_events(session, [sealed])
    if not session.info.get(PUBLISH_V1):
        return
    twin = envelope_for(event).model_copy(update={TWIN: str(staged[0].id)})
    await session.execute(
        _OUTBOX,
        {
            "event_id": twin.id,
            "topic": event.topic,
            "key": twin.subject,
            "type": twin.type,
            "value": twin.to_bytes(),
        },
    )
