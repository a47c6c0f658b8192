"""The broker goes away: registrations keep answering 201, and every event arrives afterwards.

How we know: registrations made while the broker is unreachable are in the registry's outbox,
unsent; once the broker answers again the relay and the notify consumer recover by themselves
and every one of those people gets exactly one welcome SMS (a request that timed out on the
client but reached the broker is published twice, and the inbox absorbs the copy).

Two outages, each held longer than the producer's request timeout and the consumer's session
timeout so that both clients give up and must find their way back:

- down: the broker stops; every connection is reset and new ones are refused until it is back.
  The broker sits behind a TCP gate (`gate.py`) that does this, because restarting Tansu is not
  a broker coming back: it keeps everything in memory, and Tansu 0.6.0, restarted empty, accepts
  produce requests for topics it no longer knows, then resets those partitions when the topic
  is created again, so acknowledged records become unreadable. Kafka keeps its log.
- frozen: the broker process is stopped with SIGSTOP; connections stay open but go silent, as in
  a network partition, and the broker answers the queued requests when it resumes.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING

import httpx
import pytest

from labourx.catalog import SERVICES
from shared.app import create_app
from shared.infra import TansuBroker, free_port
from tests.faults.gate import Gate
from tests.support import (
    SMS_CONSENT,
    fetch,
    fetchval,
    jobseeker,
    spawn_cli,
    stop_process,
    wait_until,
)

if TYPE_CHECKING:
    import subprocess
    from collections.abc import AsyncIterator, Iterator
    from pathlib import Path

    from shared.settings import Settings

pytestmark = pytest.mark.slow

OUTAGE_S = 20.0


@pytest.fixture(scope="module")
def gate() -> Iterator[Gate]:
    with Gate(listen_port=free_port(), target_port=free_port()) as gate:
        yield gate


@pytest.fixture(scope="module")
def own_broker(tmp_path_factory: pytest.TempPathFactory, gate: Gate) -> Iterator[TansuBroker]:
    """This module's broker listens behind the gate and advertises the gate's address."""
    tansu = TansuBroker(
        port=gate.target_port,
        advertised_port=gate.listen_port,
        log_path=tmp_path_factory.mktemp("tansu") / "tansu.log",
    )
    tansu.start()
    yield tansu
    tansu.stop()


class Outage:
    def __init__(self, kind: str, broker: TansuBroker, gate: Gate) -> None:
        self.kind = kind
        self.broker = broker
        self.gate = gate

    def begin(self) -> None:
        if self.kind == "down":
            self.gate.shut()
        else:
            self.broker.freeze()

    def end(self) -> None:
        if self.kind == "down":
            self.gate.open()
        else:
            self.broker.thaw()


@pytest.fixture
async def registry(isolated: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SERVICES["registry"], isolated)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
            yield client


async def _register(client: httpx.AsyncClient, auth: dict[str, str], n: int) -> str:
    """Register person n; numbers are unique across this module's tests."""
    body = jobseeker(given_name_en=f"Outage{n}", phone=f"020 77{n:06d}", consents=SMS_CONSENT)
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


@pytest.mark.parametrize("kind", ["down", "frozen"])
async def test_registrations_survive_a_broker_outage(
    kind: str,
    isolated: Settings,
    own_broker: TansuBroker,
    gate: Gate,
    registry: httpx.AsyncClient,
    auth: dict[str, str],
    logs: Path,
) -> None:
    processes: list[subprocess.Popen[bytes]] = [
        spawn_cli(["relay", "registry"], isolated, logs / "relay.log"),
        spawn_cli(["consume", "notify"], isolated, logs / "consumer.log"),
    ]
    outage = Outage(kind, own_broker, gate)
    first = 0 if kind == "down" else 100
    try:
        before = [await _register(registry, auth, n) for n in range(first, first + 5)]
        await wait_until(lambda: _all_welcomed(isolated, before), timeout_s=60)

        outage.begin()
        began = time.monotonic()
        during = [await _register(registry, auth, n) for n in range(first + 5, first + 25)]
        await asyncio.sleep(OUTAGE_S - (time.monotonic() - began))
        # Each registration is two events: the person, and the SMS consent given with it.
        unsent = await fetchval(
            isolated, "registry", "SELECT count(*) FROM outbox WHERE sent_at IS NULL"
        )
        assert unsent == 2 * len(during), "the outbox holds what the broker could not take"

        outage.end()
        await wait_until(lambda: _all_welcomed(isolated, during), timeout_s=120, interval_s=0.5)
        assert all(p.poll() is None for p in processes), "nothing had to be restarted by hand"
    finally:
        outage.end()
        for process in processes:
            stop_process(process)

    assert await _welcomed(isolated, before + during) == {p: 1 for p in before + during}


async def _all_welcomed(settings: Settings, people: list[str]) -> bool:
    return len(await _welcomed(settings, people)) == len(people)
