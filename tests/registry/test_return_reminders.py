"""Return reminders: one MigrationReturnDue event per MOU worker's return date, ahead of it."""

from __future__ import annotations

import asyncio
import json
import signal
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pytest

from services.registry.app import SPEC
from shared import clock
from shared.clock import add_years
from shared.db import create_engine, session_factory
from shared.events.registry import MigrationReturnDue
from shared.jobs import run_once
from tests.support import fetch, jobseeker, spawn_cli, stop_process, wait_until

if TYPE_CHECKING:
    from collections.abc import AsyncIterator
    from pathlib import Path

    import httpx
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from shared.settings import Settings

RETURN_DUE = MigrationReturnDue.event_type()
[JOB] = [job for job in SPEC.jobs if job.name == "return-reminders"]
TODAY = clock.today()


def _issued_for(return_due_on: date) -> date:
    """The MOU permit issue date that makes the worker due home on `return_due_on`."""
    # Valid for two years less a day; home 30 days before it ends.
    return add_years(return_due_on + timedelta(days=31), -2)


@pytest.fixture
async def sessions(migrated: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(migrated, "registry")
    yield session_factory(engine)
    await engine.dispose()


async def _abroad(
    client: httpx.AsyncClient,
    auth: dict[str, str],
    *,
    due_in_days: int,
    until: str = "abroad",
    **permit: Any,
) -> dict[str, Any]:
    """An MOU worker taken along the lifecycle over HTTP, due home in `due_in_days` days."""
    person = await client.post("/v1/jobseekers", json=jobseeker(), headers=auth)
    assert person.status_code == 201, person.text
    opened = await client.post(
        f"/v1/people/{person.json()['id']}/migrations",
        json={"destination_country": "TH", "channel": "mou", "agency_code": "AG-017"},
        headers=auth,
    )
    assert opened.status_code == 201, opened.text
    record = opened.json()
    issued = _issued_for(TODAY + timedelta(days=due_in_days)).isoformat()
    steps: list[dict[str, Any]] = [
        {"status": "ready", "permit_number": "WP-100200", "permit_issued_on": issued, **permit},
        {"status": "departed", "on": (TODAY - timedelta(days=700)).isoformat()},
        {"status": "abroad"},
    ]
    order = ["ready", "departed", "abroad"]
    for step in steps[: order.index(until) + 1]:
        response = await client.post(
            f"/v1/migrations/{record['id']}/status", json=step, headers=auth
        )
        assert response.status_code == 200, response.text
        record = response.json()
    return dict(record)


async def _reminders(settings: Settings, record: dict[str, Any]) -> list[dict[str, Any]]:
    rows = await fetch(
        settings,
        "registry",
        "SELECT value FROM outbox WHERE key = $1 AND type = $2 ORDER BY id",
        record["person_id"],
        RETURN_DUE,
    )
    return [json.loads(row["value"])["data"] for row in rows]


async def test_a_worker_due_home_within_the_lead_time_is_reminded_once(
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    record = await _abroad(registry_client, auth, due_in_days=20)
    assert record["return_due_on"] == (TODAY + timedelta(days=20)).isoformat()
    assert migrated.registry_return_reminder_lead_days > 20

    handled = await run_once(JOB, migrated, sessions, today=TODAY)

    assert handled >= 1
    [reminder] = await _reminders(migrated, record)
    assert reminder == {
        "person_id": record["person_id"],
        "migration_id": record["id"],
        "destination_country": "TH",
        "permit_expires_on": record["permit_expires_on"],
        "return_due_on": record["return_due_on"],
        "days_left": 20,
    }

    assert await run_once(JOB, migrated, sessions, today=TODAY) == 0
    assert await run_once(JOB, migrated, sessions, today=TODAY + timedelta(days=5)) == 0
    assert len(await _reminders(migrated, record)) == 1


async def test_a_worker_due_later_than_the_lead_time_is_reminded_when_it_comes(
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    lead = migrated.registry_return_reminder_lead_days
    record = await _abroad(registry_client, auth, due_in_days=lead + 30)

    await run_once(JOB, migrated, sessions, today=TODAY)
    assert await _reminders(migrated, record) == []

    await run_once(JOB, migrated, sessions, today=TODAY + timedelta(days=30))
    [reminder] = await _reminders(migrated, record)
    assert reminder["days_left"] == lead


async def test_extending_the_permit_moves_the_date_and_rearms_the_reminder(
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    departed = await _abroad(registry_client, auth, due_in_days=10)
    await run_once(JOB, migrated, sessions, today=TODAY)
    assert len(await _reminders(migrated, departed)) == 1

    # The worker is abroad when the employer renews the permit for two more years.
    extended = await registry_client.patch(
        f"/v1/migrations/{departed['id']}", json={"permit_extended": True}, headers=auth
    )

    assert extended.status_code == 200, extended.text
    record = extended.json()
    new_due = date.fromisoformat(record["return_due_on"])
    assert new_due == add_years(TODAY + timedelta(days=10 + 31), 2) - timedelta(days=31)
    await run_once(JOB, migrated, sessions, today=TODAY)
    assert len(await _reminders(migrated, record)) == 1  # the new date is two years away
    await run_once(JOB, migrated, sessions, today=new_due - timedelta(days=15))
    await run_once(JOB, migrated, sessions, today=new_due - timedelta(days=14))
    first, second = await _reminders(migrated, record)
    assert first["return_due_on"] == departed["return_due_on"]
    assert (second["return_due_on"], second["days_left"]) == (record["return_due_on"], 15)
    assert second["permit_expires_on"] == record["permit_expires_on"]


async def test_returned_cancelled_and_not_yet_departed_workers_are_never_reminded(
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    returned = await _abroad(registry_client, auth, due_in_days=10)
    back = await registry_client.post(
        f"/v1/migrations/{returned['id']}/status",
        json={"status": "returned", "on": TODAY.isoformat(), "return_reason": "health"},
        headers=auth,
    )
    assert back.status_code == 200, back.text
    cancelled = await _abroad(registry_client, auth, due_in_days=10, until="ready")
    gave_up = await registry_client.post(
        f"/v1/migrations/{cancelled['id']}/status", json={"status": "cancelled"}, headers=auth
    )
    assert gave_up.status_code == 200, gave_up.text
    waiting = await _abroad(registry_client, auth, due_in_days=10, until="ready")
    assert waiting["return_due_on"] is not None

    for days in (0, 5, 10, 30):
        await run_once(JOB, migrated, sessions, today=TODAY + timedelta(days=days))

    for record in (returned, cancelled, waiting):
        assert await _reminders(migrated, record) == []


async def test_the_jobs_process_sends_the_reminder_and_stops_cleanly_on_sigterm(
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    migrated: Settings,
    logs: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    record = await _abroad(registry_client, auth, due_in_days=3)
    # settings_env() starts from this process's environment.
    monkeypatch.setenv("LABOURX_JOBS_INTERVAL_S", "0.2")
    process = spawn_cli(["jobs", "registry"], migrated, logs / "jobs.log")
    try:

        async def reminded() -> list[dict[str, Any]]:
            return await _reminders(migrated, record)

        [reminder] = await wait_until(reminded, timeout_s=30)
        assert (reminder["migration_id"], reminder["days_left"]) == (record["id"], 3)
        await asyncio.sleep(1.0)  # several more passes
        assert len(await reminded()) == 1
        assert process.poll() is None, (logs / "jobs.log").read_text()

        process.send_signal(signal.SIGTERM)
        assert process.wait(20) == 0, (logs / "jobs.log").read_text()
    finally:
        stop_process(process)
