"""Retention of records: registry's job anonymises a person with no activity for the retention
period as an erasure does it, a bounded batch per pass, keeping the counts; any activity since
(a consent, a migration record, a worker still abroad) keeps them.

The job would anonymise every old enough person of a database, so it runs on a registry
database of this module's own, with a fixed clock (the pass's `today`).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import httpx
import pytest

from labourx.catalog import SERVICES
from services.registry.erasures import jobs
from shared.app import create_app
from shared.db import create_engine, drop_database, session_factory
from shared.events.registry import ErasureRecorded, PersonErased
from shared.jobs import run_once
from shared.provision import prepare_databases
from tests.support import bearer, fetch, fetchval, full_registration

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

    from shared.settings import Settings

[JOB] = jobs.JOBS
# The pass's clock: five years (the default retention) after LONG_AGO and after RECENTLY.
TODAY = date(2030, 1, 1)
LONG_AGO = datetime(2024, 6, 1, tzinfo=UTC)  # more than 1826 days before TODAY
RECENTLY = datetime(2029, 6, 1, tzinfo=UTC)  # within them
# Every table of registry with a person's activity, and its columns of when.
ACTIVITY = {
    "people": ("created_at", "updated_at"),
    "consents": ("recorded_at",),
    "migration_records": ("created_at", "updated_at"),
    "jobseeker_profiles": ("status_changed_at",),
    "service_links": ("recorded_at",),
    "referral_states": ("changed_at",),
}
# What a count of people can be broken down by: the tombstone keeps these.
COUNTS = (
    "SELECT province_code, sex, birth_year, office_code, count(*) AS n FROM people"
    " WHERE record_status <> 'merged' GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4"
)


@pytest.fixture(scope="module")
async def own(migrated: Settings) -> AsyncIterator[Settings]:
    settings = migrated.model_copy(update={"database_prefix": f"{migrated.database_prefix}ret_"})
    await prepare_databases(settings, [SERVICES["registry"]])
    yield settings
    await drop_database(settings, "registry")


@pytest.fixture
async def client(own: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app = create_app(SERVICES["registry"], own)
    async with (
        app.router.lifespan_context(app),
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://testserver"
        ) as client,
    ):
        yield client


@pytest.fixture
async def sessions(own: Settings) -> AsyncIterator[async_sessionmaker[AsyncSession]]:
    engine = create_engine(own, "registry")
    yield session_factory(engine)
    await engine.dispose()


def _auth(settings: Settings) -> dict[str, str]:
    return bearer(settings, "officer-vt-7", ["esc_staff"], office="ESC-VT", province="LA-VT")


async def _register(client: httpx.AsyncClient, settings: Settings, **extra: Any) -> str:
    response = await client.post(
        "/v1/jobseekers", json=full_registration(**extra), headers=_auth(settings)
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


async def _last_active(settings: Settings, person_id: str, when: datetime) -> None:
    """Date every activity of the person `when`, as if nothing happened since."""
    for table, columns in ACTIVITY.items():
        key = "id" if table == "people" else "person_id"
        sets = ", ".join(f"{column} = $2" for column in columns)
        await fetch(
            settings,
            "registry",
            f"UPDATE {table} SET {sets} WHERE {key} = $1::uuid",  # noqa: S608
            person_id,
            when,
        )


async def _status(settings: Settings, person_id: str) -> str:
    return str(
        await fetchval(
            settings, "registry", "SELECT record_status FROM people WHERE id = $1::uuid", person_id
        )
    )


async def test_people_inactive_for_the_period_are_anonymised_as_erasure_does_it(
    own: Settings,
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert own.record_retention_days == 1826
    inactive = [await _register(client, own) for _ in range(3)]
    for person_id in inactive:
        await _last_active(own, person_id, LONG_AGO)
    # Old too, but a consent was recorded since.
    consented = await _register(
        client, own, consents=[{"purpose": "contact_sms", "status": "given", "method": "signed"}]
    )
    await _last_active(own, consented, LONG_AGO)
    await fetch(
        own,
        "registry",
        "UPDATE consents SET recorded_at = $2 WHERE person_id = $1::uuid",
        consented,
        RECENTLY,
    )
    # Old, and abroad: kept while away, whatever the last change of the record.
    abroad = await _register(client, own)
    opened = await client.post(
        f"/v1/people/{abroad}/migrations",
        json={"destination_country": "TH", "channel": "mou", "agency_code": "AG-017"},
        headers=_auth(own),
    )
    assert opened.status_code == 201, opened.text
    await _last_active(own, abroad, LONG_AGO)
    await fetch(
        own,
        "registry",
        "UPDATE migration_records SET status = 'abroad' WHERE person_id = $1::uuid",
        abroad,
    )
    registered_now = await _register(client, own)
    counts_before = [dict(row) for row in await fetch(own, "registry", COUNTS)]

    # A bounded batch per pass: two, then one, then none left.
    monkeypatch.setattr(jobs, "BATCH", 2)
    passes = [await run_once(JOB, own, sessions, TODAY) for _ in range(3)]

    assert passes == [2, 1, 0]
    for person_id in inactive:
        assert await _status(own, person_id) == "erased"
    for person_id in (consented, abroad, registered_now):
        assert await _status(own, person_id) == "active"
    [person] = await fetch(
        own,
        "registry",
        "SELECT given_name_lo, phone, date_of_birth, sex, birth_year, province_code"
        " FROM people WHERE id = $1::uuid",
        inactive[0],
    )
    assert (person["given_name_lo"], person["phone"], person["date_of_birth"]) == (None,) * 3
    assert [dict(row) for row in await fetch(own, "registry", COUNTS)] == counts_before


async def test_the_anonymisation_is_an_erasure_every_service_follows_and_the_ledger_keeps(
    own: Settings, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person_id = await _register(client, own)
    await _last_active(own, person_id, LONG_AGO)

    assert await run_once(JOB, own, sessions, TODAY) >= 1

    events = {
        row["type"]: json.loads(row["value"])["data"]
        for row in await fetch(
            own, "registry", "SELECT type, value FROM outbox WHERE key = $1", person_id
        )
    }
    assert events.keys() == {PersonErased.event_type(), ErasureRecorded.event_type()}
    assert events[PersonErased.event_type()]["erased_by"] == jobs.RETENTION.subject
    assert events[ErasureRecorded.event_type()]["basis"] == "retention"
    [entry] = await fetch(
        own, "registry", "SELECT basis FROM erasure_ledger WHERE person_id = $1::uuid", person_id
    )
    assert entry["basis"] == "retention"
    [audited] = await fetch(
        own,
        "registry",
        "SELECT actor, reason FROM audit_log WHERE person_id = $1::uuid AND action = 'erased'",
        person_id,
    )
    assert audited["actor"] == jobs.RETENTION.subject
    assert "1826 days" in audited["reason"]


async def test_a_longer_period_keeps_them(
    own: Settings, client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    person_id = await _register(client, own)
    await _last_active(own, person_id, LONG_AGO)
    longer = own.model_copy(update={"record_retention_days": 10 * 365})

    await run_once(JOB, longer, sessions, TODAY)

    assert await _status(own, person_id) == "active"
