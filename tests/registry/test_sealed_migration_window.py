"""An upgrade's migration window (LABOURX_PUBLISH_PERSON_EVENTS_V1): registry publishes the v1
record beside each sealed v2 event, marked as its twin; a consumer of this release applies the
v2 event and skips the twin, so the change is applied once (docs/operations.md, "Upgrading to
sealed person events"). Off (the default), only v2 goes out."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

import httpx

from labourx.catalog import SERVICES
from shared import clock
from shared.app import create_app
from shared.db import create_engine, session_factory
from shared.events import CloudEvent
from shared.events.base import parse_data
from shared.events.registry import PersonRegistered, PersonRegisteredV2
from shared.sealing_events import TWIN
from shared.work import Resources, Work
from tests.support import fetch, fetchval, full_registration

if TYPE_CHECKING:
    from shared.settings import Settings


async def _register(settings: Settings, auth: dict[str, str]) -> dict[str, Any]:
    app = create_app(SERVICES["registry"], settings)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://registry"
        ) as client,
    ):
        response = await client.post("/v1/jobseekers", json=full_registration(), headers=auth)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def _person_records(settings: Settings, person_id: str) -> list[CloudEvent]:
    rows = await fetch(
        settings,
        "registry",
        "SELECT value FROM outbox WHERE key = $1 AND type LIKE '%.person.registered.%' ORDER BY id",
        person_id,
    )
    return [CloudEvent.from_bytes(row["value"]) for row in rows]


async def _apply_in_matching(settings: Settings, event: CloudEvent) -> None:
    """Matching's consumer handler of the event, in a transaction, as its runner applies it."""
    handler = SERVICES["matching"].consumers[0].handlers[event.type]
    engine = create_engine(settings, "matching")
    resources = Resources()
    try:
        async with session_factory(engine)() as session, session.begin():
            work = Work(session, settings, session_factory(engine), clock.today(), resources)
            await handler(work, event, parse_data(event.type, event.data))
    finally:
        await resources.aclose()
        await engine.dispose()


async def _candidate(settings: Settings, person_id: str) -> Any:
    return await fetchval(
        settings,
        "matching",
        "SELECT reference FROM candidates WHERE person_id = $1::uuid",
        person_id,
    )


async def test_in_the_window_v1_goes_out_beside_v2_as_its_twin_and_is_applied_once(
    migrated: Settings, auth: dict[str, str]
) -> None:
    window = migrated.model_copy(update={"publish_person_events_v1": True})
    person = await _register(window, auth)

    sealed, twin = await _person_records(window, person["id"])
    assert sealed.type == PersonRegisteredV2.event_type()
    assert twin.type == PersonRegistered.event_type()
    assert (twin.model_extra or {})[TWIN] == str(sealed.id)
    assert twin.data["given_name_lo"] == person["given_name_lo"]  # v1: in clear, as before
    assert person["given_name_lo"] not in json.dumps(sealed.data, ensure_ascii=False)

    # A consumer of this release: the twin changes nothing, the v2 event applies the person.
    await _apply_in_matching(window, twin)
    assert await _candidate(window, person["id"]) is None
    await _apply_in_matching(window, sealed)
    assert await _candidate(window, person["id"]) == person["reference"]


async def test_out_of_the_window_only_the_sealed_event_goes_out(
    migrated: Settings, auth: dict[str, str]
) -> None:
    person = await _register(migrated, auth)
    [sealed] = await _person_records(migrated, person["id"])
    assert sealed.type == PersonRegisteredV2.event_type()
