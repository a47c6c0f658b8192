"""The outbox relay under faults: one active relay, standbys take over, each key stays in order.

How we know: events are written through the real outbox writer, several per key in a known
order, while two relay processes run; the active one is killed with SIGKILL mid-stream. Reading
the topic back, every event is there, and for each key the first delivery of each event comes
in the order it was written (a relay that dies after publishing but before marking may publish
a row again; consumers skip that repeat by event id, so first deliveries are what they apply).
"""

from __future__ import annotations

import asyncio
import signal
import uuid
from collections import defaultdict
from typing import TYPE_CHECKING

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from shared.db import create_engine, session_factory
from shared.events.envelope import CloudEvent
from shared.events.topics import REGISTRY_PEOPLE
from shared.outbox import add_event
from shared.outbox.relay import lock_key
from tests.events import person_registered
from tests.support import fetchval, spawn_cli, stop_process, wait_until

if TYPE_CHECKING:
    import subprocess
    from pathlib import Path

    from shared.settings import Settings

pytestmark = pytest.mark.slow

KEYS = 50
ROUNDS = 40  # events per key

HOLDERS = """
    SELECT array_agg(l.pid) FROM pg_locks l JOIN pg_database d ON d.oid = l.database
    WHERE l.locktype = 'advisory' AND l.granted AND l.objid = $1::bigint::oid
      AND d.datname = current_database()
"""


async def _write(settings: Settings, written: dict[str, list[uuid.UUID]]) -> None:
    """Each round is one transaction with one event per key, as a busy registry would write."""
    engine = create_engine(settings, "registry")
    sessions = session_factory(engine)
    people = [uuid.uuid4() for _ in range(KEYS)]
    try:
        for round_ in range(ROUNDS):
            async with sessions() as session, session.begin():
                for person_id in people:
                    envelope = await add_event(
                        session, person_registered(round_, person_id=person_id)
                    )
                    written[str(person_id)].append(envelope.id)
            await asyncio.sleep(0.1)
    finally:
        await engine.dispose()


async def _holders(settings: Settings) -> list[int]:
    pid = await fetchval(settings, "registry", HOLDERS, lock_key("registry"))
    return list(pid or [])


async def _sent(settings: Settings) -> int:
    return int(
        await fetchval(
            settings, "registry", "SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL"
        )
    )


async def _read_back(settings: Settings, wanted: set[uuid.UUID]) -> dict[str, list[uuid.UUID]]:
    """Every record on the topic, per key, in log order, until all `wanted` ids were seen."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, enable_auto_commit=False
    )
    await consumer.start()
    try:
        partitions = consumer.partitions_for_topic(REGISTRY_PEOPLE) or set()
        tps = [TopicPartition(REGISTRY_PEOPLE, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        seen: dict[str, list[uuid.UUID]] = defaultdict(list)
        found: set[uuid.UUID] = set()
        deadline = asyncio.get_running_loop().time() + 60
        while not wanted <= found and asyncio.get_running_loop().time() < deadline:
            for records in (await consumer.getmany(timeout_ms=500)).values():
                for record in records:
                    event = CloudEvent.from_bytes(record.value or b"")
                    seen[(record.key or b"").decode()].append(event.id)
                    found.add(event.id)
        return seen
    finally:
        await consumer.stop()


async def test_a_standby_relay_takes_over_and_each_key_stays_in_order(
    isolated: Settings, logs: Path
) -> None:
    written: dict[str, list[uuid.UUID]] = defaultdict(list)
    writing: asyncio.Task[None] | None = None
    relays: list[subprocess.Popen[bytes]] = []
    try:
        active = spawn_cli(["relay", "registry"], isolated, logs / "relay-a.log")
        relays.append(active)
        [first_holder] = await wait_until(lambda: _holders(isolated), timeout_s=30)

        standby = spawn_cli(["relay", "registry"], isolated, logs / "relay-b.log")
        relays.append(standby)
        await asyncio.sleep(2)  # the standby is up and polling for the lock
        assert standby.poll() is None
        assert await _holders(isolated) == [first_holder], "only one relay is active"

        writing = asyncio.create_task(_write(isolated, written))
        await wait_until(lambda: _more_sent(isolated, KEYS * 5), timeout_s=30)
        sent_before_kill = await _sent(isolated)
        active.send_signal(signal.SIGKILL)
        active.wait()
        await writing
        assert sent_before_kill < KEYS * ROUNDS, "the kill landed mid-stream"

        [new_holder] = await wait_until(lambda: _holders(isolated), timeout_s=30)
        assert new_holder != first_holder, "the standby holds the lock now"
        await wait_until(lambda: _more_sent(isolated, KEYS * ROUNDS - 1), timeout_s=60)
    finally:
        for relay in relays:
            stop_process(relay)
        if writing is not None and not writing.done():
            writing.cancel()

    wanted = {event_id for ids in written.values() for event_id in ids}
    assert len(wanted) == KEYS * ROUNDS
    delivered = await _read_back(isolated, wanted)
    for key, ids in written.items():
        first_deliveries = list(dict.fromkeys(delivered[key]))
        assert first_deliveries == ids, f"events of {key} out of order or missing"


async def _more_sent(settings: Settings, threshold: int) -> bool:
    return await _sent(settings) > threshold
