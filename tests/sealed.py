"""Registry's outbox as the tests read it: its sealed person events (v2) opened with the person's
key from registry's `person_keys`, as consumers open them, into the v1 record they seal."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

from shared.events import CATALOGUE
from shared.sealing_events import OPENS_INTO, opened_event
from tests.support import fetch, fetchval

if TYPE_CHECKING:
    from shared.settings import Settings

SEALED_TYPES = {sealed.event_type(): plain for sealed, plain in OPENS_INTO.items()}
# The v2 type of each v1 person record type.
SEALED_TYPE_OF = {plain.event_type(): sealed.event_type() for sealed, plain in OPENS_INTO.items()}


async def registry_key(settings: Settings, person_id: uuid.UUID | str) -> bytes | None:
    """The person's key as registry holds it (None: erased, or never made)."""
    key = await fetchval(
        settings,
        "registry",
        "SELECT key FROM person_keys WHERE person_id = $1",
        uuid.UUID(str(person_id)),
    )
    return bytes(key) if key is not None else None


async def opened(settings: Settings, envelope: dict[str, Any]) -> dict[str, Any]:
    """The envelope (a CloudEvent as JSON) with a sealed person event opened into its v1 type and
    data; any other event as it is."""
    plain_type = SEALED_TYPES.get(envelope["type"])
    if plain_type is None:
        return envelope
    sealed = CATALOGUE[envelope["type"]].model.model_validate(envelope["data"])
    key = await registry_key(settings, envelope["subject"])
    assert key is not None, f"registry holds no key of {envelope['subject']}"
    plain = opened_event(sealed, key)
    return {
        **envelope,
        "type": plain_type.event_type(),
        "data": json.loads(plain.model_dump_json()),
    }


async def opened_if_key(settings: Settings, envelope: dict[str, Any]) -> dict[str, Any]:
    """As `opened`, but a sealed event whose key registry no longer holds stays sealed."""
    if envelope["type"] in SEALED_TYPES and await registry_key(settings, envelope["subject"]):
        return await opened(settings, envelope)
    return envelope


async def outbox_events(
    settings: Settings, person_id: uuid.UUID | str, event_type: str | None = None
) -> list[dict[str, Any]]:
    """The person's events in registry's outbox (CloudEvents as JSON, in order), sealed ones
    opened; only those of `event_type` (a v1 type stands for its v2 too) when given."""
    rows = await fetch(
        settings,
        "registry",
        "SELECT value FROM outbox WHERE key = $1 ORDER BY id",
        str(person_id),
    )
    events = [await opened(settings, json.loads(row["value"])) for row in rows]
    return [e for e in events if event_type is None or e["type"] == event_type]


async def share_keys(settings: Settings, service: str) -> None:
    """Give `service` every key registry holds, as if its consumer had fetched each (for a test
    whose registry is not the one `settings.registry_url` serves)."""
    keys = await fetch(settings, "registry", "SELECT person_id, key FROM person_keys")
    for row in keys:
        await fetchval(
            settings,
            service,
            "INSERT INTO person_keys (person_id, key) VALUES ($1, $2)"
            " ON CONFLICT DO NOTHING RETURNING 1",
            row["person_id"],
            row["key"],
        )
