"""Replaying one group's dead letters reaches that group only (issue 17, point 4).

Two real consumer groups read the same topic; both dead-letter the poison records, and group A
also dead-letters good records that need a reference A did not have yet. After the fix,
`replay` for A sends A's dead letters to `retry.<A>`, which only A reads: A sees them again
(the good ones are applied once, the poison is dead-lettered once more in A's topic only), and
B's handler is never called again nor its dead-letter topic grown. Sending them back to the
shared topic, as replay once did, fails every one of those counts.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from sqlalchemy import text

from labourx.catalog import SERVICES
from shared.consumer.runner import Handler, PoisonEvent
from shared.db import create_engine, session_factory
from shared.dlq import replay_dead_letters
from shared.events.envelope import record_headers
from shared.events.registry import PersonRegistered
from shared.events.topics import dead_letter_topic, retry_topic
from shared.kafka import ensure_topics, make_producer
from shared.provision import all_topics
from shared.spec import ConsumerSpec
from tests.events import publish, registered
from tests.support import fetchval, wait_until

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Awaitable, Callable

    from shared.events import CloudEvent, Event
    from shared.settings import Settings
    from shared.work import Work

pytestmark = pytest.mark.slow

T = TypeVar("T")


@dataclass
class _World:
    """What the two groups' handlers depend on and what they did."""

    poison: set[uuid.UUID] = field(default_factory=set)
    needs_reference: set[uuid.UUID] = field(default_factory=set)
    reference_fixed: bool = False
    calls: Counter[tuple[str, uuid.UUID]] = field(default_factory=Counter)

    def handler(self, group: str, *, uses_reference: bool) -> Handler:
        async def handle(work: Work, event: CloudEvent, payload: Event) -> None:
            self.calls[(group, event.id)] += 1
            if event.id in self.poison:
                raise PoisonEvent("this record can never be applied")
            if uses_reference and event.id in self.needs_reference and not self.reference_fixed:
                raise LookupError("the reference this record names is missing")
            # Written in the handler's transaction: a row per application, however often the
            # record is delivered.
            await work.session.execute(
                text("INSERT INTO dlq_replay_applied (consumer, event_id) VALUES (:group, :id)"),
                {"group": group, "id": event.id},
            )

        return handle

    def calls_of(self, group: str, events: list[CloudEvent]) -> int:
        return sum(self.calls[(group, e.id)] for e in events)


class _Broker:
    """Counts on the broker, read with one client for the whole test."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.reader = AIOKafkaConsumer(
            bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False
        )

    def _partitions(self, topic: str) -> list[TopicPartition]:
        # Every topic is made with the configured count (shared.kafka.ensure_topics).
        return [TopicPartition(topic, p) for p in range(self.settings.topic_partitions)]

    async def records(self, topic: str) -> int:
        """How many records `topic` holds (nothing is ever deleted here)."""
        ends = await self.reader.end_offsets(self._partitions(topic))
        return sum(ends.values())

    async def lag(self, group: str, topics: list[str]) -> int:
        """Records of `topics` that `group` has not committed yet."""
        committer = AIOKafkaConsumer(
            bootstrap_servers=self.settings.bootstrap_servers,
            group_id=group,
            enable_auto_commit=False,
        )
        await committer.start()
        try:
            partitions = [tp for topic in topics for tp in self._partitions(topic)]
            ends = await self.reader.end_offsets(partitions)
            behind = 0
            for tp, end in ends.items():
                behind += end - (await committer.committed(tp) or 0)
            return behind
        finally:
            await committer.stop()

    async def read_all(self, topic: str) -> list[ConsumerRecord]:
        partitions = self._partitions(topic)
        ends = await self.reader.end_offsets(partitions)
        found: list[ConsumerRecord] = []
        self.reader.assign(partitions)
        await self.reader.seek_to_beginning(*partitions)
        deadline = time.monotonic() + 30
        while len(found) < sum(ends.values()) and time.monotonic() < deadline:
            for records in (await self.reader.getmany(timeout_ms=500)).values():
                found += records
        return found


@pytest.fixture
async def topics(isolated: Settings) -> AsyncIterator[_Broker]:
    counts = _Broker(isolated)
    await counts.reader.start()
    yield counts
    await counts.reader.stop()


async def _applied(settings: Settings, group: str, event_id: uuid.UUID) -> int:
    return int(
        await fetchval(
            settings,
            "notify",
            "SELECT count(*) FROM dlq_replay_applied WHERE consumer = $1 AND event_id = $2",
            group,
            event_id,
        )
    )


async def _wait_for(what: str, probe: Callable[[], Awaitable[T]], expected: T) -> None:
    """Poll `probe` until it gives `expected`; fail with its last value after a minute."""
    deadline = time.monotonic() + 60
    while (last := await probe()) != expected:
        assert time.monotonic() < deadline, f"{what}: {last}, expected {expected}"
        await asyncio.sleep(0.2)


async def _publish(settings: Settings, topic: str, *events: CloudEvent) -> None:
    producer: AIOKafkaProducer = make_producer(settings)
    await producer.start()
    try:
        for event in events:
            await publish(producer, event, topic)
    finally:
        await producer.stop()


def test_provisioning_creates_a_retry_topic_for_every_consumer_group() -> None:
    topics = all_topics(SERVICES.values())
    for spec in SERVICES.values():
        for consumer in spec.consumers:
            assert retry_topic(consumer.group) in topics, consumer.group
            assert retry_topic(consumer.group) in consumer.subscribed, consumer.group


async def test_replay_reaches_only_the_group_that_dead_lettered(
    isolated: Settings, topics: _Broker
) -> None:
    # Quick retries: the good records A cannot apply yet are dead-lettered after two attempts.
    settings = isolated.model_copy(
        update={"consumer_max_attempts": 2, "consumer_retry_base_s": 0.05}
    )
    topic = f"test.replay.{uuid.uuid4().hex[:8]}"
    a, b = f"replay-a-{uuid.uuid4().hex[:6]}", f"replay-b-{uuid.uuid4().hex[:6]}"
    world = _World()
    person = uuid.uuid4()  # one key: every record below is on one partition, in this order
    poison = [registered(n, person_id=person) for n in (1, 2)]
    late, redelivered = registered(3, person_id=person), registered(4, person_id=person)
    marker = registered(5, person_id=person)
    world.poison = {e.id for e in poison}
    world.needs_reference = {late.id, redelivered.id}
    event_type = PersonRegistered.event_type()
    specs = {
        a: ConsumerSpec(a, [topic], {event_type: world.handler(a, uses_reference=True)}),
        b: ConsumerSpec(b, [topic], {event_type: world.handler(b, uses_reference=False)}),
    }
    await ensure_topics(
        settings,
        [topic, *(t for g, s in specs.items() for t in (*s.subscribed, dead_letter_topic(g)))],
    )
    await fetchval(
        settings, "notify", "CREATE TABLE dlq_replay_applied (consumer text, event_id uuid)"
    )

    engine = create_engine(settings, "notify")
    stop = asyncio.Event()
    runners = [
        asyncio.create_task(spec.runner(settings, session_factory(engine)).run(stop))
        for spec in specs.values()
    ]
    started = time.monotonic()
    try:
        await _publish(settings, topic, *poison, late, redelivered, marker)

        async def first_pass() -> tuple[int, int, int, int]:
            return (
                await topics.records(dead_letter_topic(a)),
                await topics.records(dead_letter_topic(b)),
                await topics.lag(a, [topic]),
                await topics.lag(b, [topic]),
            )

        # A: 2 poison + 2 good it cannot apply yet; B: the 2 poison; both read to the end.
        await _wait_for("dead letters A, B; lag A, B", first_pass, (4, 2, 0, 0))
        first_pass_s = time.monotonic() - started
        assert await _applied(settings, a, late.id) == 0
        assert await _applied(settings, b, late.id) == 1

        # The fix; then one of the two good records arrives again (a relay's redelivery) and is
        # applied before the replay, which must not apply it a second time.
        world.reference_fixed = True
        await _publish(settings, topic, redelivered)
        await wait_until(lambda: _applied(settings, a, redelivered.id), timeout_s=30)

        dead_in_a = [*poison, late, redelivered]  # what A's replay sends
        b_calls_before = world.calls_of(b, dead_in_a)
        a_poison_calls_before = world.calls_of(a, poison)
        replay_started = time.monotonic()
        replayed = await replay_dead_letters(settings, a)
        assert replayed == 4, f"replayed {replayed} of A's 4 dead letters"

        # A sees all four again: the poison lands in A's dead-letter topic once more.
        async def a_replayed() -> tuple[int, int]:
            return (
                await topics.records(dead_letter_topic(a)),
                await topics.lag(a, [topic, retry_topic(a)]),
            )

        await _wait_for("dead letters A; lag A", a_replayed, (6, 0))
        replay_s = time.monotonic() - replay_started

        # Had the replay gone to the shared topic, B would meet it before this marker.
        after = registered(6, person_id=person)
        await _publish(settings, topic, after)
        await wait_until(lambda: _applied(settings, b, after.id), timeout_s=30)
        await wait_until(lambda: _applied(settings, a, after.id), timeout_s=30)

        a_dlq, b_dlq = (
            await topics.records(dead_letter_topic(a)),
            await topics.records(dead_letter_topic(b)),
        )
        b_calls_after = world.calls_of(b, dead_in_a)
        a_poison_calls = world.calls_of(a, poison) - a_poison_calls_before
        late_applied = await _applied(settings, a, late.id)
        redelivered_applied = await _applied(settings, a, redelivered.id)
        retry_a, retry_b = (
            await topics.records(retry_topic(a)),
            await topics.records(retry_topic(b)),
        )
        print(
            f"first pass {first_pass_s:.1f}s, replay applied in {replay_s:.1f}s; "
            f"dead letters A={a_dlq} B={b_dlq}; retry topics A={retry_a} B={retry_b}; "
            f"B handler calls {b_calls_before}->{b_calls_after}; A poison calls after replay "
            f"{a_poison_calls}; good record applied by A {late_applied}x, redelivered one "
            f"{redelivered_applied}x"
        )
        assert b_dlq == 2, f"B's dead-letter topic went from 2 to {b_dlq}"
        assert b_calls_after == b_calls_before, (
            f"B's handler was called {b_calls_after - b_calls_before} more time(s) after A's replay"
        )
        assert retry_b == 0, f"{retry_b} record(s) in B's retry topic"
        assert a_dlq == 6, f"A's dead-letter topic holds {a_dlq}, expected 4 + 2 poison again"
        assert a_poison_calls >= 2, f"A's handler saw the 2 replayed poison {a_poison_calls}x"
        assert late_applied == 1, f"the fixed good record was applied {late_applied}x by A"
        assert redelivered_applied == 1, (
            f"the good record applied before the replay was applied {redelivered_applied}x"
        )
        b_redelivered = await _applied(settings, b, redelivered.id)
        assert b_redelivered == 1, f"B applied the record it was sent twice {b_redelivered}x"

        # The replayed records are the originals: key, value and headers kept.
        replayed_records = await topics.read_all(retry_topic(a))
        assert len(replayed_records) == 4, f"{len(replayed_records)} records in A's retry topic"
        for record, original in zip(
            sorted(replayed_records, key=lambda r: r.offset),
            dead_in_a,
            strict=True,
        ):
            assert record.key == original.subject.encode()
            assert record.value == original.to_bytes()
            headers = dict(record.headers)
            assert set(record_headers()) <= set(headers.items())
            assert headers["dlq-replayed-from"].startswith(dead_letter_topic(a).encode())

        # Only what is new since the first replay (the 2 poison, dead-lettered again) is left.
        again = await replay_dead_letters(settings, a)
        assert again == 2, f"a second replay sent {again}, expected only the 2 new dead letters"
    finally:
        stop.set()
        await asyncio.gather(*runners)
        await engine.dispose()
