"""The keys partners open their sealed Kafka records with (`POST /v1/partners/me/person-keys`):
a partner's own key of each person whose records it may read in `personal` scope, of no one
else, and of no one once the person withdrew their consent or was erased."""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING

import pytest

from services.notify.partners.schemas import MAX_PERSON_KEYS
from shared.events.registry import PersonErased, PersonRegistered
from shared.sealing import new_key, partner_person_key
from tests.notify.conftest import send
from tests.notify.test_partners import (
    UN,
    Partner,
    consent,
    new_partner,
    person,
    sessions,
    subscribe,
    topics_made,
)
from tests.support import fetchval

if TYPE_CHECKING:
    import httpx
    from aiokafka import AIOKafkaProducer
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from shared.settings import Settings

pytestmark = pytest.mark.usefixtures("notify_consumer")

__all__ = ["sessions"]  # test_partners' fixture


async def _keep_key(settings: Settings, person_id: uuid.UUID) -> bytes:
    """A person's key in notify's `person_keys`, as notify keeps it from registry."""
    key = new_key()
    await fetchval(
        settings,
        "notify",
        "INSERT INTO person_keys (person_id, key) VALUES ($1, $2)",
        person_id,
        key,
    )
    return key


async def _keys(
    client: httpx.AsyncClient, partner: Partner, *people: uuid.UUID
) -> dict[str, bytes]:
    answer = await client.post(
        "/v1/partners/me/person-keys",
        json={"person_ids": [str(p) for p in people]},
        headers=partner.headers,
    )
    assert answer.status_code == 200, answer.text
    return {p: base64.urlsafe_b64decode(k) for p, k in answer.json()["keys"].items()}


async def test_a_partner_gets_its_own_key_of_the_people_it_may_read_and_of_no_one_else(
    notify_client: httpx.AsyncClient,
    migrated: Settings,
    producer: AIOKafkaProducer,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first = await new_partner(notify_client, migrated, max_scope="personal")
    second = await new_partner(notify_client, migrated, max_scope="personal")  # same category
    feed_only = await new_partner(notify_client, migrated, max_scope="personal")
    pseudonymised = await new_partner(notify_client, migrated)
    topics = [
        (p, await subscribe(notify_client, p, scope="personal", kafka=True))
        for p in (first, second)
    ]
    topics.append((pseudonymised, await subscribe(notify_client, pseudonymised, kafka=True)))
    await subscribe(notify_client, feed_only, scope="personal")  # no topic: nothing sealed
    await topics_made(migrated, sessions)  # what the relay writes to them has somewhere to go
    try:
        await _each_partner_its_own_keys(
            notify_client, migrated, producer, (first, second, feed_only, pseudonymised)
        )
    finally:
        # Other modules count the topics the partner-topics job makes for live subscriptions.
        for p, subscription in topics:
            await notify_client.delete(
                f"/v1/partners/me/subscriptions/{subscription['id']}", headers=p.headers
            )


async def _each_partner_its_own_keys(
    notify_client: httpx.AsyncClient,
    migrated: Settings,
    producer: AIOKafkaProducer,
    partners: tuple[Partner, Partner, Partner, Partner],
) -> None:
    first, second, feed_only, pseudonymised = partners

    agreed, stranger, unkeyed = person(UN), person(), person(UN)
    keys = {p["person_id"]: await _keep_key(migrated, p["person_id"]) for p in (agreed, stranger)}
    for fields in (agreed, stranger, unkeyed):
        await send(producer, migrated, PersonRegistered(**fields))
    everyone = (agreed["person_id"], stranger["person_id"], unkeyed["person_id"])

    # Only the consenting person whose key notify holds; each partner its own key of them.
    got = {p.code: await _keys(notify_client, p, *everyone) for p in (first, second)}
    for p in (first, second):
        assert got[p.code] == {
            str(agreed["person_id"]): partner_person_key(keys[agreed["person_id"]], p.code)
        }
    assert got[first.code] != got[second.code]
    assert keys[agreed["person_id"]] not in got[first.code].values()
    # No `personal` Kafka subscription: no key, consent or not.
    assert await _keys(notify_client, feed_only, *everyone) == {}
    assert await _keys(notify_client, pseudonymised, *everyone) == {}

    # A consent withdrawn for one partner ends its answer, not the other's.
    await consent(producer, migrated, agreed["person_id"], "withdrawn", agency=first.code)
    assert await _keys(notify_client, first, *everyone) == {}
    assert set(await _keys(notify_client, second, *everyone)) == {str(agreed["person_id"])}
    # The erasure destroys notify's key of the person, and so every partner's.
    erased = PersonErased(
        person_id=agreed["person_id"], erased_by="esc-vt-1", erased_at=datetime.now(UTC)
    )
    await send(producer, migrated, erased)
    assert not await fetchval(
        migrated,
        "notify",
        "SELECT count(*) FROM person_keys WHERE person_id = $1",
        agreed["person_id"],
    )
    assert await _keys(notify_client, second, *everyone) == {}


async def test_asking_for_keys_takes_a_partners_key_and_a_bounded_list_of_ids(
    notify_client: httpx.AsyncClient, migrated: Settings
) -> None:
    partner = await new_partner(notify_client, migrated, max_scope="personal")
    url = "/v1/partners/me/person-keys"
    nobody = await notify_client.post(url, json={"person_ids": [str(uuid.uuid4())]})
    assert nobody.status_code == 401
    assert nobody.headers["content-type"].startswith("application/problem+json")
    wrong = await notify_client.post(
        url, json={"person_ids": [str(uuid.uuid4())]}, headers={"X-API-Key": "lxp_wrong"}
    )
    assert wrong.status_code == 401
    for ids in ([], [str(uuid.uuid4()) for _ in range(MAX_PERSON_KEYS + 1)], ["not-an-id"]):
        answer = await notify_client.post(url, json={"person_ids": ids}, headers=partner.headers)
        assert answer.status_code == 422, answer.text
        assert answer.headers["content-type"].startswith("application/problem+json")
        assert {e["field"].split(".")[0] for e in answer.json()["errors"]} == {"person_ids"}
    most = [str(uuid.uuid4()) for _ in range(MAX_PERSON_KEYS)]
    answer = await notify_client.post(url, json={"person_ids": most}, headers=partner.headers)
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"keys": {}}
