"""Figure 4: the CPU a registration costs from request to every consumer, at a steady rate.

The registry API, the registry outbox relay and the consumer of each service (registry, notify,
matching, predeparture) run as their own processes, started with the dev runner's commands.
Registrations are posted open-loop at a fixed rate, low enough that every stage keeps up; the
window runs from the first request until the relay has sent every outbox row and every consumer
group that reads registry.people has committed every record. Each process's CPU time over the
window (bench.cpu), divided by the registrations, is its share of a registration; their sum is
the figure. PostgreSQL and the broker are shown beside it, not in it.

Idle processes spend CPU too (consumers poll, jobs run, the relay listens): that is measured on
its own for a few seconds before the load, with no registration in flight, and shown as the
part of the window's CPU that idling would have cost anyway.

A run in which any registration did not succeed, or did not reach every consumer, is invalid.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition

from bench.cpu import CpuMeter
from bench.load import LoadSpec
from bench.post_throughput import failures_by_status, officer_token
from bench.processes import Child, generate_load, labourx, start_labourx_api

if TYPE_CHECKING:
    from bench.bodies import Numbering
    from bench.environment import Environment

TOPIC = "registry.people"
READERS = ("notify", "matching", "predeparture")  # the groups that read registrations
CONSUMERS = ("registry", "notify", "matching", "predeparture")
WARMUP_REGISTRATIONS = 40
IDLE_S = 5.0
LABOURX = ("registry api", "registry relay", *(f"{c} consumer" for c in CONSUMERS))
# Registry's internal route where consumers fetch the keys of people they meet first
# (shared/sealing_consumer.py): its calls are counted, a cost per batch rather than per event.
KEYS_ROUTE = "/internal/v1/person-keys"


class _Ends:
    """The end of each partition of registry.people, found by reading every record.

    Not from ListOffsets: Tansu answers it with the offset of a partition's first batch rather
    than its end once a producer has sent batches of several records (seen with 0.5: 1 where
    a reader finds offsets 0 to 12), so a group would look ahead of the log.
    """

    def __init__(self, env: Environment) -> None:
        self.partitions = [TopicPartition(TOPIC, p) for p in range(env.settings.topic_partitions)]
        self.reader = AIOKafkaConsumer(
            bootstrap_servers=env.settings.bootstrap_servers, enable_auto_commit=False
        )
        self.ends = {tp: 0 for tp in self.partitions}

    async def start(self) -> None:
        await self.reader.start()
        self.reader.assign(self.partitions)
        await self.reader.seek_to_beginning(*self.partitions)

    async def stop(self) -> None:
        await self.reader.stop()

    async def read(self) -> dict[TopicPartition, int]:
        """Read up to what the log holds now (the relay has sent everything it will)."""
        while batches := await self.reader.getmany(timeout_ms=300):
            for tp, records in batches.items():
                self.ends[tp] = max(self.ends[tp], records[-1].offset + 1)
        return self.ends


async def _lag(env: Environment, ends: dict[TopicPartition, int]) -> dict[str, int]:
    """Records of registry.people each reading group has not committed yet."""
    behind: dict[str, int] = {}
    for group in READERS:
        committer = AIOKafkaConsumer(
            bootstrap_servers=env.settings.bootstrap_servers,
            group_id=group,
            enable_auto_commit=False,
        )
        await committer.start()
        try:
            behind[group] = 0
            for tp, end in ends.items():
                behind[group] += max(end - (await committer.committed(tp) or 0), 0)
        finally:
            await committer.stop()
    return behind


async def _key_calls(api_url: str) -> int:
    """Calls registry's API has answered on its person-keys route so far (its /metrics)."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{api_url}/metrics", timeout=10)).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("labourx_http_requests_total{") and f'route="{KEYS_ROUTE}"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return round(total)


async def _drained(
    env: Environment,
    ends: _Ends,
    registry: asyncpg.Connection,
    children: list[Child],
    timeout_s: float,
) -> dict[str, int]:
    """Wait until the outbox is sent and every reader has committed everything; what is left
    when `timeout_s` runs out (empty when all is through)."""
    deadline = time.monotonic() + timeout_s
    while True:
        for child in children:
            child.check_alive()
        unsent: int = await registry.fetchval("SELECT count(*) FROM outbox WHERE sent_at IS NULL")
        behind: dict[str, int] = {}
        if not unsent:
            behind = {g: n for g, n in (await _lag(env, await ends.read())).items() if n}
        left = {"unsent outbox rows": unsent} if unsent else behind
        if not left or time.monotonic() > deadline:
            return left
        await asyncio.sleep(0.25)


async def run(
    env: Environment, numbering: Numbering, rate: float, duration_s: float, client: str = "raw"
) -> dict[str, Any]:
    registry: asyncpg.Connection = await asyncpg.connect(env.dsn("registry"))
    children: list[Child] = []
    ends = _Ends(env)
    await ends.start()
    try:
        await registry.execute("TRUNCATE outbox")  # earlier figures' rows are not ours
        api = await start_labourx_api(env, "registry", "pipeline-registry-api")
        relay = labourx(env, "pipeline-registry-relay", "relay", "registry")
        consumers = {c: labourx(env, f"pipeline-{c}-consumer", "consume", c) for c in CONSUMERS}
        children += [api.child, relay, *consumers.values()]
        url = f"{api.base_url}/v1/jobseekers"
        token = officer_token(env)

        # Warm-up: groups joined, producer connected, caches filled; and anything earlier
        # figures left on the topic consumed.
        started = time.monotonic()
        await generate_load(
            env,
            LoadSpec(
                url,
                token,
                numbering.take(WARMUP_REGISTRATIONS),
                WARMUP_REGISTRATIONS,
                concurrency=4,
                client=client,
            ),
        )
        if left := await _drained(env, ends, registry, children, 180):
            raise RuntimeError(f"pipeline warm-up did not drain within 180 s: {left}")
        warmup_s = time.monotonic() - started

        pids = {
            "registry api": api.child.pid,
            "registry relay": relay.pid,
            **{f"{c} consumer": child.pid for c, child in consumers.items()},
            "postgres": env.postgres_pid,
            "broker": env.broker_pid,
        }
        idle = CpuMeter(pids).start()
        await asyncio.sleep(IDLE_S)
        idle_cpu = idle.stop()

        count = round(rate * duration_s)
        calls_before = await _key_calls(api.base_url)
        meter = CpuMeter(pids).start()
        load = await generate_load(
            env,
            LoadSpec(
                url, token, numbering.take(count), count, mode="open", rate=rate, client=client
            ),
        )
        left = await _drained(env, ends, registry, children, 120)
        cpu = meter.stop()
        key_calls = await _key_calls(api.base_url) - calls_before
        window_s = meter.wall_s
        load_cpu_s = load.pop("generator_cpu_s")
        others_s = meter.others_s(load_cpu_s)
    finally:
        for child in reversed(children):
            child.stop()
        await registry.close()
        await ends.stop()

    registered = load["statuses"].get("201", 0)
    failures = failures_by_status([load])
    per = max(registered, 1)
    ms = {name: round(seconds * 1000 / per, 3) for name, seconds in cpu.items()}
    idle_ms = {
        name: round(idle_cpu.get(name, 0.0) / idle.wall_s * window_s * 1000 / per, 3)
        for name in cpu
    }
    total = round(sum(ms[name] for name in LABOURX if name in ms), 3)
    return {
        "target_rate_rps": rate,
        "duration_s": duration_s,
        "registrations": registered,
        "failures_by_status": failures,
        "not_through": left,
        "valid": not failures and not left and registered == count,
        "warmup_s": round(warmup_s, 1),
        "window_s": round(window_s, 2),
        "http": load,
        "cpu_ms_per_registration": ms,
        "idle_cpu_ms_per_registration": idle_ms,
        "labourx_cpu_ms_per_registration": total,
        "key_calls": key_calls,
        "key_calls_per_registration": round(key_calls / per, 3),
        "labourx_idle_ms_per_registration": round(
            sum(idle_ms[name] for name in LABOURX if name in idle_ms), 3
        ),
        "idle_cores": idle.shares(),
        "busiest_other_processes": meter.others_by_name,
        "cores_used": {
            **meter.shares(),
            "load generator": round(load_cpu_s / load["wall_s"], 2),
            "rest of machine": round(others_s / window_s, 2),
        },
    }
