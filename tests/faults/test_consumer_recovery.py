"""`kill -9` of one member of notify's two-member consumer group while events flow (issue 17).

With the shipped consumer settings (session timeout and heartbeat), the survivor must take over
the dead member's partitions and drain the backlog, every event applied exactly once: counted
by the probe table of tests/faults/counting_consumer.py (no unique constraint, so a second
application is a second row). The time the dead member's partitions waited is printed, not
asserted: it depends on the machine (figure 11 in docs/performance.md measures it).
"""

from __future__ import annotations

import asyncio
import re
import signal
import time
from typing import TYPE_CHECKING

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from services.notify.app import SPEC as NOTIFY
from shared.kafka import make_producer
from shared.settings import Settings
from tests.events import phone_for, registered
from tests.faults.counting_consumer import PROBE_TABLE
from tests.support import fetch, fetchval, spawn_module, stop_process, wait_until

if TYPE_CHECKING:
    import subprocess
    import uuid
    from pathlib import Path

pytestmark = pytest.mark.slow

EVENTS = 1600
BATCH = 40  # sent every 0.2 s: 200 events/s for 8 s, so the kill lands mid-stream
GENEROUS_S = 120.0  # a loaded machine is slow; only a group that never recovers fails
_OWNS = re.compile(r"now owns \[(.*?)\]")


def _owned(log: Path) -> int | None:
    """Partitions the member's runner last said it owns; None before it said anything."""
    found = _OWNS.findall(log.read_text(errors="replace")) if log.exists() else []
    return found[-1].count("partition=") if found else None


async def _produce(settings: Settings, ids: list[uuid.UUID]) -> None:
    producer = make_producer(settings)
    await producer.start()
    try:
        for n in range(EVENTS):
            envelope = registered(n, phone=phone_for(n))
            ids.append(envelope.id)
            await producer.send(
                "registry.people", envelope.to_bytes(), key=envelope.subject.encode()
            )
            if n % BATCH == BATCH - 1:
                await producer.flush()
                await asyncio.sleep(0.2)
        await producer.flush()
    finally:
        await producer.stop()


async def _committed(settings: Settings, group: str, topic: str) -> int:
    """Offsets `group` has committed on `topic`, summed over its partitions."""
    # In the group but subscribed to nothing, so it reads the commits without joining.
    reader = AIOKafkaConsumer(
        bootstrap_servers=settings.bootstrap_servers, group_id=group, enable_auto_commit=False
    )
    await reader.start()
    try:
        partitions = [TopicPartition(topic, p) for p in range(settings.topic_partitions)]
        return sum([(await reader.committed(tp)) or 0 for tp in partitions])
    finally:
        await reader.stop()


async def test_a_killed_members_partitions_are_taken_over_and_drained_exactly_once(
    isolated: Settings, logs: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The shipped defaults, not the fault suite's shorter ones: they are what is being tried.
    defaults = {
        name: Settings.model_fields[name].default
        for name in ("consumer_session_timeout_ms", "consumer_heartbeat_interval_ms")
    }
    settings = isolated.model_copy(update=defaults)
    monkeypatch.setenv("LABOURX_TEST_CHILD_LOG_LEVEL", "INFO")  # members say what they own
    await fetchval(settings, "notify", PROBE_TABLE)
    [spec] = NOTIFY.consumers
    partitions = settings.topic_partitions * len(spec.subscribed)
    member_logs = [logs / "member-a.log", logs / "member-b.log"]
    members: list[subprocess.Popen[bytes]] = []
    ids: list[uuid.UUID] = []
    producing: asyncio.Task[None] | None = None

    def spawn(log: Path) -> None:
        members.append(spawn_module("tests.faults.counting_consumer", [], settings, log))

    def survivor_up() -> None:
        assert members[0].poll() is None, f"member a exited; see {member_logs[0]}"

    async def a_owns_all() -> bool:
        survivor_up()
        return _owned(member_logs[0]) == partitions

    async def both_own_some() -> bool:
        survivor_up()
        return (_owned(member_logs[1]) or 0) > 0 and (_owned(member_logs[0]) or 0) < partitions

    async def applied(query: str, *args: object) -> bool:
        survivor_up()
        return bool(await fetchval(settings, "notify", query, *args))

    async def all_committed() -> bool:
        # This module's broker holds only these events on the topic, one offset each, so
        # commits summing to EVENTS mean none is left to be delivered again. (Not compared with
        # end offsets: Tansu's ListOffsets can answer short of the last record.)
        survivor_up()
        return await _committed(settings, spec.group, "registry.people") == EVENTS

    try:
        spawn(member_logs[0])
        await wait_until(a_owns_all, GENEROUS_S)
        spawn(member_logs[1])  # joins a formed group, as a scaled-out replica does
        await wait_until(both_own_some, GENEROUS_S)
        held_by_b = _owned(member_logs[1])

        producing = asyncio.create_task(_produce(settings, ids))
        # Kill once events are being applied, so b dies holding uncommitted work.
        await wait_until(
            lambda: applied("SELECT count(*) > 200 FROM fault_applied"), GENEROUS_S, 0.05
        )
        members[1].send_signal(signal.SIGKILL)
        killed_at = time.monotonic()
        members[1].wait()

        await wait_until(a_owns_all, GENEROUS_S, 0.05)
        took_over_s = time.monotonic() - killed_at
        applied_at_takeover = await fetchval(
            settings, "notify", "SELECT count(*) FROM fault_applied"
        )
        await producing
        # Drained: every event applied, and committed, so that none can come again.
        await wait_until(
            lambda: applied("SELECT count(DISTINCT event_id) = $1 FROM fault_applied", EVENTS),
            GENEROUS_S,
            0.2,
        )
        await wait_until(all_committed, GENEROUS_S, 0.5)
    finally:
        for member in members:
            stop_process(member)
        if producing is not None and not producing.done():
            producing.cancel()

    counts = await fetch(
        settings, "notify", "SELECT event_id, count(*) AS n FROM fault_applied GROUP BY event_id"
    )
    lost = set(ids) - {r["event_id"] for r in counts}
    doubled = [r["event_id"] for r in counts if r["n"] > 1]
    print(
        f"\nconsumer recovery: member b (held {held_by_b} of {partitions} partitions) killed; "
        f"member a owned all {partitions} after {took_over_s:.1f} s "
        f"(session {defaults['consumer_session_timeout_ms']} ms, heartbeat "
        f"{defaults['consumer_heartbeat_interval_ms']} ms; {applied_at_takeover} of {EVENTS} "
        f"applied by then); lost {len(lost)}, doubled {len(doubled)}"
    )
    assert len(ids) == EVENTS
    assert not lost, f"{len(lost)} events never applied"
    assert not doubled, f"{len(doubled)} events applied twice"
    messages = await fetch(settings, "notify", "SELECT event_id FROM messages")
    assert sorted(r["event_id"] for r in messages) == sorted(ids), "one welcome SMS per event"
