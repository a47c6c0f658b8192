"""The first flow, in process: registry commit → outbox relay → broker → notify's welcome SMS."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING

import pytest

from shared.auth import mint_token
from shared.events import CONTENT_TYPE
from shared.events.envelope import envelope_for
from shared.events.topics import REGISTRY_PEOPLE
from shared.observability import EVENTS_CONSUMED
from shared.outbox.relay import OutboxRelay
from tests.events import person_registered
from tests.support import SMS_CONSENT, fetch, fetchval, jobseeker, wait_until

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx
    from aiokafka import AIOKafkaProducer

    from shared.settings import Settings


@pytest.fixture(scope="module")
async def pipeline(migrated: Settings, notify_consumer: None) -> AsyncIterator[None]:
    """The registry relay running as a task beside notify's consumer, as their processes would."""
    stop = asyncio.Event()
    relay = asyncio.create_task(OutboxRelay(migrated, "registry").run(stop))
    yield
    stop.set()
    await relay


async def test_a_registered_jobseeker_gets_a_welcome_sms_in_lao(
    pipeline: None,
    registry_client: httpx.AsyncClient,
    notify_client: httpx.AsyncClient,
    auth: dict[str, str],
) -> None:
    body = jobseeker(given_name_lo="ສົມສັກ", phone="020 5888 1234", consents=SMS_CONSENT)
    created = await registry_client.post("/v1/jobseekers", json=body, headers=auth)
    person_id = created.json()["id"]

    async def messages() -> list[dict[str, object]]:
        page = await notify_client.get(f"/v1/messages?person_id={person_id}", headers=auth)
        return list(page.json()["items"])

    [message] = await wait_until(messages, timeout_s=30)
    assert message["channel"] == "sms"
    assert message["status"] == "queued"
    assert message["recipient"] == "+8562058881234"
    assert message["language"] == "lo"
    assert "ສົມສັກ" in str(message["body"])
    assert created.json()["reference"] in str(message["body"])
    assert message["segments"] == 2  # Lao needs UCS-2: 70 characters a segment


async def test_the_same_event_delivered_twice_is_applied_once(
    pipeline: None, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    payload = person_registered(phone="+8562055550000", language="en")
    envelope = envelope_for(payload)
    headers = [("content-type", CONTENT_TYPE.encode())]
    for _ in range(2):
        await producer.send_and_wait(
            REGISTRY_PEOPLE, envelope.to_bytes(), key=envelope.subject.encode(), headers=headers
        )
    # A marker event behind the duplicates on the same key: once it is applied, both copies
    # of the first have been seen (same key, same partition, in order).
    marker = envelope_for(
        person_registered(phone="+8562055550000", language="en").model_copy(
            update={"person_id": payload.person_id}
        )
    )
    await producer.send_and_wait(
        REGISTRY_PEOPLE, marker.to_bytes(), key=marker.subject.encode(), headers=headers
    )

    await wait_until(
        lambda: fetchval(
            migrated, "notify", "SELECT count(*) FROM inbox WHERE event_id = $1", marker.id
        )
    )
    rows = await fetch(
        migrated, "notify", "SELECT id FROM messages WHERE event_id = $1", envelope.id
    )
    assert len(rows) == 1
    inbox = await fetchval(
        migrated, "notify", "SELECT count(*) FROM inbox WHERE event_id = $1", envelope.id
    )
    assert inbox == 1


async def test_unknown_event_types_are_skipped_and_counted(
    pipeline: None, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    future_type = "lao.labourx.registry.person.teleported.v1"
    before = EVENTS_CONSUMED.labels("notify", future_type, "ignored")._value.get()
    unknown = envelope_for(person_registered(phone="+8562055550000", language="en")).model_copy(
        update={"type": future_type}
    )
    known = envelope_for(person_registered(phone="+8562055550000", language="en"))
    for envelope in (unknown, known):
        await producer.send_and_wait(
            REGISTRY_PEOPLE, envelope.to_bytes(), key=b"same-key", headers=[]
        )

    await wait_until(
        lambda: fetchval(
            migrated, "notify", "SELECT count(*) FROM messages WHERE event_id = $1", known.id
        )
    )
    assert EVENTS_CONSUMED.labels("notify", future_type, "ignored")._value.get() == before + 1
    assert (
        await fetchval(
            migrated, "notify", "SELECT count(*) FROM inbox WHERE event_id = $1", unknown.id
        )
        == 0
    )


async def test_staff_see_only_messages_of_their_province(
    pipeline: None,
    registry_client: httpx.AsyncClient,
    notify_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
) -> None:
    created = await registry_client.post(
        "/v1/jobseekers", json=jobseeker(consents=SMS_CONSENT), headers=auth
    )
    person_id = created.json()["id"]
    query = f"/v1/messages?person_id={person_id}"

    async def visible(headers: dict[str, str]) -> int:
        return len((await notify_client.get(query, headers=headers)).json()["items"])

    await wait_until(lambda: visible(auth))
    other = mint_token(migrated, subject="sv", roles=["esc_staff"], province="LA-SV")
    unscoped = mint_token(migrated, subject="none", roles=["esc_staff"])
    national = mint_token(migrated, subject="nat", roles=["esc_staff"], national=True)

    assert await visible({"Authorization": f"Bearer {other}"}) == 0
    assert await visible({"Authorization": f"Bearer {unscoped}"}) == 0
    assert await visible({"Authorization": f"Bearer {national}"}) == 1


async def test_an_erasure_in_registry_purges_notify_s_copy(
    pipeline: None,
    registry_client: httpx.AsyncClient,
    notify_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
) -> None:
    body = jobseeker(given_name_lo="ບຸນມີ", phone="020 5777 4321", consents=SMS_CONSENT)
    person_id = (await registry_client.post("/v1/jobseekers", json=body, headers=auth)).json()["id"]
    query = f"/v1/messages?person_id={person_id}"

    async def messages() -> list[dict[str, object]]:
        return list((await notify_client.get(query, headers=auth)).json()["items"])

    await wait_until(messages)
    erased = await registry_client.post(
        f"/v1/people/{person_id}/erasure", json={"reason": "written request 2026-114"}, headers=auth
    )
    assert erased.status_code == 200, erased.text

    async def purged() -> bool:
        contact = await fetchval(
            migrated,
            "notify",
            "SELECT count(*) FROM contacts WHERE person_id = $1::uuid",
            person_id,
        )
        [message] = await messages()
        return contact == 0 and message["recipient"] == "" and message["body"] == ""

    await wait_until(purged)
    leftovers = await fetchval(
        migrated,
        "notify",
        "SELECT count(*) FROM messages WHERE recipient LIKE '%57774321' OR body LIKE '%ບຸນມີ%'",
    )
    assert leftovers == 0
