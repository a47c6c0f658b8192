"""Good events are never dead-lettered because PostgreSQL is away (issue 17, point 1).

notify's real consumer runner reads `registry.people` while the module's own PostgreSQL is
stopped and started again, and while every one of its connection slots is held by someone
else. Its handler is notify's, behind a probe that writes a row per application to
`fault_applied` (no unique constraint: an event applied twice shows as two rows). Counted in
SQL at the end: every published event applied once, nothing on the dead-letter topic.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import TYPE_CHECKING, Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from sqlalchemy import text

from labourx.catalog import SERVICES
from services.notify.app import SPEC as NOTIFY
from shared import dberrors
from shared.consumer import ConsumerRunner
from shared.db import asyncpg_dsn, create_engine, session_factory
from shared.events.registry import PersonRegistered
from shared.events.topics import dead_letter_topic
from shared.kafka import ensure_topics, make_producer
from shared.provision import prepare_databases, prepare_topics
from tests.events import phone_for, publish, registered
from tests.faults.stoppable_postgres import (
    StoppablePostgres,
    Warnings,
    fill_connection_slots,
    settings_on,
    stoppable_postgres,
    terminate_sessions,
)
from tests.support import fetchval, wait_until

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from shared.consumer.runner import Handler
    from shared.events import CloudEvent, Event
    from shared.infra import TansuBroker
    from shared.settings import Settings
    from shared.work import Work

pytestmark = pytest.mark.slow

RETRIED = "database unavailable applying"  # the runner's warning for each such retry
GROUP = NOTIFY.consumers[0].group


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[StoppablePostgres]:
    with stoppable_postgres("outage-pg") as server:
        yield server


@pytest.fixture(scope="module")
async def outage(
    settings: Settings, own_broker: TansuBroker, own_postgres: StoppablePostgres
) -> Settings:
    """Settings on this module's PostgreSQL and broker, notify migrated, with the probe table."""
    ours = settings_on(settings, own_postgres, own_broker.bootstrap_servers)
    await prepare_databases(ours, [SERVICES["notify"]])
    await prepare_topics(ours, [SERVICES["registry"], SERVICES["notify"]])
    await fetchval(ours, "notify", "CREATE TABLE fault_applied (event_id uuid NOT NULL)")
    return ours


async def _counted(work: Work, event: CloudEvent, payload: Event) -> None:
    await work.session.execute(
        text("INSERT INTO fault_applied (event_id) VALUES (:id)"), {"id": event.id}
    )
    await NOTIFY.consumers[0].handlers[PersonRegistered.event_type()](work, event, payload)


@pytest.fixture
async def notify_running(outage: Settings) -> AsyncIterator[None]:
    """notify's consumer group, in this process, through the probe."""
    engine = create_engine(outage, "notify")
    handlers = {PersonRegistered.event_type(): _counted}
    runner = NOTIFY.consumers[0].runner(outage, session_factory(engine), handlers=handlers)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    yield
    stop.set()
    await task
    await engine.dispose()


class Arrivals:
    """Events published one after another in the background, as a relay would send them."""

    def __init__(self, settings: Settings) -> None:
        self.producer: AIOKafkaProducer = make_producer(settings)
        self.sent: list[uuid.UUID] = []
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def __aenter__(self) -> Arrivals:
        await self.producer.start()
        self._task = asyncio.create_task(self._publish())
        return self

    async def _publish(self) -> None:
        while not self._stop.is_set():
            n = len(self.sent)
            event = registered(n, phone=phone_for(900_000 + n))
            await publish(self.producer, event)
            self.sent.append(event.id)
            await asyncio.sleep(0.05)

    async def stop(self) -> list[uuid.UUID]:
        """Stop publishing; the ids of every event sent."""
        self._stop.set()
        if self._task is not None:
            await self._task
        return self.sent

    async def __aexit__(self, *_: object) -> None:
        await self.stop()
        await self.producer.stop()

    async def sent_at_least(self, count: int) -> bool:
        return len(self.sent) >= count


async def _counts(settings: Settings, sent: list[uuid.UUID]) -> tuple[int, int]:
    """(events applied at least once, rows written): lost is sent - applied, doubled rows -
    applied."""
    conn = await asyncpg.connect(asyncpg_dsn(settings.service_database_url("notify")))
    try:
        row = await conn.fetchrow(
            "SELECT count(DISTINCT event_id) AS applied, count(*) AS rows FROM fault_applied"
            " WHERE event_id = ANY($1::uuid[])",
            sent,
        )
        return int(row["applied"]), int(row["rows"])
    finally:
        await conn.close()


async def _dead_lettered(settings: Settings, group: str) -> int:
    """Records on the group's dead-letter topic."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.bootstrap_servers)
    await consumer.start()
    try:
        topic = dead_letter_topic(group)
        partitions = consumer.partitions_for_topic(topic) or set()
        if not partitions:
            await consumer.topics()  # refreshes the metadata
            partitions = consumer.partitions_for_topic(topic) or set()
        ends = await consumer.end_offsets([TopicPartition(topic, p) for p in partitions])
        return sum(ends.values())
    finally:
        await consumer.stop()


async def _all_applied(settings: Settings, sent: list[uuid.UUID]) -> bool:
    applied, _ = await _counts(settings, sent)
    return applied == len(sent)


async def _assert_each_applied_once(settings: Settings, sent: list[uuid.UUID]) -> dict[str, Any]:
    await wait_until(lambda: _all_applied(settings, sent), timeout_s=120, interval_s=0.5)
    applied, rows = await _counts(settings, sent)
    figures = {
        "sent": len(sent),
        "lost": len(sent) - applied,
        "doubled": rows - applied,
        "dead_lettered": await _dead_lettered(settings, GROUP),
    }
    print(f"figures: {figures}")
    assert figures == {"sent": len(sent), "lost": 0, "doubled": 0, "dead_lettered": 0}
    return figures


async def test_events_arriving_while_postgres_restarts_are_each_applied_once(
    outage: Settings, own_postgres: StoppablePostgres, notify_running: None
) -> None:
    started = time.monotonic()
    with Warnings("shared.consumer.runner") as warnings:
        async with Arrivals(outage) as arrivals:
            await wait_until(lambda: _all_applied(outage, arrivals.sent[:10]), timeout_s=60)
            down_at = len(arrivals.sent)
            await asyncio.to_thread(own_postgres.stop, "fast")
            try:
                # Down until events arrived meanwhile and the consumer met the outage.
                await wait_until(lambda: arrivals.sent_at_least(down_at + 30), timeout_s=60)
                await wait_until(lambda: _true(len(warnings.errors_of(RETRIED)) >= 3), timeout_s=60)
            finally:
                await asyncio.to_thread(own_postgres.start)
            await wait_until(lambda: arrivals.sent_at_least(down_at + 40), timeout_s=60)
            sent = await arrivals.stop()
    await _assert_each_applied_once(outage, sent)
    retried = warnings.errors_of(RETRIED)
    assert all(dberrors.is_unavailable(e) for e in retried)
    assert not [msg for msg, _ in warnings.records if msg.startswith("handler failed")]
    print(f"retried {len(retried)} times: {sorted({type(e).__name__ for e in retried})}")
    print(f"took {time.monotonic() - started:.1f} s")


async def test_events_are_applied_once_after_every_connection_slot_was_taken(
    outage: Settings, own_postgres: StoppablePostgres, notify_running: None
) -> None:
    started = time.monotonic()
    with Warnings("shared.consumer.runner") as warnings:
        async with Arrivals(outage) as arrivals:
            await wait_until(lambda: _all_applied(outage, arrivals.sent[:10]), timeout_s=60)
            held = await fill_connection_slots(own_postgres)
            try:
                # The consumer's pooled connections are ended too, and their slots taken: it
                # can only connect again once the slots are given back.
                database = outage.database_name("notify")
                while await terminate_sessions(held[0], database):
                    held += await _take_free_slots(own_postgres)
                # Starved for longer than its retries would have lasted, had they counted.
                await wait_until(
                    lambda: _true(
                        _too_many_clients(warnings.errors_of(RETRIED))
                        > outage.consumer_max_attempts
                    ),
                    timeout_s=60,
                )
            finally:
                for connection in held:
                    await connection.close()
            sent = await arrivals.stop()
    await _assert_each_applied_once(outage, sent)
    retried = warnings.errors_of(RETRIED)
    print(f"retried {len(retried)} times, {_too_many_clients(retried)} for too many clients")
    assert not [msg for msg, _ in warnings.records if msg.startswith("handler failed")]
    print(f"took {time.monotonic() - started:.1f} s")


async def _take_free_slots(server: StoppablePostgres) -> list[asyncpg.Connection]:
    try:
        return await fill_connection_slots(server)
    except AssertionError:
        return []


def _too_many_clients(errors: list[BaseException]) -> int:
    return sum(1 for e in errors if dberrors.facts(e).sqlstate == "53300")


async def _true(value: bool) -> bool:
    return value


def _kills_its_connection_then_fails(times: int, doomed: uuid.UUID) -> Handler:
    """A handler whose connection is ended by PostgreSQL (57P01) `times` times per event, then
    fails once on its own; for `doomed` it fails every time, its connection ended in between."""
    calls: dict[uuid.UUID, int] = {}

    async def handler(work: Work, event: CloudEvent, payload: Event) -> None:
        calls[event.id] = calls.get(event.id, 0) + 1
        call = calls[event.id]
        if event.id == doomed:
            if call % 2:
                await work.session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
            raise RuntimeError("this handler cannot cope with this record")
        if call <= times:
            await work.session.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        elif call == times + 1:
            raise RuntimeError("a hiccup of the handler's own")

    return handler


async def test_only_the_handlers_own_errors_count_toward_dead_lettering(
    outage: Settings,
) -> None:
    started = time.monotonic()
    outage = outage.model_copy(update={"consumer_retry_base_s": 0.01})  # many retries, soon
    topic = f"test.outage.{uuid.uuid4().hex[:8]}"
    group = f"outage-{uuid.uuid4().hex[:8]}"
    await ensure_topics(outage, [topic])
    doomed, recovers = registered(1), registered(2)
    producer = make_producer(outage)
    await producer.start()
    try:
        await publish(producer, doomed, topic)
        await publish(producer, recovers, topic)
    finally:
        await producer.stop()

    # More lost connections than the record may fail, before its one failure of its own.
    times = outage.consumer_max_attempts + 2
    engine = create_engine(outage, "notify")
    runner = ConsumerRunner(
        outage,
        group=group,
        topics=[topic],
        handlers={
            PersonRegistered.event_type(): _kills_its_connection_then_fails(times, doomed.id)
        },
        sessions=session_factory(engine),
    )
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    try:
        applied = "SELECT count(*) FROM inbox WHERE consumer = $1 AND event_id = $2"
        await wait_until(
            lambda: fetchval(outage, "notify", applied, group, recovers.id), timeout_s=120
        )
        await wait_until(lambda: _dead_lettered(outage, group), timeout_s=60)
    finally:
        stop.set()
        await task
        await engine.dispose()
    assert await _dead_lettered(outage, group) == 1  # the doomed one, after its own failures
    assert not await fetchval(outage, "notify", applied, group, doomed.id)
    print(f"took {time.monotonic() - started:.1f} s")
