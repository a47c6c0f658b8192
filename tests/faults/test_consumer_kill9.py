"""`kill -9` of notify's consumer, again and again, while 5,000 events flow.

How we know nothing is lost or applied twice: the consumer process writes one probe row per
application into a table without a unique constraint (tests/faults/counting_consumer.py), so a
lost event is a missing id and a double application is a second row for the same id; notify's
own messages are compared id by id as well.
"""

from __future__ import annotations

import asyncio
import random
import signal
from functools import partial
from typing import TYPE_CHECKING

import pytest

from shared.kafka import make_producer
from tests.events import phone_for, registered
from tests.faults.counting_consumer import PROBE_TABLE
from tests.support import fetch, fetchval, spawn_module, stop_process, wait_until

if TYPE_CHECKING:
    import subprocess
    import uuid
    from pathlib import Path

    from shared.settings import Settings

pytestmark = pytest.mark.slow

EVENTS = 5000
KILLS = 6


async def _applied(settings: Settings) -> int:
    return int(await fetchval(settings, "notify", "SELECT count(*) FROM fault_applied"))


async def _produce(settings: Settings, ids: list[uuid.UUID]) -> None:
    """5,000 events paced over ~10 s, so kills land while they are still arriving."""
    producer = make_producer(settings)
    await producer.start()
    try:
        for n in range(EVENTS):
            envelope = registered(n, phone=phone_for(n))
            ids.append(envelope.id)
            await producer.send(
                "registry.people", envelope.to_bytes(), key=envelope.subject.encode()
            )
            if n % 250 == 249:
                await producer.flush()
                await asyncio.sleep(0.5)
        await producer.flush()
    finally:
        await producer.stop()


async def test_killing_the_consumer_repeatedly_loses_and_repeats_nothing(
    isolated: Settings, logs: Path
) -> None:
    await fetchval(isolated, "notify", PROBE_TABLE)
    ids: list[uuid.UUID] = []
    producing = asyncio.create_task(_produce(isolated, ids))
    rng = random.Random(20261123)
    kills = 0
    applied_at_kills: list[int] = []
    consumer: subprocess.Popen[bytes] | None = None
    try:
        while kills < KILLS:
            consumer = spawn_module(
                "tests.faults.counting_consumer", [], isolated, logs / "consumer.log"
            )
            before = await _applied(isolated)
            # Kill only once this process is applying, at a random moment mid-stream.
            await wait_until(partial(_more_than, isolated, before), timeout_s=60)
            await asyncio.sleep(rng.uniform(0.05, 1.0))
            consumer.send_signal(signal.SIGKILL)
            consumer.wait()
            kills += 1
            applied_at_kills.append(await _applied(isolated))
        await producing
        assert applied_at_kills[-1] < EVENTS, "every kill landed mid-stream"

        consumer = spawn_module(
            "tests.faults.counting_consumer", [], isolated, logs / "consumer.log"
        )
        await wait_until(lambda: _more_than(isolated, EVENTS - 1), timeout_s=120, interval_s=0.5)
        await asyncio.sleep(3)  # a redelivered, re-applied event would show up by now
    finally:
        if consumer is not None:
            stop_process(consumer)
        if not producing.done():
            producing.cancel()

    counts = await fetch(
        isolated, "notify", "SELECT event_id, count(*) AS n FROM fault_applied GROUP BY event_id"
    )
    assert len(ids) == EVENTS
    assert {r["event_id"] for r in counts} == set(ids), "every event applied"
    assert max(r["n"] for r in counts) == 1, "no event applied twice"
    messages = await fetch(isolated, "notify", "SELECT event_id FROM messages")
    assert sorted(r["event_id"] for r in messages) == sorted(ids), "one welcome SMS per event"


async def _more_than(settings: Settings, threshold: int) -> bool:
    return await _applied(settings) > threshold
