"""Field offices drop connections mid-request: nothing half-written, no connection leaked."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from typing import TYPE_CHECKING

import httpx
import pytest

from shared.infra import free_port, wait_for_port
from tests.support import fetchval, jobseeker, spawn_cli, stop_process

if TYPE_CHECKING:
    from collections.abc import Iterator

    from shared.settings import Settings


@pytest.fixture(scope="module")
def registry_url(migrated: Settings) -> Iterator[str]:
    port = free_port()
    process = spawn_cli(["api", "registry", "--port", str(port)], migrated)
    try:
        wait_for_port("127.0.0.1", port, timeout_s=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        stop_process(process)


async def test_clients_that_hang_up_leave_whole_registrations_and_free_connections(
    registry_url: str, auth: dict[str, str], migrated: Settings
) -> None:
    marker = f"Hangup{uuid.uuid4().hex[:6]}"
    # 200 requests whose clients give up after a few milliseconds, many mid-transaction.
    async with httpx.AsyncClient(base_url=registry_url, timeout=0.005) as impatient:

        async def hang_up() -> None:
            with contextlib.suppress(httpx.TimeoutException):
                await impatient.post(
                    "/v1/jobseekers", json=jobseeker(given_name_en=marker), headers=auth
                )

        await asyncio.gather(*(hang_up() for _ in range(200)))

    await asyncio.sleep(1)  # let the server finish what it started
    async with httpx.AsyncClient(base_url=registry_url, timeout=10) as patient:
        # More requests than the pool holds (pool_size + max_overflow = 10): a leak would
        # exhaust it and these would time out.
        answers = await asyncio.gather(
            *(patient.post("/v1/jobseekers", json=jobseeker(), headers=auth) for _ in range(30))
        )
    assert [a.status_code for a in answers] == [201] * 30

    people = await fetchval(
        migrated, "registry", "SELECT count(*) FROM people WHERE given_name_en = $1", marker
    )
    events = await fetchval(
        migrated,
        "registry",
        "SELECT count(*) FROM outbox o JOIN people p ON o.key = p.id::text"
        " WHERE p.given_name_en = $1",
        marker,
    )
    # Each registration that committed has exactly its one event: nothing half-written.
    assert people == events
