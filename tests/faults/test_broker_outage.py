"""The broker goes down: registrations keep answering 201, and every event arrives afterwards.

How we know: registrations made while the broker is unreachable are in the registry's outbox,
unsent; once the broker answers again the relay and the notify consumer recover by themselves
and every one of those people gets exactly one welcome SMS (requests that timed out on the
client but reached the broker are published twice, and the inbox absorbs the copy).

The outage is the broker process frozen with SIGSTOP: every connection goes silent and new
ones are never answered, as in a network partition, while the broker keeps its log as a real
Kafka broker does across an outage. Restarting Tansu instead would test a defect of the
development broker, not our code: it keeps everything in memory, and Tansu 0.6.0, restarted
empty, accepts produce requests for topics it no longer knows and then resets those
partitions when the topic is created again, so acknowledged records become unreadable.
"""

from __future__ import annotations

import asyncio
import subprocess
import time
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from services.catalog import SERVICES
from shared.app import create_app
from shared.infra import TansuBroker
from shared.settings import Settings
from tests.support import fetch, fetchval, jobseeker, spawn_cli, stop_process, wait_until

pytestmark = pytest.mark.slow

OUTAGE_S = 20.0


@pytest.fixture
async def registry(isolated: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SERVICES["registry"], isolated)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
            yield client


async def _register(client: httpx.AsyncClient, auth: dict[str, str], n: int) -> str:
    body = jobseeker(given_name_en=f"Outage{n}", phone=f"020 77{n:06d}")
    response = await client.post("/v1/jobseekers", json=body, headers=auth)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _welcomed(settings: Settings, people: list[str]) -> dict[str, int]:
    rows = await fetch(
        settings,
        "notify",
        "SELECT person_id::text AS id, count(*) AS n FROM messages"
        " WHERE person_id = ANY($1::uuid[]) GROUP BY person_id",
        people,
    )
    return {r["id"]: r["n"] for r in rows}


async def test_registrations_survive_a_broker_outage(
    isolated: Settings,
    own_broker: TansuBroker,
    registry: httpx.AsyncClient,
    auth: dict[str, str],
    logs: Path,
) -> None:
    processes: list[subprocess.Popen[bytes]] = [
        spawn_cli(["relay", "registry"], isolated, logs / "relay.log"),
        spawn_cli(["consume", "notify"], isolated, logs / "consumer.log"),
    ]
    try:
        before = [await _register(registry, auth, n) for n in range(5)]
        await wait_until(lambda: _all_welcomed(isolated, before), timeout_s=60)

        own_broker.freeze()
        frozen_at = time.monotonic()
        during = [await _register(registry, auth, n) for n in range(5, 25)]
        # Longer than the producer's request timeout and the consumer's session timeout, so
        # both clients give up on their requests and must find their way back by themselves.
        await asyncio.sleep(OUTAGE_S - (time.monotonic() - frozen_at))
        unsent = await fetchval(
            isolated, "registry", "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
        )
        assert unsent == len(during), "the outbox holds what the broker could not take"

        own_broker.thaw()
        await wait_until(lambda: _all_welcomed(isolated, during), timeout_s=120, interval_s=0.5)
        assert all(p.poll() is None for p in processes), "nothing had to be restarted by hand"
    finally:
        own_broker.thaw()
        for process in processes:
            stop_process(process)

    assert await _welcomed(isolated, before + during) == {p: 1 for p in before + during}


async def _all_welcomed(settings: Settings, people: list[str]) -> bool:
    return len(await _welcomed(settings, people)) == len(people)
