"""A database outage is a 503 with Retry-After, never a 500, and a 500 is logged once
(issue 17, point 2).

registry's API runs in this process with its real lifespan against the module's own
PostgreSQL, which is stopped and started again under it; the app is never restarted. What was
saved is counted in SQL: the people and outbox rows of the 201s, nothing of the 503s.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from typing import TYPE_CHECKING, Any

import httpx
import pytest
import uvicorn
from fastapi import APIRouter, FastAPI

from labourx.catalog import SERVICES
from shared.app import create_app
from shared.infra import TansuBroker, free_port
from shared.problems import PROBLEM_JSON, TYPE_BASE
from tests.faults.stoppable_postgres import StoppablePostgres, settings_on, stoppable_postgres
from tests.support import fetchval, jobseeker, wait_until

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Iterator

    from shared.settings import Settings

pytestmark = pytest.mark.slow

REGISTRY = SERVICES["registry"]


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[StoppablePostgres]:
    with stoppable_postgres("outage-api-pg") as server:
        yield server


@pytest.fixture(scope="module")
async def outage(
    settings: Settings, own_broker: TansuBroker, own_postgres: StoppablePostgres
) -> Settings:
    """Settings on this module's PostgreSQL and broker, registry migrated; a pool that gives up
    waiting for a connection soon (the production default is 10 s)."""
    from shared.provision import prepare_databases

    ours = settings_on(settings, own_postgres, own_broker.bootstrap_servers)
    ours = ours.model_copy(update={"db_pool_timeout_s": 1.0})
    await prepare_databases(ours, [REGISTRY])
    return ours


@contextlib.asynccontextmanager
async def _client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with app.router.lifespan_context(app):
        # An exception the app raised instead of answering would reach the server (and its
        # log): here it fails the test.
        transport = httpx.ASGITransport(app=app, raise_app_exceptions=True)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            yield client


async def _saved(settings: Settings) -> tuple[int, int]:
    people = await fetchval(settings, "registry", "SELECT count(*) FROM people")
    outbox = await fetchval(settings, "registry", "SELECT count(*) FROM outbox")
    return int(people), int(outbox)


def _assert_unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["type"] == TYPE_BASE + "service-unavailable"
    assert int(response.headers["retry-after"]) > 0


async def test_a_stopped_database_answers_503_and_the_same_app_201_once_it_is_back(
    outage: Settings, own_postgres: StoppablePostgres, auth: dict[str, str]
) -> None:
    started = time.monotonic()
    statuses: list[int] = []
    async with _client(create_app(REGISTRY, outage)) as client:
        before = await _saved(outage)
        first = await client.post("/v1/people", json=jobseeker(), headers=auth)
        assert first.status_code == 201, first.text
        people, outbox = await _saved(outage)
        per_person = outbox - before[1]  # outbox rows one registration writes
        await asyncio.to_thread(own_postgres.stop, "fast")
        try:
            for _ in range(5):
                answer = await client.post("/v1/people", json=jobseeker(), headers=auth)
                statuses.append(answer.status_code)
                _assert_unavailable(answer)
        finally:
            await asyncio.to_thread(own_postgres.start)
        assert (await _saved(outage)) == (people, outbox)  # nothing of the 503s

        # Back: the same app answers 201 again (a 503 meanwhile is a retry, never a 500).
        async def registered() -> bool:
            answer = await client.post("/v1/people", json=jobseeker(), headers=auth)
            statuses.append(answer.status_code)
            assert answer.status_code in (201, 503), answer.text
            return answer.status_code == 201

        await wait_until(registered, timeout_s=60, interval_s=0.2)
    after = await _saved(outage)
    assert after[0] == people + 1
    assert after[1] - outbox == per_person
    print(f"statuses: 503 x{statuses.count(503)}, 500 x{statuses.count(500)}, 201 after")
    print(f"took {time.monotonic() - started:.1f} s")
    assert 500 not in statuses


async def test_a_pool_with_no_connection_to_give_answers_503(
    outage: Settings, auth: dict[str, str]
) -> None:
    started = time.monotonic()
    one = outage.model_copy(update={"db_pool_size": 1, "db_max_overflow": 0})
    app = create_app(REGISTRY, one)
    async with _client(app) as client:
        people, outbox = await _saved(outage)
        async with app.state.engine.connect() as held:  # the pool's one connection
            answer = await client.post("/v1/people", json=jobseeker(), headers=auth)
            _assert_unavailable(answer)
            assert held is not None
        assert (await _saved(outage)) == (people, outbox)
        answer = await client.post("/v1/people", json=jobseeker(), headers=auth)
        assert answer.status_code == 201, answer.text
    print(f"took {time.monotonic() - started:.1f} s")


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_a_500_is_logged_once_and_a_503_not_as_an_error(
    outage: Settings, own_postgres: StoppablePostgres, auth: dict[str, str]
) -> None:
    """Through uvicorn, as production serves: the server logs whatever the app raises."""
    started = time.monotonic()
    broken = APIRouter()

    @broken.get("/v1/broken")
    async def fails() -> dict[str, Any]:
        raise RuntimeError("a bug")

    app = create_app(dataclasses.replace(REGISTRY, routers=[*REGISTRY.routers, broken]), outage)
    records = _Records()
    logging.getLogger().addHandler(records)  # after create_app: it sets the root's handlers
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False)
    )
    serving = asyncio.create_task(server.serve())
    try:
        await wait_until(lambda: _true(server.started), timeout_s=60)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert (await client.get("/v1/broken", headers=auth)).status_code == 500
            await asyncio.to_thread(own_postgres.stop, "fast")
            try:
                answer = await client.post("/v1/people", json=jobseeker(), headers=auth)
            finally:
                await asyncio.to_thread(own_postgres.start)
            _assert_unavailable(answer)
    finally:
        server.should_exit = True
        await serving
        logging.getLogger().removeHandler(records)
    errors = [r for r in records.records if r.levelno >= logging.ERROR]
    assert [(r.name, r.getMessage()) for r in errors] == [("shared.problems", "unhandled error")]
    print(f"took {time.monotonic() - started:.1f} s")


async def _true(value: bool) -> bool:
    return value
