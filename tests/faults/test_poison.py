"""Poison records go to `dlq.<group>` without blocking their partition; replay works after a fix.

How we know: the poison records sit on the same partition (same key) between good ones, the
good ones behind them are applied (their inbox rows exist), the dead letters carry the error
and their original coordinates, and after the cause is fixed `labourx dlq replay` gets the
event applied exactly once.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import TYPE_CHECKING, Any

import pytest
from aiokafka import AIOKafkaConsumer
from sqlalchemy import text

from services.notify.app import SPEC as NOTIFY
from shared.consumer import ConsumerRunner
from shared.db import create_engine, session_factory
from shared.events import CloudEvent, Event
from shared.events.registry import PersonRegistered
from shared.events.topics import REGISTRY_PEOPLE, dead_letter_topic
from shared.kafka import ensure_topics, make_producer
from tests.events import phone_for, publish, registered
from tests.support import fetch, fetchval, spawn_cli, wait_until

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    from shared.consumer.runner import Handler
    from shared.settings import Settings
    from shared.work import Work

pytestmark = pytest.mark.slow


async def _inbox(settings: Settings, group: str, event_id: uuid.UUID) -> bool:
    return bool(
        await fetchval(
            settings,
            "notify",
            "SELECT count(*) FROM inbox WHERE consumer = $1 AND event_id = $2",
            group,
            event_id,
        )
    )


async def _dead_letters(settings: Settings, group: str, count: int) -> list[Any]:
    """The first `count` records of the group's dead-letter topic."""
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
        return sorted(found, key=lambda r: r.offset)
    finally:
        await consumer.stop()


@pytest.fixture
async def running_consumer(isolated: Settings) -> AsyncIterator[None]:
    """notify's real consumer, in this process."""
    engine = create_engine(isolated, "notify")
    [consumer] = NOTIFY.consumers
    runner = consumer.runner(isolated, session_factory(engine))
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    yield
    stop.set()
    await task
    await engine.dispose()


async def test_poison_records_are_set_aside_and_replayed_after_the_fix(
    isolated: Settings, running_consumer: None, logs: Path
) -> None:
    # The cause: someone removed the welcome templates, so no SMS can be written.
    templates = await fetch(isolated, "notify", "SELECT * FROM templates")
    await fetchval(isolated, "notify", "DELETE FROM templates")

    person = uuid.uuid4()  # one key: every record below lands on the same partition
    before = registered(1, person_id=person)  # no phone: needs no template
    needs_template = registered(2, person_id=person, phone=phone_for(2))
    after = registered(3, person_id=person)
    producer = make_producer(isolated)
    await producer.start()
    try:
        await publish(producer, before)
        await publish(producer, needs_template)
        await producer.send_and_wait(REGISTRY_PEOPLE, b"{not json", key=str(person).encode())
        await publish(producer, after)
    finally:
        await producer.stop()

    await wait_until(lambda: _inbox(isolated, "notify", after.id), timeout_s=60)
    assert await _inbox(isolated, "notify", before.id)
    assert not await _inbox(isolated, "notify", needs_template.id)

    missing_template, garbage = await _dead_letters(isolated, "notify", 2)
    headers = {k: v.decode() for k, v in missing_template.headers}
    assert headers["dlq-error-type"] == "TemplateMissing"
    assert headers["dlq-original-topic"] == REGISTRY_PEOPLE
    assert headers["dlq-consumer-group"] == "notify"
    assert CloudEvent.from_bytes(missing_template.value).id == needs_template.id
    assert int(headers["dlq-original-offset"]) >= 0
    assert {k: v.decode() for k, v in garbage.headers}["dlq-error-type"] == "ValidationError"

    # The fix, then the replay.
    for row in templates:
        await fetchval(
            isolated,
            "notify",
            "INSERT INTO templates (id, key, channel, language, version, body, created_at)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7)",
            row["id"],
            row["key"],
            row["channel"],
            row["language"],
            row["version"],
            row["body"],
            row["created_at"],
        )
    replay = spawn_cli(["dlq", "replay", "notify"], isolated, logs / "replay.log")
    assert await asyncio.to_thread(replay.wait, 60) == 0
    assert "replayed 2 dead letter(s)" in (logs / "replay.log").read_text()

    await wait_until(lambda: _inbox(isolated, "notify", needs_template.id), timeout_s=60)
    # The garbage is still garbage: it is dead-lettered once more, and replay does not loop on it.
    assert len(await _dead_letters(isolated, "notify", 3)) == 3
    messages = await fetch(
        isolated, "notify", "SELECT event_id FROM messages WHERE person_id = $1", person
    )
    assert [m["event_id"] for m in messages] == [needs_template.id]


def _always_fails_for_one(doomed: uuid.UUID) -> Handler:
    async def handler(work: Work, event: CloudEvent, payload: Event) -> None:
        if event.id == doomed:
            raise RuntimeError("this handler cannot cope with this record")
        await work.session.execute(text("SELECT 1"))

    return handler


async def test_a_record_whose_handler_keeps_failing_is_dead_lettered_after_the_retries(
    isolated: Settings,
) -> None:
    topic = f"test.poison.{uuid.uuid4().hex[:8]}"
    group = f"poison-{uuid.uuid4().hex[:8]}"
    await ensure_topics(isolated, [topic])
    doomed = registered(1)
    behind = registered(2, person_id=uuid.UUID(doomed.subject))
    producer = make_producer(isolated)
    await producer.start()
    try:
        await publish(producer, doomed, topic)
        await publish(producer, behind, topic)
    finally:
        await producer.stop()

    engine = create_engine(isolated, "notify")
    runner = ConsumerRunner(
        isolated,
        group=group,
        topics=[topic],
        handlers={PersonRegistered.event_type(): _always_fails_for_one(doomed.id)},
        sessions=session_factory(engine),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        await wait_until(lambda: _inbox(isolated, group, behind.id), timeout_s=60)
    finally:
        stop.set()
        await task
        await engine.dispose()

    [dead] = await _dead_letters(isolated, group, 1)
    headers = {k: v.decode() for k, v in dead.headers}
    assert headers["dlq-attempts"] == str(isolated.consumer_max_attempts)
    assert headers["dlq-original-topic"] == topic
    assert "cannot cope" in headers["dlq-error"]
    assert not await _inbox(isolated, group, doomed.id)
