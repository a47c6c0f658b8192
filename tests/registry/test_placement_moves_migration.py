"""Matching's placements abroad ready the worker's migration record in registry."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from shared.events.envelope import CloudEvent, envelope_for
from shared.events.matching import PlacementMade
from shared.events.topics import MATCHING_REFERRALS
from tests.events import publish
from tests.support import (
    applied,
    fetch,
    fetchval,
    full_registration,
    jobseeker,
    wait_until,
)

if TYPE_CHECKING:
    import httpx
    from aiokafka import AIOKafkaProducer

    from shared.settings import Settings


def placement(person_id: str | uuid.UUID, *, overseas: bool = True, **extra: Any) -> CloudEvent:
    abroad: dict[str, Any] = (
        {"destination_country": "TH", "channel": "mou", "agency_code": "AG-PLACE-1"}
        if overseas
        else {}
    )
    return envelope_for(
        PlacementMade(
            placement_id=uuid.uuid4(),
            referral_id=uuid.uuid4(),
            person_id=uuid.UUID(str(person_id)),
            vacancy_id=uuid.uuid4(),
            isco08="9211",
            overseas=overseas,
            province_code="LA-BK",
            placed_by="officer-bk-1",
            placed_at=datetime.now(UTC),
            **(abroad | extra),
        )
    )


async def deliver(producer: AIOKafkaProducer, settings: Settings, event: CloudEvent) -> None:
    await publish(producer, event, MATCHING_REFERRALS)
    await wait_until(lambda: applied(settings, "registry", event.id))


async def records(
    client: httpx.AsyncClient, auth: dict[str, str], person_id: str
) -> list[dict[str, Any]]:
    answer = await client.get(f"/v1/people/{person_id}/migrations", headers=auth)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["items"])


async def migration_events(settings: Settings, person_id: str) -> list[dict[str, Any]]:
    rows = await fetch(
        settings,
        "registry",
        "SELECT value FROM outbox WHERE key = $1 AND type LIKE '%migration_status_changed%'"
        " ORDER BY id",
        person_id,
    )
    return [json.loads(r["value"])["data"] for r in rows]


async def register(client: httpx.AsyncClient, auth: dict[str, str], **body: Any) -> str:
    created = await client.post("/v1/jobseekers", json=jobseeker(**body), headers=auth)
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


async def test_an_overseas_placement_opens_a_ready_record_with_the_agency(
    registry_consumer: None,
    producer: AIOKafkaProducer,
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
) -> None:
    person_id = await register(registry_client, auth)

    await deliver(producer, migrated, placement(person_id))

    [record] = await records(registry_client, auth, person_id)
    assert (record["status"], record["agency_code"]) == ("ready", "AG-PLACE-1")
    assert (record["destination_country"], record["channel"]) == ("TH", "mou")
    person = (await registry_client.get(f"/v1/people/{person_id}", headers=auth)).json()
    assert person["migration_status"] == "ready"
    [event] = await migration_events(migrated, person_id)
    assert (event["previous_status"], event["status"]) == (None, "ready")
    assert (event["agency_code"], event["changed_by"]) == ("AG-PLACE-1", "officer-bk-1")


async def test_an_overseas_placement_moves_the_open_prospective_record_to_ready(
    registry_consumer: None,
    producer: AIOKafkaProducer,
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
) -> None:
    person_id = await register(registry_client, auth)
    opened = await registry_client.post(
        f"/v1/people/{person_id}/migrations",
        json={"destination_country": "MY", "channel": "other_regular"},
        headers=auth,
    )
    assert opened.status_code == 201, opened.text

    await deliver(producer, migrated, placement(person_id))

    [record] = await records(registry_client, auth, person_id)
    assert record["id"] == opened.json()["id"]
    assert (record["status"], record["destination_country"], record["channel"]) == (
        "ready",
        "TH",
        "mou",
    )
    assert record["agency_code"] == "AG-PLACE-1"
    events = await migration_events(migrated, person_id)
    assert [(e["previous_status"], e["status"]) for e in events] == [
        (None, "prospective"),
        ("prospective", "ready"),
    ]


async def test_a_domestic_placement_changes_no_migration_record(
    registry_consumer: None,
    producer: AIOKafkaProducer,
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
) -> None:
    person_id = await register(registry_client, auth)

    await deliver(producer, migrated, placement(person_id, overseas=False))

    assert await records(registry_client, auth, person_id) == []
    assert await migration_events(migrated, person_id) == []


async def test_a_placement_delivered_again_changes_nothing_more(
    registry_consumer: None,
    producer: AIOKafkaProducer,
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
) -> None:
    person_id = await register(registry_client, auth)
    first = placement(person_id)

    await publish(producer, first, MATCHING_REFERRALS)
    await publish(producer, first, MATCHING_REFERRALS)  # the same record twice
    await wait_until(lambda: applied(migrated, "registry", first.id))
    # The same placement in a new envelope (re-sent) finds the record ready and leaves it.
    again = envelope_for(PlacementMade.model_validate(first.data))
    await deliver(producer, migrated, again)

    [record] = await records(registry_client, auth, person_id)
    assert record["status"] == "ready"
    assert len(await migration_events(migrated, person_id)) == 1
    inbox = await fetchval(
        migrated, "registry", "SELECT count(*) FROM inbox WHERE event_id = $1", first.id
    )
    assert inbox == 1


async def test_a_placement_leaves_a_departed_worker_as_they_are(
    registry_consumer: None,
    producer: AIOKafkaProducer,
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
) -> None:
    person_id = await register(registry_client, auth)
    opened = (
        await registry_client.post(
            f"/v1/people/{person_id}/migrations",
            json={"destination_country": "TH", "channel": "other_regular"},
            headers=auth,
        )
    ).json()
    path = f"/v1/migrations/{opened['id']}/status"
    for step in ({"status": "ready"}, {"status": "departed", "on": "2026-01-05"}):
        moved = await registry_client.post(path, json=step, headers=auth)
        assert moved.status_code == 200, moved.text

    await deliver(producer, migrated, placement(person_id, agency_code="AG-OTHER-9"))

    [record] = await records(registry_client, auth, person_id)
    assert (record["status"], record["agency_code"]) == ("departed", None)


async def test_placements_of_people_registry_does_not_hold_are_ignored(
    registry_consumer: None, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    stranger = uuid.uuid4()

    await deliver(producer, migrated, placement(stranger))

    kept = await fetchval(
        migrated,
        "registry",
        "SELECT count(*) FROM migration_records WHERE person_id = $1",
        stranger,
    )
    assert kept == 0


async def test_person_events_carry_the_expiry_of_the_latest_passport(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    # Matching ranks readiness to depart by it; the passport number itself stays in registry.
    body = full_registration()
    created = await registry_client.post("/v1/jobseekers", json=body, headers=auth)
    assert created.status_code == 201, created.text
    person = created.json()
    passport = next(d for d in body["documents"] if d["kind"] == "passport")
    renewed = [
        *body["documents"],
        {"kind": "passport", "number": f"R{passport['number'][1:]}", "expires_on": "2036-02-01"},
    ]
    changed = await registry_client.patch(
        f"/v1/people/{person['id']}", json={"documents": renewed}, headers=auth
    )
    assert changed.status_code == 200, changed.text
    no_passport = await registry_client.post("/v1/jobseekers", json=jobseeker(), headers=auth)

    rows = await fetch(
        migrated,
        "registry",
        "SELECT key, value FROM outbox WHERE key = ANY($1::text[]) AND type LIKE '%person.%'"
        " ORDER BY id",
        [person["id"], no_passport.json()["id"]],
    )
    expiries = [(r["key"], json.loads(r["value"])["data"]["passport_expires_on"]) for r in rows]
    assert expiries == [
        (person["id"], "2031-05-01"),
        (person["id"], "2036-02-01"),
        (no_passport.json()["id"], None),
    ]
    assert all(passport["number"].encode() not in r["value"] for r in rows)
