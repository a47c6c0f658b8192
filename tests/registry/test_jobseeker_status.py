"""A jobseeker's status: moved by officers, by matching's referral events, and by a return."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING

from shared import clock
from shared.events import CONTENT_TYPE
from shared.events.envelope import CloudEvent, envelope_for
from shared.events.matching import PlacementEnded, ReferralState, ReferralStatusChanged
from shared.events.topics import MATCHING_REFERRALS
from tests.support import applied, fetch, fetchval, jobseeker, wait_until

if TYPE_CHECKING:
    import httpx
    from aiokafka import AIOKafkaProducer

    from shared.settings import Settings


async def _status(client: httpx.AsyncClient, auth: dict[str, str], person_id: str) -> str:
    person = (await client.get(f"/v1/people/{person_id}", headers=auth)).json()
    return str(person["jobseeker"]["status"])


async def _status_events(settings: Settings, person_id: str) -> list[dict[str, object]]:
    rows = await fetch(
        settings,
        "registry",
        "SELECT value FROM outbox WHERE key = $1 AND type LIKE '%jobseeker_status_changed%'"
        " ORDER BY id",
        person_id,
    )
    return [json.loads(r["value"])["data"] for r in rows]


async def _wait_applied(settings: Settings, event_id: uuid.UUID) -> None:
    await wait_until(lambda: applied(settings, "registry", event_id))


async def test_officers_move_a_jobseeker_only_along_allowed_transitions(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    person = (await registry_client.post("/v1/jobseekers", json=jobseeker(), headers=auth)).json()
    path = f"/v1/people/{person['id']}/jobseeker/status"

    paused = await registry_client.post(
        path, json={"status": "inactive", "reason": "harvest season"}, headers=auth
    )
    placed = await registry_client.post(
        path, json={"status": "placed", "reason": "found a job"}, headers=auth
    )
    back = await registry_client.post(
        path, json={"status": "active", "reason": "back from the farm"}, headers=auth
    )

    assert paused.status_code == 200, paused.text
    assert placed.status_code == 409
    problem = placed.json()
    assert problem["current_status"] == "inactive"
    assert problem["allowed"] == ["active"]
    assert back.json()["status"] == "active"
    events = await _status_events(migrated, person["id"])
    assert [(e["previous_status"], e["status"]) for e in events] == [
        ("active", "inactive"),
        ("inactive", "active"),
    ]


def _referral(person_id: str, referral_id: uuid.UUID, status: ReferralState, n: int) -> CloudEvent:
    return envelope_for(
        ReferralStatusChanged(
            referral_id=referral_id,
            person_id=uuid.UUID(person_id),
            vacancy_id=uuid.uuid5(referral_id, "vacancy"),
            status=status,
            changed_by="officer-vt-2",
            changed_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n),
        )
    )


async def _publish(producer: AIOKafkaProducer, event: CloudEvent) -> uuid.UUID:
    await producer.send_and_wait(
        MATCHING_REFERRALS,
        event.to_bytes(),
        key=event.subject.encode(),
        headers=[("content-type", CONTENT_TYPE.encode())],
    )
    return event.id


async def _send(
    producer: AIOKafkaProducer,
    person_id: str,
    referral_id: uuid.UUID,
    status: ReferralState,
    n: int,
) -> uuid.UUID:
    return await _publish(producer, _referral(person_id, referral_id, status, n))


async def test_referral_events_move_the_jobseeker_and_a_redelivery_changes_nothing(
    registry_consumer: None,
    producer: AIOKafkaProducer,
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
) -> None:
    person = (await registry_client.post("/v1/jobseekers", json=jobseeker(), headers=auth)).json()
    first, second = uuid.uuid4(), uuid.uuid4()
    rejected = _referral(person["id"], first, "rejected", 2)

    # Events of different referrals travel on different partitions, in no set order: only
    # the state once all are applied is defined.
    sent = [
        await _send(producer, person["id"], first, "referred", 0),
        await _send(producer, person["id"], second, "referred", 1),
        await _publish(producer, rejected),
        await _publish(producer, rejected),  # delivered twice
    ]
    for event_id in sent:
        await _wait_applied(migrated, event_id)
    still_referred = await _status(registry_client, auth, person["id"])
    placed = await _send(producer, person["id"], second, "placed", 3)
    await wait_until(lambda: applied(migrated, "registry", placed))

    assert still_referred == "referred"  # the second referral is still open
    assert await _status(registry_client, auth, person["id"]) == "placed"
    assert (
        await fetchval(
            migrated, "registry", "SELECT count(*) FROM inbox WHERE event_id = $1", rejected.id
        )
        == 1
    )
    events = await _status_events(migrated, person["id"])
    assert (events[-1]["status"], events[-1]["referral_id"]) == ("placed", str(second))


async def test_a_closed_last_referral_makes_the_jobseeker_active_again(
    registry_consumer: None,
    producer: AIOKafkaProducer,
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
) -> None:
    person = (await registry_client.post("/v1/jobseekers", json=jobseeker(), headers=auth)).json()
    referral = uuid.uuid4()

    await _send(producer, person["id"], referral, "referred", 0)
    done = await _send(producer, person["id"], referral, "no_show", 1)
    await wait_until(lambda: applied(migrated, "registry", done))

    assert await _status(registry_client, auth, person["id"]) == "active"


async def test_referrals_of_people_registry_does_not_know_are_ignored(
    registry_consumer: None, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    referral = uuid.uuid4()
    done = await _send(producer, str(uuid.uuid4()), referral, "referred", 0)

    # Applied (not dead-lettered: a person erased here may still be referred in matching for
    # a moment) and nothing kept about a person registry does not hold.
    await wait_until(lambda: applied(migrated, "registry", done))
    kept = await fetchval(
        migrated,
        "registry",
        "SELECT count(*) FROM referral_states WHERE referral_id = $1",
        referral,
    )
    assert kept == 0


async def test_a_return_from_abroad_reactivates_the_jobseeker_with_the_skills_gained(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    today = clock.today()
    person = (
        await registry_client.post(
            "/v1/people", json=jobseeker(date_of_birth="1995-05-05"), headers=auth
        )
    ).json()
    assert person["jobseeker"] is None  # registered as a prospective migrant only
    record = (
        await registry_client.post(
            f"/v1/people/{person['id']}/migrations",
            json={"destination_country": "TH", "channel": "other_regular"},
            headers=auth,
        )
    ).json()
    path = f"/v1/migrations/{record['id']}/status"
    steps = [
        {"status": "ready"},
        {"status": "departed", "on": (today - timedelta(days=400)).isoformat()},
        {"status": "abroad"},
        {
            "status": "returned",
            "on": (today - timedelta(days=2)).isoformat(),
            "return_reason": "contract_completed",
            "skills_gained": ["forklift", "thai language"],
        },
    ]
    for step in steps:
        moved = await registry_client.post(path, json=step, headers=auth)
        assert moved.status_code == 200, moved.text

    back = (await registry_client.get(f"/v1/people/{person['id']}", headers=auth)).json()

    assert back["jobseeker"]["status"] == "active"
    assert back["jobseeker"]["status_reason"] == "returned from abroad"
    assert back["skills"] == ["forklift", "thai language"]
    assert back["migration_status"] == "returned"
    [event] = await _status_events(migrated, person["id"])
    assert (event["previous_status"], event["status"]) == (None, "active")


def _ended(person_id: str, referral_id: uuid.UUID, n: int) -> CloudEvent:
    return envelope_for(
        PlacementEnded(
            placement_id=uuid.uuid5(referral_id, "placement"),
            referral_id=referral_id,
            person_id=uuid.UUID(person_id),
            vacancy_id=uuid.uuid5(referral_id, "vacancy"),
            ended_on=date(2026, 1, 1),
            reason="contract finished",
            ended_by="officer-vt-2",
            ended_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=n),
        )
    )


async def test_an_ended_placement_makes_the_jobseeker_active_unless_a_newer_one_holds_them(
    registry_consumer: None,
    producer: AIOKafkaProducer,
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
) -> None:
    person = (await registry_client.post("/v1/jobseekers", json=jobseeker(), headers=auth)).json()
    first, second = uuid.uuid4(), uuid.uuid4()

    await _send(producer, person["id"], first, "placed", 0)
    ended = await _publish(producer, _ended(person["id"], first, 1))
    await _wait_applied(migrated, ended)
    after_end = await _status(registry_client, auth, person["id"])
    # Placed again at minute 3; the first placement's end (minute 2) arrives only afterwards.
    await _wait_applied(migrated, await _send(producer, person["id"], second, "placed", 3))
    late = await _publish(producer, _ended(person["id"], first, 2))
    await _wait_applied(migrated, late)

    assert after_end == "active"
    assert await _status(registry_client, auth, person["id"]) == "placed"
    events = await _status_events(migrated, person["id"])
    assert [e["status"] for e in events] == ["placed", "active", "placed"]
