"""Figure 11: how long a consumer group's partitions go unconsumed after a member dies.

A group of two members (`bench.recovery_member`: labourx's consumer runner, client and stop
path) shares a topic of the run's partitions. Once both own partitions, one is stopped, with
`kill -9` (it cannot say goodbye: the broker notices when its session expires) or with SIGTERM
(the runner's `consumer.stop()` sends LeaveGroup). At that moment one probe record is sent to
every partition; recovery is the time until the last probe was applied (its row's database
clock), i.e. until every partition, the dead member's and the survivor's, is consumed again.
Measured with the settings before issue 17 (the reference) and the current defaults, rounds
interleaved so both see the same machine.
"""

from __future__ import annotations

import asyncio
import re
import signal
import statistics
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import asyncpg

from bench.processes import Child
from bench.recovery_member import PROBE_TABLE
from bench.report import Check, figure_tables
from shared.events.envelope import envelope_for, record_headers
from shared.events.registry import PersonRegistered
from shared.kafka import make_producer
from shared.settings import Settings

if TYPE_CHECKING:
    from pathlib import Path

    from bench.environment import Environment


@dataclass(frozen=True)
class GroupSettings:
    name: str
    session_timeout_ms: int
    heartbeat_interval_ms: int

    def env(self) -> dict[str, str]:
        return {
            "LABOURX_CONSUMER_SESSION_TIMEOUT_MS": str(self.session_timeout_ms),
            "LABOURX_CONSUMER_HEARTBEAT_INTERVAL_MS": str(self.heartbeat_interval_ms),
        }


# The defaults before issue 17 measured 10.4-12.8 s of no progress after each kill.
BEFORE = GroupSettings("before (session 10 s, heartbeat 1 s)", 10_000, 1_000)
_DEFAULTS = Settings.model_fields
NOW = GroupSettings(
    f"now (session {_DEFAULTS['consumer_session_timeout_ms'].default / 1000:g} s, "
    f"heartbeat {_DEFAULTS['consumer_heartbeat_interval_ms'].default / 1000:g} s)",
    _DEFAULTS["consumer_session_timeout_ms"].default,
    _DEFAULTS["consumer_heartbeat_interval_ms"].default,
)
STOPS = {"kill -9": signal.SIGKILL, "SIGTERM": signal.SIGTERM}
# Target for the current defaults on the development broker (Tansu answers a rejoin after
# about half a session; Apache Kafka as soon as every live member has rejoined).
TARGET_KILL_S = 10.0
TARGET_TERM_S = 5.0
FORMING_TIMEOUT_S = 120.0  # a loaded machine is slow; a group that never forms is an error
_OWNS = re.compile(r"now owns \[(.*?)\]")


def _say(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}]   {message}", flush=True)


def _owned(log: Path) -> int | None:
    """How many partitions the member's runner last said it owns (None: not said yet)."""
    found = _OWNS.findall(log.read_text(errors="replace")) if log.exists() else []
    return found[-1].count("partition=") if found else None


async def _wait_for(what: str, members: list[Child], condition: Any) -> None:
    deadline = time.monotonic() + FORMING_TIMEOUT_S
    while not condition():
        for member in members:
            member.check_alive()
        if time.monotonic() > deadline:
            raise TimeoutError(f"gave up after {FORMING_TIMEOUT_S:g} s waiting for {what}")
        await asyncio.sleep(0.05)


async def _one_round(
    env: Environment, conn: asyncpg.Connection, group: GroupSettings, stop: str, n: int
) -> float:
    """Seconds from stopping one of two members until every partition was consumed again."""
    partitions = env.settings.topic_partitions
    name = f"bench-recovery-{uuid.uuid4().hex[:8]}"
    child_env = {**env.child_env(), **group.env()}
    argv = [sys.executable, "-m", "bench.recovery_member", name, name]
    logs = [env.log_dir / f"recovery-{n}-{i}.log" for i in range(2)]
    first = Child(f"recovery member {n}a", argv, child_env, logs[0])
    members = [first]
    try:
        # The second member joins a group that already formed, as a scaled-out or restarted
        # replica does; on Tansu, whose first generation is 0, aiokafka would not send
        # LeaveGroup for a member of that first generation (it only does for generation > 0).
        await _wait_for(
            "the first member to own every partition",
            members,
            lambda: _owned(logs[0]) == partitions,
        )
        second = Child(f"recovery member {n}b", argv, child_env, logs[1])
        members.append(second)
        await _wait_for(
            "both members to own partitions",
            members,
            lambda: (_owned(logs[1]) or 0) > 0 and (_owned(logs[0]) or 0) < partitions,
        )
        producer = make_producer(env.settings, linger_ms=0)
        await producer.start()
        try:
            stopped_at = time.time()
            second.process.send_signal(STOPS[stop])
            probes = []
            for partition in range(partitions):
                envelope = envelope_for(_probe_payload()).model_copy(
                    update={"subject": f"probe/{partition}"}
                )
                probes.append(envelope.id)
                await producer.send(
                    name, envelope.to_bytes(), partition=partition, headers=record_headers()
                )
            await producer.flush()
        finally:
            await producer.stop()
        deadline = time.monotonic() + FORMING_TIMEOUT_S
        while True:
            applied = await conn.fetchval(
                "SELECT extract(epoch FROM max(applied_at)) FROM bench_recovery "
                "WHERE event_id = ANY($1::uuid[]) HAVING count(*) = $2",
                probes,
                partitions,
            )
            if applied is not None:
                return float(applied) - stopped_at
            first.check_alive()
            if time.monotonic() > deadline:
                raise TimeoutError(f"probes not applied within {FORMING_TIMEOUT_S:g} s")
            await asyncio.sleep(0.02)
    finally:
        for member in members:
            member.stop()


def _probe_payload() -> PersonRegistered:
    return PersonRegistered(
        person_id=uuid.uuid4(),
        reference="P-BENCHPRB",
        given_name_en="Probe",
        sex="female",
        date_of_birth=date(1995, 1, 1),
        province_code="LA-VT",
        preferred_language="lo",
        registered_by="bench",
        registered_at=datetime.now(UTC),
    )


async def run(env: Environment, rounds: int) -> dict[str, Any]:
    """`rounds` of each (settings, stop) pair, interleaved; seconds until recovered."""
    conn = await asyncpg.connect(env.dsn("notify"))
    try:
        await conn.execute(PROBE_TABLE)
        seconds: dict[str, dict[str, list[float]]] = {
            g.name: {s: [] for s in STOPS} for g in (BEFORE, NOW)
        }
        n = 0
        for _ in range(rounds):
            for stop in STOPS:
                for group in (BEFORE, NOW):
                    n += 1
                    took = await _one_round(env, conn, group, stop, n)
                    seconds[group.name][stop].append(round(took, 2))
                    _say(f"{group.name}, {stop}: recovered in {took:.2f} s")
    finally:
        await conn.close()
    return {
        "rounds": rounds,
        "partitions": env.settings.topic_partitions,
        "broker": env.broker_kind,
        "settings": {
            g.name: {
                "session_timeout_ms": g.session_timeout_ms,
                "heartbeat_interval_ms": g.heartbeat_interval_ms,
            }
            for g in (BEFORE, NOW)
        },
        "reference": BEFORE.name,
        "labourx": NOW.name,
        "seconds": seconds,
        "median_s": {
            g: {s: statistics.median(v) for s, v in by_stop.items()}
            for g, by_stop in seconds.items()
        },
    }


def checks(figure: dict[str, Any]) -> list[Check]:
    now = figure["median_s"][figure["labourx"]]
    return [
        Check(
            "consumer recovery after kill -9, median s",
            now["kill -9"],
            f"<= {TARGET_KILL_S:g}",
            now["kill -9"] <= TARGET_KILL_S,
        ),
        Check(
            "consumer recovery after SIGTERM, median s",
            now["SIGTERM"],
            f"<= {TARGET_TERM_S:g}",
            now["SIGTERM"] <= TARGET_TERM_S,
        ),
    ]


def render(figure: dict[str, Any]) -> str:
    now, before = figure["seconds"][figure["labourx"]], figure["seconds"][figure["reference"]]
    rows: list[tuple[str, str, str, str]] = [
        (
            f"Consumer group of 2, {figure['partitions']} partitions, {figure['broker']}: "
            "seconds until every partition is consumed again",
            "",
            "",
            "",
        ),
        ("  settings", figure["labourx"], figure["reference"], ""),
    ]
    for stop in STOPS:
        lx, ref = statistics.median(now[stop]), statistics.median(before[stop])
        rows.append(
            (
                f"  after {stop}: median (every round)",
                f"{lx:.2f} s ({' / '.join(f'{s:.1f}' for s in now[stop])})",
                f"{ref:.2f} s ({' / '.join(f'{s:.1f}' for s in before[stop])})",
                f"{lx / ref:.2f}",
            )
        )
    return figure_tables(rows, checks(figure))
