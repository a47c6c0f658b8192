"""The broker goes down: registrations keep answering 201, and every event arrives afterwards.

How we know: registrations made while the broker is stopped are in the registry's outbox,
unsent; once the broker is back (Tansu restarts empty, as a broker that lost its disk would),
the relay and the notify consumer recover by themselves and every one of those people gets
exactly one welcome SMS.
"""

from __future__ import annotations

import subprocess
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

        own_broker.stop()
        during = [await _register(registry, auth, n) for n in range(5, 25)]
        unsent = await fetchval(
            isolated, "registry", "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
        )
        assert unsent == len(during), "the outbox holds what the broker could not take"

        own_broker.start()
        await wait_until(lambda: _all_welcomed(isolated, during), timeout_s=120, interval_s=0.5)
        assert all(p.poll() is None for p in processes), "nothing had to be restarted by hand"
    finally:
        for process in processes:
            stop_process(process)

    assert await _welcomed(isolated, before + during) == {p: 1 for p in before + during}


async def _all_welcomed(settings: Settings, people: list[str]) -> bool:
    return len(await _welcomed(settings, people)) == len(people)
