"""Erasure reaches the event log (issue 20, points 1 and 2), seen from outside: after a person's
erasure, a fresh consumer reading every topic and every dead-letter topic from the beginning
finds none of their data in any readable form, a replay of their dead letter brings nothing back,
while everyone else's events still open and apply. The scan includes the Kafka topic of a partner
in `personal` scope the person consented to share with, whose copy of their registration is
sealed under the partner's own key of them: before the erasure the key notify serves the partner
opens it, after it there is no key to serve. And a consumer opens the events of people it knows
without registry, and waits for registry for people it does not know.

Everything is real: registry's API (also serving the person keys), its outbox relay, notify's
API (partners, their keys) and outbox relay, the broker, the session's consumer groups of
matching, predeparture and notify, `labourx dlq replay`.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import re
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from prometheus_client import REGISTRY

from labourx.catalog import SERVICES
from services.notify.partners.jobs import ensure_partner_topics
from shared.consumer import ConsumerRunner
from shared.db import create_engine, session_factory
from shared.events import CloudEvent
from shared.events.registry import PersonRegistered, PersonRegisteredV2, PersonUpdatedV2
from shared.events.topics import REGISTRY_PEOPLE, dead_letter_topic
from shared.infra import free_port
from shared.jobs import run_once
from shared.kafka import ensure_topics
from shared.outbox.relay import OutboxRelay
from shared.sealing import open_sealed
from shared.sealing_events import opened_event
from shared.spec import PeriodicJob
from tests.support import (
    EVENT_TRAVEL_S,
    bearer,
    fetch,
    fetchval,
    full_registration,
    registry_listening,
    spawn_cli,
    unique_names,
    wait_until,
)

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable, Iterable

    import httpx
    from aiokafka import AIOKafkaProducer, ConsumerRecord

    from shared.settings import Settings

CONSUMERS = ("matching", "predeparture", "notify")
REGISTERED_V2 = PersonRegisteredV2.event_type()


@pytest.fixture
async def relay(migrated: Settings) -> AsyncIterator[None]:
    """Registry's and notify's outbox relays, as `labourx relay registry|notify` run them (for
    one test: the other must keep the session's consumers from meeting its people)."""
    stop = asyncio.Event()
    tasks = [
        asyncio.create_task(OutboxRelay(migrated, service).run(stop))
        for service in ("registry", "notify")
    ]
    yield
    stop.set()
    await asyncio.gather(*tasks)


def _person(n: int, shares_with: str | None = None) -> dict[str, Any]:
    """A full registration whose every personal value is this run's own (names, birth date,
    phone, email, district, village), so that finding one anywhere means finding this person;
    `shares_with`: the partner agency they agreed at the counter to share their data with."""
    tag = uuid.uuid4().hex[:8]
    family = unique_names()
    consents = [
        {"purpose": "partner_sharing", "status": "given", "method": "signed", "agency": code}
        for code in [shares_with]
        if code
    ]
    return full_registration(
        family_name_lo=family["given_name_lo"],
        family_name_en=f"{family['given_name_en']}{tag}",
        email=f"erasure-{n}-{tag}@example.la",
        district=f"Xaythany {tag}",
        village=f"Ban Nakham {tag}",
        documents=[],
        consents=consents,
    )


async def _register(
    client: httpx.AsyncClient, auth: dict[str, str], n: int, shares_with: str | None = None
) -> dict[str, Any]:
    response = await client.post("/v1/jobseekers", json=_person(n, shares_with), headers=auth)
    assert response.status_code == 201, response.text
    return dict(response.json())


@dataclass(frozen=True)
class _Partner:
    code: str
    headers: dict[str, str]  # its API key
    topic: str  # its Kafka copy of registry.people


async def _personal_partner(client: httpx.AsyncClient, settings: Settings) -> _Partner:
    """A partner in `personal` scope with a Kafka topic of registry.people, the topic made as
    notify's partner-topics job makes it."""
    code = f"ERASE-{uuid.uuid4().hex[:8].upper()}"
    admin = bearer(settings, "admin-1", ["admin"])
    made = await client.post(
        "/v1/partners",
        json={"code": code, "name": code, "category": "ngos", "max_scope": "personal"},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    headers = {"X-API-Key": made.json()["key"]["api_key"]}
    subscribed = await client.post(
        "/v1/partners/me/subscriptions",
        json={"stream": REGISTRY_PEOPLE, "scope": "personal", "kafka": True},
        headers=headers,
    )
    assert subscribed.status_code == 201, subscribed.text
    engine = create_engine(settings, "notify")
    try:
        await run_once(
            PeriodicJob("partner-topics", ensure_partner_topics),
            settings,
            session_factory(engine),
        )
    finally:
        await engine.dispose()
    return _Partner(code, headers, subscribed.json()["kafka_topic"])


async def _partner_keys(
    client: httpx.AsyncClient, partner: _Partner, ids: list[uuid.UUID]
) -> dict[uuid.UUID, bytes]:
    """The keys notify gives the partner to open its sealed records of these people."""
    asked = await client.post(
        "/v1/partners/me/person-keys",
        json={"person_ids": [str(i) for i in ids]},
        headers=partner.headers,
    )
    assert asked.status_code == 200, asked.text
    return {uuid.UUID(p): base64.urlsafe_b64decode(k) for p, k in asked.json()["keys"].items()}


async def _partner_registration(
    settings: Settings, topic: str, person_id: uuid.UUID
) -> ConsumerRecord:
    """The person's registration on the partner's topic, as the partner reads it (waiting for
    notify's relay to publish it)."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=settings.bootstrap_servers,
        group_id=f"partner-{uuid.uuid4().hex}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:

        async def found() -> ConsumerRecord | None:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                for record in batch:
                    document = json.loads(record.value or b"{}")
                    # Notify presents the v1 record it opened the sealed v2 event into.
                    if document.get("sealedfor") == str(person_id) and document["type"] == (
                        PersonRegistered.event_type()
                    ):
                        return record
            return None

        record: ConsumerRecord = await wait_until(found, timeout_s=EVENT_TRAVEL_S)
        return record
    finally:
        await consumer.stop()


def _needles(person: dict[str, Any]) -> set[str]:
    """What of the person is personal data, as registry stored it (and events carry it)."""
    keys = (
        *("given_name_lo", "family_name_lo", "given_name_en", "family_name_en"),
        *("date_of_birth", "phone", "email", "reference", "district", "village"),
    )
    return {str(person[key]) for key in keys if person.get(key)}


_BASE64_TOKEN = re.compile(rb"[A-Za-z0-9+/_-]{12,}={0,2}")


def _decodings(raw: bytes) -> Iterable[bytes]:
    """`raw` itself, and every base64 or base64url run in it decoded (whatever its alignment)."""
    yield raw
    for token in _BASE64_TOKEN.findall(raw):
        stripped = token.rstrip(b"=")
        for start in range(4):  # a run may start mid-quantum inside a longer string
            part = stripped[start:]
            part = part[: len(part) - len(part) % 4]
            for decode in (base64.b64decode, base64.urlsafe_b64decode):
                with contextlib.suppress(ValueError):
                    yield decode(part + b"=" * (-len(part) % 4))


def _spellings(needle: str) -> set[bytes]:
    """The ways a value may be written in a record: UTF-8, JSON-escaped, base64 of it."""
    plain = needle.encode()
    return {
        plain,
        json.dumps(needle)[1:-1].encode(),
        base64.b64encode(plain).rstrip(b"="),
        base64.urlsafe_b64encode(plain).rstrip(b"="),
    }


def _found(raw: bytes, needles: set[str]) -> set[str]:
    spellings = {needle: _spellings(needle) for needle in needles}
    hits = set()
    for text in _decodings(raw):
        folded = text.lower()
        for needle, ways in spellings.items():
            if any(way.lower() in folded for way in ways):
                hits.add(needle)
    return hits


async def _every_record(settings: Settings) -> dict[str, list[ConsumerRecord]]:
    """Every record of every topic on the broker (dead-letter topics included), from the
    beginning, read by a fresh consumer (a group id of its own, partitions assigned)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers,
        group_id=f"erasure-audit-{uuid.uuid4().hex}",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
    )
    await consumer.start()
    try:
        topics = sorted(await consumer.topics())
        partitions = [
            TopicPartition(topic, p)
            for topic in topics
            for p in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        # Read until the broker, once it has given records, has nothing more to give for a
        # whole fetch window: not up to `end_offsets`, which Tansu answers with the offset of
        # a partition's first batch once a producer (the relay) has sent batches of several
        # records, so a scan stopping there missed records and could pass for the wrong
        # reason. Every producer of this test is done by now; a fetch with records waiting
        # answers at once, so the window only bounds the last, empty one.
        records: dict[str, list[ConsumerRecord]] = {topic: [] for topic in topics}
        read, started = 0, time.monotonic()
        while True:
            batches = await consumer.getmany(*partitions, timeout_ms=5000)
            if not batches and read:
                break
            if not read and time.monotonic() - started > EVENT_TRAVEL_S:
                raise AssertionError(f"the broker gave no record in {EVENT_TRAVEL_S} s")
            for tp, batch in batches.items():
                records[tp.topic] += batch
                read += len(batch)
        return records
    finally:
        await consumer.stop()


def _readable(record: ConsumerRecord, needles: set[str]) -> set[str]:
    parts = [record.value or b"", record.key or b""]
    parts += [key.encode() + b"=" + (value or b"") for key, value in record.headers or ()]
    return set().union(*(_found(part, needles) for part in parts))


async def _held_keys(settings: Settings, service: str, ids: list[uuid.UUID]) -> set[uuid.UUID]:
    rows = await fetch(
        settings, service, "SELECT person_id FROM person_keys WHERE person_id = ANY($1)", ids
    )
    return {row["person_id"] for row in rows}


def _registration(records: list[ConsumerRecord], person_id: uuid.UUID) -> ConsumerRecord:
    [found] = [
        r
        for r in records
        if r.key == str(person_id).encode() and CloudEvent.from_bytes(r.value).type == REGISTERED_V2
    ]
    return found


async def _dead_letter(
    producer: AIOKafkaProducer, record: ConsumerRecord, group: str, attempts: int
) -> None:
    """A copy of `record` in `dlq.<group>`, as the group's runner writes one it gave up on."""
    headers = [
        *(record.headers or ()),
        ("dlq-error", b"RuntimeError('handler kept failing')"),
        ("dlq-error-type", b"RuntimeError"),
        ("dlq-original-topic", record.topic.encode()),
        ("dlq-original-partition", str(record.partition).encode()),
        ("dlq-original-offset", str(record.offset).encode()),
        ("dlq-consumer-group", group.encode()),
        ("dlq-attempts", str(attempts).encode()),
    ]
    await producer.send_and_wait(
        dead_letter_topic(group), record.value, key=record.key, headers=headers
    )


async def test_after_an_erasure_no_topic_or_dead_letter_can_be_read_and_replays_bring_nothing_back(
    relay: None,
    matching_consumer: None,
    predeparture_consumer: None,
    notify_consumer: None,
    registry_client: httpx.AsyncClient,
    notify_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
    producer: AIOKafkaProducer,
) -> None:
    # A partner in `personal` scope with a Kafka topic, which the erased and the kept person
    # agreed at the counter to share their data with (the other did not).
    partner = await _personal_partner(notify_client, migrated)
    erased, kept, other = [
        await _register(registry_client, auth, n, shares_with=partner.code if n < 2 else None)
        for n in range(3)
    ]
    ids = [uuid.UUID(p["id"]) for p in (erased, kept, other)]
    erased_id, kept_id = ids[0], ids[1]
    needles = _needles(erased)
    assert len(needles) == 10
    # Every consumer met each person and fetched their key from registry, once.
    for service in CONSUMERS:
        await wait_until(_holds(migrated, service, ids, set(ids)), timeout_s=EVENT_TRAVEL_S)
    # The partner's topic holds the erased person's registration in `personal` scope, nothing of
    # them readable in it, and the key notify gives the partner opens all of it: the scan below
    # would see what the partner sees.
    on_topic = await _partner_registration(migrated, partner.topic, erased_id)
    sealed = json.loads(on_topic.value)
    assert sealed["partnerscope"] == "personal"
    assert _readable(on_topic, needles) == set()
    keys = await _partner_keys(notify_client, partner, ids)
    assert set(keys) == {erased_id, kept_id}
    seen = open_sealed(keys[erased_id], erased_id, sealed["type"], sealed["data"]["sealed"])
    assert _found(json.dumps(seen, ensure_ascii=False).encode(), needles) == needles
    # The two registrations as they are on the broker, each dead-lettered by matching (as if its
    # handler had kept failing): copies the erasure cannot delete.
    log = (await _every_record(migrated))[REGISTRY_PEOPLE]
    letters = {pid: _registration(log, pid) for pid in (erased_id, kept_id)}
    for record in letters.values():
        await _dead_letter(producer, record, "matching", attempts=5)

    erasure = await registry_client.post(
        f"/v1/people/{erased_id}/erasure", json={"reason": "written request"}, headers=auth
    )
    assert erasure.status_code == 200, erasure.text

    # From the commit on, registry gives no one the key; each consumer drops its copy with
    # PersonErased.
    asked = await registry_client.post(
        "/internal/v1/person-keys",
        json={"person_ids": [str(i) for i in ids]},
        headers={"Authorization": f"Bearer {migrated.service_credential()}"},
    )
    assert asked.status_code == 200, asked.text
    assert set(asked.json()["keys"]) == {str(i) for i in ids[1:]}
    for service in CONSUMERS:
        await wait_until(_holds(migrated, service, [erased_id], set()), timeout_s=EVENT_TRAVEL_S)
    # Notify's key is gone, and with it the partner's: it is given the kept person's only.
    assert set(await _partner_keys(notify_client, partner, ids)) == {kept_id}

    everything = await _every_record(migrated)
    assert _found(json.dumps(erased, ensure_ascii=False).encode(), needles) == needles  # the probe
    assert {REGISTRY_PEOPLE, dead_letter_topic("matching"), partner.topic} <= set(everything)
    assert any(
        json.loads(r.value or b"{}").get("sealedfor") == str(erased_id)
        for r in everything[partner.topic]
    )  # the partner's sealed copy is still there, and read by the scan
    of_erased = [r for r in everything[REGISTRY_PEOPLE] if r.key == str(erased_id).encode()]
    assert len(of_erased) >= 2  # the sealed registration and PersonErased are still there
    read = {
        f"{r.topic}:{r.partition}@{r.offset}": hits
        for records in everything.values()
        for r in records
        if (hits := _readable(r, needles))
    }
    assert read == {}
    # Everyone else's events still open, with the key registry gives.
    kept_record = _registration(everything[REGISTRY_PEOPLE], kept_id)
    kept_key = base64.urlsafe_b64decode(asked.json()["keys"][str(kept_id)])
    envelope = CloudEvent.from_bytes(kept_record.value)
    opened = opened_event(PersonRegisteredV2.model_validate(envelope.data), kept_key)
    assert opened.reference == kept["reference"]
    assert opened.given_name_lo == kept["given_name_lo"]

    await _replay_into_matching(migrated, letters, kept)


async def _replay_into_matching(
    settings: Settings, letters: dict[uuid.UUID, ConsumerRecord], kept: dict[str, Any]
) -> None:
    """Matching as if it had never applied the two registrations (they were dead-lettered), then
    `labourx dlq replay matching`: the kept person's is applied (their key fetched again), the
    erased person's changes nothing."""
    erased_id, kept_id = letters
    event_ids = [CloudEvent.from_bytes(r.value).id for r in letters.values()]
    await fetchval(
        settings,
        "matching",
        "DELETE FROM inbox WHERE consumer = 'matching' AND event_id = ANY($1)",
        event_ids,
    )
    for table in ("candidates", "person_keys"):
        await fetchval(settings, "matching", f"DELETE FROM {table} WHERE person_id = $1", kept_id)  # noqa: S608
    unopened = _unopened()

    replay = spawn_cli(["dlq", "replay", "matching"], settings)
    assert await asyncio.to_thread(replay.wait, 120) == 0

    async def both_seen() -> bool:
        seen = await fetchval(
            settings,
            "matching",
            "SELECT count(*) FROM inbox WHERE consumer = 'matching' AND event_id = ANY($1)",
            event_ids,
        )
        return bool(seen == 2)

    await wait_until(both_seen, timeout_s=EVENT_TRAVEL_S)
    [row] = await fetch(
        settings, "matching", "SELECT reference FROM candidates WHERE person_id = $1", kept_id
    )
    assert row["reference"] == kept["reference"]
    assert await _held_keys(settings, "matching", [kept_id, erased_id]) == {kept_id}
    assert not await fetchval(
        settings, "matching", "SELECT count(*) FROM candidates WHERE person_id = $1", erased_id
    )
    # Counted as skipped (by this group, and maybe by others catching up on other erasures).
    assert _unopened() >= unopened + 1


def _unopened() -> float:
    labels = {"type": REGISTERED_V2, "reason": "erased"}
    return REGISTRY.get_sample_value("labourx_sealed_events_unopened_total", labels) or 0.0


def _holds(
    settings: Settings, service: str, ids: list[uuid.UUID], wanted: set[uuid.UUID]
) -> Callable[[], Awaitable[bool]]:
    """A check that the service keeps the keys `wanted` of `ids`, no more, no fewer."""

    async def check() -> bool:
        return await _held_keys(settings, service, ids) == wanted

    return check


# -- registry unreachable ---------------------------------------------------------------------


class _Refusing:
    """A port that takes connections and closes them unanswered (registry down behind its
    address), counting them: each is one attempt of the consumer to fetch a key."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.attempts = 0
        self._server: asyncio.Server | None = None

    async def __aenter__(self) -> _Refusing:
        self._server = await asyncio.start_server(self._refuse, "127.0.0.1", self.port)
        return self

    async def _refuse(self, _: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.attempts += 1
        writer.close()

    async def __aexit__(self, *_: object) -> None:
        assert self._server is not None
        self._server.close()
        await self._server.wait_closed()


def _registry_at(settings: Settings, port: int) -> contextlib.AbstractAsyncContextManager[None]:
    """Registry's API (the session's database) listening on `port`."""
    return registry_listening(
        settings.model_copy(update={"registry_url": f"http://127.0.0.1:{port}"})
    )


async def _outbox_value(settings: Settings, person_id: str, event_type: str) -> bytes:
    rows = await fetch(
        settings,
        "registry",
        "SELECT value FROM outbox WHERE key = $1 AND type = $2 ORDER BY id DESC LIMIT 1",
        person_id,
        event_type,
    )
    return bytes(rows[0]["value"])


async def test_known_people_need_no_registry_and_unknown_ones_wait_for_it(
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
    producer: AIOKafkaProducer,
) -> None:
    # A consumer group of its own (matching's handlers and database) on a topic of its own, whose
    # registry is at a port this test opens and closes.
    port = free_port()
    settings = migrated.model_copy(update={"registry_url": f"http://127.0.0.1:{port}"})
    group, topic = f"sealed-{uuid.uuid4().hex[:8]}", f"test.sealed.{uuid.uuid4().hex[:8]}"
    known, unknown = [await _register(registry_client, auth, n) for n in range(2)]
    engine = create_engine(settings, "matching")
    runner = ConsumerRunner(
        settings,
        group=group,
        topics=[topic],
        handlers=SERVICES["matching"].consumers[0].handlers,
        sessions=session_factory(engine),
    )

    async def send(value: bytes, key: str) -> uuid.UUID:
        await producer.send_and_wait(topic, value, key=key.encode())
        return CloudEvent.from_bytes(value).id

    async def applied(event_id: uuid.UUID) -> bool:
        found = await fetchval(
            settings,
            "matching",
            "SELECT count(*) FROM inbox WHERE consumer = $1 AND event_id = $2",
            group,
            event_id,
        )
        return bool(found)

    await ensure_topics(settings, [topic])
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        # Registry up: the known person's registration fetches and keeps their key.
        async with _registry_at(migrated, port):
            first = await send(
                await _outbox_value(migrated, known["id"], REGISTERED_V2), known["id"]
            )
            await wait_until(lambda: applied(first), timeout_s=EVENT_TRAVEL_S)
        # Registry gone: the known person's update is applied with the key kept.
        changed = await registry_client.patch(
            f"/v1/people/{known['id']}",
            json={"district": "Hatsayfong", "reason": "moved"},
            headers=auth,
        )
        assert changed.status_code == 200, changed.text
        update = await send(
            await _outbox_value(migrated, known["id"], PersonUpdatedV2.event_type()), known["id"]
        )
        await wait_until(lambda: applied(update), timeout_s=EVENT_TRAVEL_S)
        [row] = await fetch(
            settings,
            "matching",
            "SELECT district FROM candidates WHERE person_id = $1::uuid",
            known["id"],
        )
        assert row["district"] == "Hatsayfong"
        # The unknown person's registration waits, asking again and again, never dead-lettered.
        async with _Refusing(port) as down:
            waiting = await send(
                await _outbox_value(migrated, unknown["id"], REGISTERED_V2), unknown["id"]
            )
            await wait_until(lambda: _at_least(down, 3), timeout_s=EVENT_TRAVEL_S)
            assert not await applied(waiting)
        # Registry back: it is applied.
        async with _registry_at(migrated, port):
            await wait_until(lambda: applied(waiting), timeout_s=EVENT_TRAVEL_S)
        assert await _dead_letters(settings, group) == 0
    finally:
        stop.set()
        await task
        await engine.dispose()


async def _at_least(refusing: _Refusing, attempts: int) -> bool:
    return refusing.attempts >= attempts


async def _dead_letters(settings: Settings, group: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_servers)
    await consumer.start()
    try:
        topic = dead_letter_topic(group)
        partitions = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        if not partitions:
            return 0
        return sum((await consumer.end_offsets(partitions)).values())
    finally:
        await consumer.stop()
