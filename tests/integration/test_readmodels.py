"""The shared read-model skeleton (shared/readmodels.py) on a real PostgreSQL table of its own.

A minimal read model of people (a name, serving offices) in a database of this test module's
own: registrations and updates by version, merges (retiring the duplicate, following chains,
locking), and erasure of a person with the records merged into them.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import uuid
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import pytest
from prometheus_client import REGISTRY
from sqlalchemy import DateTime, String, text
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared import clock, readmodels
from shared.db import create_engine, drop_database, ensure_database, session_factory
from shared.events.envelope import envelope_for
from shared.events.registry import PersonDetails, PersonRegistered, PersonUpdated
from shared.readmodels import Outcome
from shared.settings import Settings
from shared.work import Resources, Work

if TYPE_CHECKING:
    from collections.abc import AsyncIterator, Callable

    from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

    from shared.events import CloudEvent

SERVICE = "readmodels"  # the database's name after the prefix

_made = itertools.count()


def person_fields(**overrides: Any) -> dict[str, Any]:
    """A PersonRegistered payload."""
    n = next(_made)
    fields: dict[str, Any] = {
        "person_id": uuid.uuid4(),
        "reference": f"P-R{n:07d}",
        "given_name_en": f"Bounmy{n}",
        "family_name_en": "Sisouvanh",
        "sex": "female",
        "date_of_birth": date(1998, 3, 1),
        "province_code": "LA-SV",
        "registered_by": "mrc-sv-1",
        "registered_at": datetime.now(UTC),
    }
    return fields | overrides


def updated(fields: dict[str, Any], version: int, **changes: Any) -> PersonUpdated:
    record = {k: v for k, v in fields.items() if k not in ("registered_by", "registered_at")}
    return PersonUpdated(
        **(record | changes),
        changed_fields=sorted(changes),
        record_version=version,
        updated_by="mrc-sv-1",
        updated_at=datetime.now(UTC),
    )


class _Base(DeclarativeBase):
    """Apart from the services' metadata, which migrations and their checks compare."""


class Reader(_Base):
    __tablename__ = "readers"

    person_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(210))
    serving_offices: Mapped[list[str]] = mapped_column(ARRAY(String(20)), server_default="{}")
    record_status: Mapped[str] = mapped_column(String(10), server_default="active")
    merged_into: Mapped[uuid.UUID | None] = mapped_column()
    record_version: Mapped[int] = mapped_column(server_default="0")
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), nullable=True)


@pytest.fixture(scope="module")
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    settings = Settings(
        env="test", database_url=database_url, database_prefix=f"lxt_{uuid.uuid4().hex[:8]}_"
    )
    await ensure_database(settings, SERVICE)
    engine = create_engine(settings, SERVICE)
    async with engine.begin() as conn:
        await conn.run_sync(_Base.metadata.create_all)
    yield engine
    await engine.dispose()
    await drop_database(settings, SERVICE)


@pytest.fixture(scope="module")
def sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return session_factory(engine)


def _fill(details: PersonDetails) -> Callable[[Reader], None]:
    def fill(reader: Reader) -> None:
        reader.name = f"{details.given_name_en} {details.family_name_en}"

    return fill


async def _apply(
    sessions: async_sessionmaker[AsyncSession], details: PersonDetails, version: int
) -> Outcome:
    async with sessions() as session, session.begin():
        return await readmodels.apply_record(
            session, Reader, details.person_id, version, _fill(details), new={"serving_offices": []}
        )


async def _registered(sessions: async_sessionmaker[AsyncSession], **kw: object) -> uuid.UUID:
    details = PersonRegistered(**person_fields(**kw))
    assert await _apply(sessions, details, 1) is Outcome.APPLIED
    return details.person_id


async def _absorb_offices(duplicate: Reader, survivor: Reader | None) -> None:
    if survivor is not None:
        survivor.serving_offices = [*survivor.serving_offices, *duplicate.serving_offices]


async def _merge(
    sessions: async_sessionmaker[AsyncSession], person_id: uuid.UUID, survivor_id: uuid.UUID
) -> Outcome:
    async with sessions() as session, session.begin():
        return await readmodels.merge(session, Reader, person_id, survivor_id, _absorb_offices)


async def _get(sessions: async_sessionmaker[AsyncSession], person_id: uuid.UUID) -> Reader | None:
    async with sessions() as session:
        return await session.get(Reader, person_id)


async def test_a_record_applies_once_per_version_and_never_to_a_merged_away_row(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    fields = person_fields(given_name_en="Bounmy")
    person = fields["person_id"]
    # An update for a person not seen yet creates the row: it carries the whole record.
    assert await _apply(sessions, updated(fields, 3), 3) is Outcome.APPLIED
    assert await _apply(sessions, updated(fields, 3), 3) is Outcome.STALE
    assert await _apply(sessions, updated(fields, 2, given_name_en="Old"), 2) is Outcome.STALE
    row = await _get(sessions, person)
    assert row is not None
    assert (row.name, row.record_version, row.record_status) == ("Bounmy Sisouvanh", 3, "active")
    assert row.serving_offices == []

    survivor = await _registered(sessions)
    assert await _merge(sessions, person, survivor) is Outcome.APPLIED
    assert await _apply(sessions, updated(fields, 4, given_name_en="New"), 4) is Outcome.MERGED


async def test_a_merge_retires_the_duplicate_once_and_the_survivor_absorbs_it(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    duplicate, survivor, unknown = (
        await _registered(sessions),
        await _registered(sessions),
        uuid.uuid4(),
    )
    async with sessions() as session, session.begin():
        row = await readmodels.locked(session, Reader, duplicate)
        assert row is not None
        row.serving_offices = ["VT-01"]

    assert await _merge(sessions, duplicate, duplicate) is Outcome.STALE
    assert await _merge(sessions, unknown, survivor) is Outcome.UNKNOWN_PERSON
    assert await _merge(sessions, duplicate, survivor) is Outcome.APPLIED
    assert await _merge(sessions, duplicate, survivor) is Outcome.MERGED

    retired, kept = await _get(sessions, duplicate), await _get(sessions, survivor)
    assert retired is not None
    assert kept is not None
    assert (retired.record_status, retired.merged_into) == ("merged", survivor)
    assert (kept.record_status, kept.serving_offices) == ("active", ["VT-01"])

    # A survivor unknown to the read model: the duplicate still retires, nothing is absorbed.
    lone = await _registered(sessions)
    assert await _merge(sessions, lone, unknown) is Outcome.APPLIED
    gone = await _get(sessions, lone)
    assert gone is not None
    assert gone.merged_into == unknown


async def test_following_merges_reaches_the_record_that_holds_the_person_now(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    first, second, third = [await _registered(sessions) for _ in range(3)]
    assert await _merge(sessions, first, second) is Outcome.APPLIED
    assert await _merge(sessions, second, third) is Outcome.APPLIED

    async with sessions() as session, session.begin():
        holder = await readmodels.locked_following_merges(session, Reader, first)
        assert holder is not None
        assert holder.person_id == third
        assert await readmodels.locked_following_merges(session, Reader, uuid.uuid4()) is None


async def test_a_serving_office_is_kept_once_on_the_record_that_holds_the_person_now(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    duplicate, survivor = await _registered(sessions), await _registered(sessions)
    assert await _merge(sessions, duplicate, survivor) is Outcome.APPLIED

    def with_office(held: list[str], office: str) -> list[str]:
        return list(dict.fromkeys([*held, office]))

    async def serve(person_id: uuid.UUID, office: str) -> Outcome:
        async with sessions() as session, session.begin():
            return await readmodels.add_serving_office(
                session, Reader, person_id, office, with_office
            )

    assert await serve(duplicate, "ESC-VT") is Outcome.APPLIED
    assert await serve(survivor, "ESC-VT") is Outcome.STALE
    assert await serve(survivor, "MRC-SV") is Outcome.APPLIED
    assert await serve(uuid.uuid4(), "ESC-VT") is Outcome.UNKNOWN_PERSON
    kept = await _get(sessions, survivor)
    assert kept is not None
    assert kept.serving_offices == ["ESC-VT", "MRC-SV"]
    assert kept.updated_at is not None


async def test_a_locked_row_holds_back_a_second_transaction_until_the_first_ends(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    person = await _registered(sessions)
    order: list[str] = []

    async def second() -> None:
        async with sessions() as other, other.begin():
            await readmodels.locked(other, Reader, person)
            order.append("second")

    async with sessions() as first, first.begin():
        await readmodels.locked(first, Reader, person)
        waiting = asyncio.create_task(second())
        # Wait until PostgreSQL shows the second transaction waiting for a lock (not a guessed
        # time); a generous bound, so that a loaded machine fails only with a clear message.
        for _ in range(1200):
            async with sessions() as probe:
                blocked = await probe.scalar(
                    text(
                        "SELECT count(*) FROM pg_stat_activity"
                        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                    )
                )
            if blocked:
                break
            await asyncio.sleep(0.05)
        else:
            pytest.fail("the second transaction never waited for the locked row")
        order.append("first")
    await asyncio.wait_for(waiting, timeout=60)
    assert order == ["first", "second"]


async def test_an_erasure_reaches_the_person_and_the_records_merged_into_them(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    person, duplicate, bystander = [await _registered(sessions) for _ in range(3)]
    assert await _merge(sessions, duplicate, person) is Outcome.APPLIED
    never_known = uuid.uuid4()

    async with sessions() as session, session.begin():
        assert await readmodels.records_of(session, Reader, never_known) == []
        assert await readmodels.erased_ids(session, Reader, never_known) == [never_known]
        ids = await readmodels.erased_ids(session, Reader, person)
        assert ids == sorted([person, duplicate])
        await readmodels.delete_records(session, Reader, ids)

    assert await _get(sessions, person) is None
    assert await _get(sessions, duplicate) is None
    assert await _get(sessions, bystander) is not None


async def test_person_handlers_apply_registrations_and_updates_and_count_what_changed_nothing(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    note = readmodels.Skipped(
        "lxt_test_readers_skipped", "test", logging.getLogger(__name__), "readers"
    )

    async def apply_person(session: AsyncSession, details: PersonDetails, version: int) -> Outcome:
        return await readmodels.apply_record(
            session, Reader, details.person_id, version, _fill(details), new={"serving_offices": []}
        )

    handlers = readmodels.person_handlers(note, apply_person=apply_person)
    fields = person_fields()
    registered = PersonRegistered(**fields)
    for payload in (registered, registered, updated(fields, 2, given_name_en="Noy")):
        event: CloudEvent = envelope_for(payload)
        async with sessions() as session, session.begin():
            work = Work(session, Settings(env="test"), sessions, clock.today(), Resources())
            await handlers[event.type](work, event, payload)

    row = await _get(sessions, fields["person_id"])
    assert row is not None
    assert (row.name, row.record_version) == ("Noy Sisouvanh", 2)
    labels = {"type": PersonRegistered.event_type(), "reason": Outcome.STALE.value}
    assert REGISTRY.get_sample_value("lxt_test_readers_skipped_total", labels) == 1
