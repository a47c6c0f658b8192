"""Migration record operations: each change and its event written in one transaction."""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from services.registry.audit import service as audit
from services.registry.audit.domain import Action
from services.registry.jobseekers import service as jobseekers
from services.registry.migration_records.domain import (
    Channel,
    MigrationStatus,
    MouPermit,
    check_requirements,
    check_transition,
)
from services.registry.migration_records.models import MigrationRecord
from services.registry.migration_records.schemas import (
    Documents,
    MigrationCreate,
    MigrationRead,
    MigrationStatusIn,
)
from services.registry.people.domain import age_on
from services.registry.people.models import Person
from services.registry.people.records import announce_update, get_person
from shared import clock
from shared.db import clock_now
from shared.events.registry import MigrationStatusChanged
from shared.outbox import add_event
from shared.problems import Conflict, InvalidField, NotFound

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.auth import Principal

log = logging.getLogger(__name__)

CLOSED = (MigrationStatus.RETURNED, MigrationStatus.CANCELLED)


def _permit(record: MigrationRecord) -> MouPermit | None:
    if record.channel != Channel.MOU or record.permit_issued_on is None:
        return None
    return MouPermit(issued_on=record.permit_issued_on, extended=record.permit_extended)


def to_read(record: MigrationRecord) -> MigrationRead:
    permit = _permit(record)
    return MigrationRead.model_validate(
        {
            **{c.key: getattr(record, c.key) for c in MigrationRecord.__table__.columns},
            "permit_expires_on": permit.expires_on if permit else None,
            "return_due_on": permit.return_due_on if permit else None,
        }
    )


def _apply_documents(record: MigrationRecord, documents: Documents) -> None:
    for field, value in documents.model_dump(exclude_unset=True).items():
        if field in Documents.model_fields and value is not None:
            setattr(record, field, value)


async def _announce(
    session: AsyncSession,
    record: MigrationRecord,
    previous: MigrationStatus | None,
    principal: Principal,
) -> None:
    read = to_read(record)
    await add_event(
        session,
        MigrationStatusChanged(
            person_id=record.person_id,
            migration_id=record.id,
            status=record.status,
            previous_status=previous.value if previous else None,
            destination_country=record.destination_country,
            channel=record.channel,
            agency_code=record.agency_code,
            departed_on=record.departed_on,
            returned_on=record.returned_on,
            return_reason=record.return_reason,
            permit_expires_on=read.permit_expires_on,
            return_due_on=read.return_due_on,
            skills_gained=list(record.skills_gained or []),
            changed_by=principal.subject,
            office_code=principal.office,
            changed_at=record.updated_at,
        ),
    )


async def open_record(
    session: AsyncSession,
    person_id: uuid.UUID,
    data: MigrationCreate,
    principal: Principal,
    *,
    minimum_age: int,
    today: date | None = None,
) -> MigrationRecord:
    """Open a prospective migration record for a person who has none open."""
    today = today or clock.today()
    person = await get_person(session, person_id, principal, lock=True)
    person_id = person.id  # a merged-away id leads to the survivor
    if person.date_of_birth is not None and age_on(person.date_of_birth, today) < minimum_age:
        # The birth date is the record's, not this request's: the request named the person.
        raise InvalidField(
            "person_id",
            f"the person (born {person.date_of_birth.isoformat()}, per their record) must be at "
            f"least {minimum_age} years old to migrate for work",
        )
    open_id = await session.scalar(
        select(MigrationRecord.id).where(
            MigrationRecord.person_id == person_id, MigrationRecord.status.not_in(CLOSED)
        )
    )
    if open_id is not None:
        raise Conflict("the person already has an open migration record", existing_id=str(open_id))
    record = _new_record(
        person_id,
        MigrationStatus.PROSPECTIVE,
        destination_country=data.destination_country,
        channel=data.channel,
        agency_code=data.agency_code,
        employer_name=data.employer_name,
        principal=principal,
    )
    _apply_documents(record, data)
    await _add_record(session, person, record, principal)
    return record


def _new_record(
    person_id: uuid.UUID,
    status: MigrationStatus,
    *,
    destination_country: str,
    channel: Channel | str,
    agency_code: str | None,
    employer_name: str | None,
    principal: Principal,
) -> MigrationRecord:
    now = datetime.now(UTC)
    return MigrationRecord(
        id=uuid.uuid4(),
        person_id=person_id,
        status=status,
        destination_country=destination_country,
        channel=channel,
        agency_code=agency_code,
        employer_name=employer_name,
        skills_gained=[],
        permit_extended=False,
        office_code=principal.office,
        created_by=principal.subject,
        created_at=now,
        updated_at=now,
    )


async def _add_record(
    session: AsyncSession,
    person: Person,
    record: MigrationRecord,
    principal: Principal,
    *,
    reason: str | None = None,
) -> None:
    """Store a new record, mirror its status on the person, announce and audit it."""
    record.return_due_on = to_read(record).return_due_on
    session.add(record)
    person.migration_status = record.status
    await session.flush()
    await _announce(session, record, None, principal)
    await audit.record(
        session, principal, Action.MIGRATION_CHANGED, [person.id], fields=["status"], reason=reason
    )


async def get_record(
    session: AsyncSession, migration_id: uuid.UUID, principal: Principal, *, lock: bool = False
) -> MigrationRecord:
    """A record of a person the principal may see; 404 for unknown, 403 outside their scope."""
    record = await session.get(MigrationRecord, migration_id, with_for_update=lock)
    if record is None:
        raise NotFound(f"no migration record {migration_id}")
    await get_person(session, record.person_id, principal)
    return record


async def read_record(
    session: AsyncSession, migration_id: uuid.UUID, principal: Principal
) -> MigrationRecord:
    """A record with its documents, logged in the audit trail as read."""
    record = await get_record(session, migration_id, principal)
    await audit.record(session, principal, Action.MIGRATION_READ, [record.person_id])
    return record


async def update_documents(
    session: AsyncSession, migration_id: uuid.UUID, data: Documents, principal: Principal
) -> MigrationRecord:
    """Replace the documents sent (not the status); announced like a status change, unchanged."""
    record = await get_record(session, migration_id, principal, lock=True)
    sent = sorted(data.model_fields_set)
    _apply_documents(record, data)
    record.return_due_on = to_read(record).return_due_on
    record.updated_at = await clock_now(session)
    await session.flush()
    current = MigrationStatus(record.status)
    await _announce(session, record, current, principal)
    await audit.record(
        session, principal, Action.MIGRATION_CHANGED, [record.person_id], fields=sent
    )
    return record


async def change_status(
    session: AsyncSession,
    migration_id: uuid.UUID,
    data: MigrationStatusIn,
    principal: Principal,
    *,
    today: date | None = None,
) -> MigrationRecord:
    """Move a record along its lifecycle; 409 names the current state when it may not."""
    today = today or clock.today()
    record = await get_record(session, migration_id, principal, lock=True)
    person = await get_person(session, record.person_id, principal, lock=True)
    current = MigrationStatus(record.status)
    check_transition(current, data.status)
    departed_on = data.on if data.status is MigrationStatus.DEPARTED else record.departed_on
    returned_on = data.on if data.status is MigrationStatus.RETURNED else None
    check_requirements(
        data.status,
        channel=Channel(record.channel),
        agency_code=data.agency_code or record.agency_code,
        departed_on=departed_on,
        returned_on=returned_on,
        return_reason=data.return_reason,
        today=today,
    )
    record.status = data.status
    record.agency_code = data.agency_code or record.agency_code
    record.departed_on = departed_on
    if data.status is MigrationStatus.RETURNED:
        record.returned_on = returned_on
        record.return_reason = data.return_reason
        record.skills_gained = list(dict.fromkeys(data.skills_gained))
    _apply_documents(record, data)
    record.return_due_on = to_read(record).return_due_on
    record.updated_at = await clock_now(session)
    person.migration_status = record.status
    await session.flush()
    await _announce(session, record, current, principal)
    if data.status is MigrationStatus.RETURNED:
        await _reintegrate(session, person, record, principal)
    await audit.record(session, principal, Action.MIGRATION_CHANGED, [person.id], fields=["status"])
    return record


async def _reintegrate(
    session: AsyncSession, person: Person, record: MigrationRecord, principal: Principal
) -> None:
    """Back home: an active jobseeker again, with the skills gained abroad on the record."""
    await jobseekers.reactivate(
        session, person.id, reason="returned from abroad", changed_by=principal.subject
    )
    new_skills = [s for s in record.skills_gained or [] if s not in (person.skills or [])]
    if new_skills:
        person.skills = [*(person.skills or []), *new_skills]
        await announce_update(session, person, ["skills"], principal)
        await audit.record(
            session, principal, Action.UPDATED, [person.id], fields=["skills"], reason="returned"
        )


async def list_for_person(
    session: AsyncSession, person_id: uuid.UUID, principal: Principal
) -> list[MigrationRecord]:
    person_id = (await get_person(session, person_id, principal)).id
    await audit.record(session, principal, Action.MIGRATION_READ, [person_id])
    rows = await session.scalars(
        select(MigrationRecord)
        .where(MigrationRecord.person_id == person_id)
        .order_by(MigrationRecord.created_at.desc())
    )
    return list(rows.all())


async def _kept_id(session: AsyncSession, person_id: uuid.UUID) -> uuid.UUID | None:
    """The id of the record that holds the person now (following merges), unlocked; None when
    registry does not hold them or they were erased."""
    for _ in range(5):  # merges chain rarely; a bound keeps a bad chain from looping
        found = (
            await session.execute(
                select(Person.merged_into, Person.record_status).where(Person.id == person_id)
            )
        ).first()
        if found is None:
            return None
        if found.merged_into is None:
            return person_id if found.record_status == "active" else None
        person_id = found.merged_into
    return None


async def _open_record(session: AsyncSession, person_id: uuid.UUID) -> MigrationRecord | None:
    return await session.scalar(
        select(MigrationRecord)
        .where(MigrationRecord.person_id == person_id, MigrationRecord.status.not_in(CLOSED))
        .with_for_update()
    )


async def apply_placement(
    session: AsyncSession,
    person_id: uuid.UUID,
    *,
    destination_country: str,
    channel: Channel,
    agency_code: str | None,
    principal: Principal,
    reason: str,
) -> MigrationRecord | None:
    """An overseas placement made in matching: the worker is ready to depart through the agency.

    The open record moves to `ready` with the placement's destination, channel and agency, or
    a new record opens as `ready` when there is none. A record already ready, departed or
    abroad stays as it is (a redelivered placement finds it ready). None when registry does
    not hold the person (unknown or erased) or nothing changed.
    """
    check_requirements(
        MigrationStatus.READY,
        channel=channel,
        agency_code=agency_code,
        departed_on=None,
        returned_on=None,
        return_reason=None,
        today=clock.today(),
    )
    kept_id = await _kept_id(session, person_id)
    # The record is locked before the person, in the order change_status takes them.
    record = await _open_record(session, kept_id) if kept_id else None
    person = await session.get(Person, kept_id, with_for_update=True) if kept_id else None
    if person is not None and person.merged_into is not None:
        # Merged between the look-up and the lock: the consumer retries and follows the merge.
        raise Conflict(
            f"person {kept_id} was merged meanwhile", survivor_id=str(person.merged_into)
        )
    if person is None or person.record_status != "active":
        log.info("placement of a person registry does not hold (%s): ignored", person_id)
        return None
    if record is None:
        # Opening a record holds the person's lock: one opened meanwhile is visible now.
        record = await _open_record(session, person.id)
    if record is None:
        record = _new_record(
            person.id,
            MigrationStatus.READY,
            destination_country=destination_country,
            channel=channel,
            agency_code=agency_code,
            employer_name=None,
            principal=principal,
        )
        await _add_record(session, person, record, principal, reason=reason)
        return record
    current = MigrationStatus(record.status)
    if current is not MigrationStatus.PROSPECTIVE:
        log.info(
            "placement for person %s left migration record %s as it is (%s)",
            person.id,
            record.id,
            current,
        )
        return None
    await _make_ready(
        session,
        person,
        record,
        current,
        destination_country=destination_country,
        channel=channel,
        agency_code=agency_code,
        principal=principal,
        reason=reason,
    )
    return record


async def _make_ready(
    session: AsyncSession,
    person: Person,
    record: MigrationRecord,
    current: MigrationStatus,
    *,
    destination_country: str,
    channel: Channel,
    agency_code: str | None,
    principal: Principal,
    reason: str,
) -> None:
    """Move a prospective record to `ready` with the placement's details, and announce it."""
    check_transition(current, MigrationStatus.READY)
    record.status = MigrationStatus.READY
    record.destination_country = destination_country
    record.channel = channel
    record.agency_code = agency_code or record.agency_code
    record.return_due_on = to_read(record).return_due_on
    record.updated_at = await clock_now(session)
    person.migration_status = record.status
    await session.flush()
    await _announce(session, record, current, principal)
    await audit.record(
        session,
        principal,
        Action.MIGRATION_CHANGED,
        [person.id],
        fields=["status", "destination_country", "channel", "agency_code"],
        reason=reason,
    )
