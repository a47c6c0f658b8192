"""Figure 3: latency from a registry commit to notify's welcome message, at a steady rate.

The registry API, the registry outbox relay and the notify consumer each run as their own
process, started with the same commands the dev runner uses. The load generator posts
registrations open-loop at a fixed rate. For each registration, latency is

    notify's messages.created_at  -  registry's outbox.created_at

both `now()` of their transactions on the same PostgreSQL server, so one clock measures both
ends (the registry transaction starts when its inserts are flushed, just before commit; notify's
starts at its inbox insert, just before the handler writes the message). The relay's share,
outbox.sent_at - outbox.created_at, is reported beside it.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import asyncpg

from bench.cpu import CpuMeter
from bench.load import LoadSpec
from bench.post_throughput import officer_token
from bench.processes import Child, generate_load, labourx, start_labourx_api
from bench.stats import latency_summary

if TYPE_CHECKING:
    import uuid
    from datetime import datetime

    from bench.bodies import Numbering
    from bench.environment import Environment

WARMUP_REGISTRATIONS = 40
# The event a welcome answers: a registration also writes a ConsentChanged row per consent
# answered at the counter (issue 14), which notify records without a message of its own.
# Any version (the sealed v2 of issue 20, or v1 in a checkout before it): one is published.
REGISTERED = "lao.labourx.registry.person.registered.v%"


async def _count_messages(notify: asyncpg.Connection, event_ids: list[uuid.UUID]) -> int:
    count: int = await notify.fetchval(
        "SELECT count(*) FROM messages WHERE event_id = ANY($1::uuid[])", event_ids
    )
    return count


async def _wait_for_messages(
    registry: asyncpg.Connection,
    notify: asyncpg.Connection,
    after_id: int,
    timeout_s: float,
    children: list[Child],
) -> list[uuid.UUID]:
    """Event ids of the registrations after outbox id `after_id`, once notify has them all."""
    event_ids: list[uuid.UUID] = [
        r["event_id"]
        for r in await registry.fetch(
            "SELECT event_id FROM outbox WHERE id > $1 AND type LIKE $2", after_id, REGISTERED
        )
    ]
    deadline = time.monotonic() + timeout_s
    while await _count_messages(notify, event_ids) < len(event_ids):
        for child in children:
            child.check_alive()
        if time.monotonic() > deadline:
            break  # reported as missing, not hidden
        await asyncio.sleep(0.2)
    return event_ids


def _latencies(
    sent: dict[uuid.UUID, tuple[datetime, datetime | None]], arrived: dict[uuid.UUID, datetime]
) -> dict[str, Any]:
    """End to end and the relay's share; and p99 per second of the run, since a latency that
    keeps growing second after second means some stage cannot keep up with the rate."""
    first = min((created for created, _ in sent.values()), default=None)
    end_to_end: list[float] = []
    by_second: dict[int, list[float]] = {}
    for event_id, arrived_at in arrived.items():
        if first is None or event_id not in sent:
            continue
        created = sent[event_id][0]
        latency = (arrived_at - created).total_seconds()
        end_to_end.append(latency)
        by_second.setdefault(int((created - first).total_seconds()), []).append(latency)
    relay_share = [(s - c).total_seconds() for c, s in sent.values() if s is not None]
    return {
        "latency": latency_summary(end_to_end),
        "relay_stage_latency": latency_summary(relay_share),
        "p99_ms_by_second": [
            latency_summary(by_second[s]).get("p99_ms") for s in sorted(by_second)
        ],
    }


async def run(
    env: Environment, numbering: Numbering, rate: float, duration_s: float, client: str = "raw"
) -> dict[str, Any]:
    registry: asyncpg.Connection = await asyncpg.connect(env.dsn("registry"))
    notify: asyncpg.Connection = await asyncpg.connect(env.dsn("notify"))
    children: list[Child] = []
    try:
        await registry.execute("TRUNCATE outbox")  # earlier figures' rows are not ours
        api = await start_labourx_api(env, "registry", "e2e-registry-api")
        relay = labourx(env, "e2e-registry-relay", "relay", "registry")
        consumer = labourx(env, "e2e-notify-consumer", "consume", "notify")
        children += [api.child, relay, consumer]
        url = f"{api.base_url}/v1/jobseekers"
        token = officer_token(env)

        # Warm-up: until a few registrations have gone all the way through, the consumer has
        # not joined its group and the relay has not connected; that is start-up, not latency.
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
        await _wait_for_messages(registry, notify, 0, 120, children)
        warmup_s = time.monotonic() - started

        watermark: int = await registry.fetchval("SELECT coalesce(max(id), 0) FROM outbox")
        count = round(rate * duration_s)
        meter = CpuMeter(
            {
                "registry api": api.child.pid,
                "registry relay": relay.pid,
                "notify consumer": consumer.pid,
                "postgres": env.postgres_pid,
                "broker": env.broker_pid,
            }
        ).start()
        load = await generate_load(
            env,
            LoadSpec(
                url, token, numbering.take(count), count, mode="open", rate=rate, client=client
            ),
        )
        event_ids = await _wait_for_messages(registry, notify, watermark, 60, children)
        cpu = meter.stop()
        cpu["load generator"] = load.pop("generator_cpu_s")
        cpu["rest of machine"] = meter.others_s(cpu["load generator"])

        sent: dict[uuid.UUID, tuple[datetime, datetime | None]] = {
            r["event_id"]: (r["created_at"], r["sent_at"])
            for r in await registry.fetch(
                "SELECT event_id, created_at, sent_at FROM outbox WHERE id > $1 AND type LIKE $2",
                watermark,
                REGISTERED,
            )
        }
        arrived: dict[uuid.UUID, datetime] = {
            r["event_id"]: r["created_at"]
            for r in await notify.fetch(
                "SELECT event_id, created_at FROM messages WHERE event_id = ANY($1::uuid[])",
                event_ids,
            )
        }
    finally:
        for child in reversed(children):
            child.stop()
        await registry.close()
        await notify.close()

    return {
        "target_rate_rps": rate,
        "duration_s": duration_s,
        "registered": len(sent),
        "arrived": len(arrived),
        "warmup_s": round(warmup_s, 1),
        "http": load,
        **_latencies(sent, arrived),
        "cpu_s": {k: round(v, 2) for k, v in cpu.items()},
        "busiest_other_processes": meter.others_by_name,
        # Servers over the whole window (load and catch-up); the generator over its own run.
        "cores_used": {
            **meter.shares(),
            "load generator": round(cpu["load generator"] / load["wall_s"], 2),
            "rest of machine": round(cpu["rest of machine"] / meter.wall_s, 2),
        },
    }
