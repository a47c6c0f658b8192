"""A batch of records is claimed in the inbox in one statement and applied in one transaction;
the guarantees are those of one record at a time.

How we know: every record of a test sits on one partition of a topic of its own (same key) and
is published before the runner starts, so that they arrive together. A handler writes one row
per application into a table of the test (`batch_effects`), in the event's transaction: a
count of exactly one per event is "applied once", whatever the batches, rollbacks and retries.
Each test has a consumer group of its own (no member of the session's groups is started).
"""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from aiokafka import AIOKafkaConsumer
from sqlalchemy import text

from labourx.catalog import SERVICES
from shared.consumer import BatchHandler, ConsumerRunner, PoisonEvent
from shared.db import create_engine, session_factory
from shared.events.envelope import envelope_for
from shared.events.registry import PersonErased, PersonRegistered, PersonUpdated
from shared.events.topics import dead_letter_topic
from shared.kafka import ensure_topics, make_producer
from shared.sealing_events import sealed_event
from tests.events import person_registered, publish, registered
from tests.support import fetch, fetchval, wait_until

if TYPE_CHECKING:
    from shared.consumer import Handler
    from shared.events import CloudEvent, Event
    from shared.settings import Settings
    from shared.work import Work

_EFFECTS = (
    "CREATE TABLE IF NOT EXISTS batch_effects"
    " (grp text NOT NULL, event_id uuid NOT NULL, session_id bigint NOT NULL)"
)


def _recording(group: str, poison: uuid.UUID | None = None) -> Handler:
    """Writes one row per application (with the session it ran in); raises PoisonEvent for
    the event `poison`."""

    async def handler(work: Work, event: CloudEvent, payload: Event) -> None:
        if event.id == poison:
            raise PoisonEvent("this record can never be applied")
        await work.session.execute(
            text("INSERT INTO batch_effects VALUES (:grp, :event_id, :session_id)"),
            {"grp": group, "event_id": event.id, "session_id": id(work.session)},
        )

    return handler


async def _applied(settings: Settings, group: str) -> dict[uuid.UUID, int]:
    rows = await fetch(
        settings,
        "notify",
        "SELECT event_id, count(*) AS n FROM batch_effects WHERE grp = $1 GROUP BY event_id",
        group,
    )
    return {row["event_id"]: row["n"] for row in rows}


async def _sessions(settings: Settings, group: str) -> int:
    return int(
        await fetchval(
            settings,
            "notify",
            "SELECT count(DISTINCT session_id) FROM batch_effects WHERE grp = $1",
            group,
        )
    )


async def _in_inbox(
    settings: Settings, group: str, event_id: uuid.UUID, service: str = "notify"
) -> bool:
    return bool(
        await fetchval(
            settings,
            service,
            "SELECT count(*) FROM inbox WHERE consumer = $1 AND event_id = $2",
            group,
            event_id,
        )
    )


async def _run_until(
    settings: Settings,
    group: str,
    topic: str,
    handler: Handler | Mapping[str, Handler],
    last: uuid.UUID,
    service: str = "notify",
) -> None:
    """The group's runner on `topic` (on `service`'s database) until the event `last` is in its
    inbox; `handler` handles PersonRegistered, or is the handler map."""
    engine = create_engine(settings, service)
    handlers = handler if isinstance(handler, Mapping) else {PersonRegistered.event_type(): handler}
    runner = ConsumerRunner(
        settings, group=group, topics=[topic], handlers=handlers, sessions=session_factory(engine)
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        await wait_until(lambda: _in_inbox(settings, group, last, service), timeout_s=60)
    finally:
        stop.set()
        await task
        await engine.dispose()


async def _published(settings: Settings, topic: str, events: list[CloudEvent]) -> None:
    await ensure_topics(settings, [topic])
    producer = make_producer(settings)
    await producer.start()
    try:
        for event in events:
            await publish(producer, event, topic)
    finally:
        await producer.stop()


async def _dead_letters(settings: Settings, group: str, count: int) -> list[Any]:
    consumer = AIOKafkaConsumer(
        dead_letter_topic(group),
        bootstrap_servers=settings.bootstrap_servers,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    await consumer.start()
    try:
        found: list[Any] = []
        deadline = asyncio.get_running_loop().time() + 30
        while len(found) < count and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                found += records
        return found
    finally:
        await consumer.stop()


async def test_a_batch_applies_each_event_once_skipping_those_applied_before(
    migrated: Settings,
) -> None:
    await fetchval(migrated, "notify", _EFFECTS)
    group, topic = f"batch-{uuid.uuid4().hex[:8]}", f"test.batch.{uuid.uuid4().hex[:8]}"
    person = uuid.uuid4()  # one key: one partition, in order
    before, first, second = (registered(n, person_id=person) for n in range(3))
    # `before` was applied by this group already (its inbox row and its effect are there).
    await fetchval(
        migrated,
        "notify",
        "INSERT INTO inbox (consumer, event_id, event_type) VALUES ($1, $2, $3)",
        group,
        before.id,
        before.type,
    )
    await fetchval(
        migrated, "notify", "INSERT INTO batch_effects VALUES ($1, $2, 0)", group, before.id
    )
    # Redelivered: `before` again, and `first` twice within the batch.
    await _published(migrated, topic, [before, first, first, second])
    prepared: list[list[uuid.UUID]] = []

    async def prepare(work: Work, events: list[tuple[CloudEvent, Event]]) -> None:
        prepared.append([event.id for event, _ in events])

    handler = BatchHandler(_recording(group), prepare)
    await _run_until(migrated, group, topic, handler, second.id)

    assert await _applied(migrated, group) == {before.id: 1, first.id: 1, second.id: 1}
    # The two new events were applied together, in one transaction (beside the seeded row),
    # after one `prepare` for the batch that named only them.
    assert await _sessions(migrated, group) == 2
    assert prepared == [[first.id, second.id]]


async def test_a_poison_record_in_a_batch_is_set_aside_and_the_rest_applied_once(
    migrated: Settings,
) -> None:
    await fetchval(migrated, "notify", _EFFECTS)
    group, topic = f"batch-{uuid.uuid4().hex[:8]}", f"test.batch.{uuid.uuid4().hex[:8]}"
    person = uuid.uuid4()
    before, first, doomed, after = (registered(n, person_id=person) for n in range(4))
    await fetchval(
        migrated,
        "notify",
        "INSERT INTO inbox (consumer, event_id, event_type) VALUES ($1, $2, $3)",
        group,
        before.id,
        before.type,
    )
    await fetchval(
        migrated, "notify", "INSERT INTO batch_effects VALUES ($1, $2, 0)", group, before.id
    )
    await _published(migrated, topic, [before, first, doomed, first, after])

    await _run_until(migrated, group, topic, _recording(group, poison=doomed.id), after.id)

    # The batch's transaction failed on the poison record and was rolled back whole (its
    # inbox claims with it); one by one, the duplicates are skipped, the poison record is
    # dead-lettered and the others applied once.
    assert await _applied(migrated, group) == {before.id: 1, first.id: 1, after.id: 1}
    assert not await _in_inbox(migrated, group, doomed.id)
    [dead] = await _dead_letters(migrated, group, 1)
    headers = {k: v.decode() for k, v in dead.headers}
    assert headers["dlq-error-type"] == "PoisonEvent"
    assert headers["dlq-original-topic"] == topic
    assert headers["dlq-attempts"] == "1"


async def test_a_person_erased_within_a_batch_has_no_later_sealed_event_of_the_batch_applied(
    migrated: Settings,
) -> None:
    # The batch's keys are read once, before its events (shared/sealing_consumer.py): the
    # erasure must take the person's key out of what the batch read, as out of the table.
    group, topic = f"sealed-{uuid.uuid4().hex[:8]}", f"test.batch.{uuid.uuid4().hex[:8]}"
    person, key, now = uuid.uuid4(), os.urandom(32), datetime.now(UTC)
    # Predeparture kept the key; registry holds none any more (the person is erased there).
    await fetchval(
        migrated,
        "predeparture",
        "INSERT INTO person_keys (person_id, key) VALUES ($1, $2)",
        person,
        key,
    )
    details = person_registered(1, person_id=person)
    update = PersonUpdated(
        **details.model_dump(exclude={"registered_by", "registered_at", "consents"}),
        changed_fields=["given_name_en"],
        record_version=2,
        updated_by="test",
        updated_at=now,
    )
    registration = envelope_for(sealed_event(details, key))
    erasure = envelope_for(PersonErased(person_id=person, erased_by="test", erased_at=now))
    late = envelope_for(sealed_event(update, key))
    await _published(migrated, topic, [registration, erasure, late])

    [consumer] = SERVICES["predeparture"].consumers
    await _run_until(migrated, group, topic, consumer.handlers, late.id, "predeparture")

    assert not await fetchval(
        migrated, "predeparture", "SELECT count(*) FROM learners WHERE person_id = $1", person
    )
    assert not await fetchval(
        migrated, "predeparture", "SELECT count(*) FROM person_keys WHERE person_id = $1", person
    )
