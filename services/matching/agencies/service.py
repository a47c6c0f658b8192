"""Agency supervision: licences, status decisions and their history, complaints.

Every status change writes an AgencyStatusChange row and an AgencyStatusChanged event in the
request's transaction, and pauses or resumes the agency's vacancies in the same one.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.exc import IntegrityError

from services.matching.agencies.domain import (
    EXPIRED,
    OPEN_COMPLAINTS,
    AgencyStatus,
    ComplaintStatus,
    check_complaint_change,
    check_licence,
    check_status_change,
    effective_status,
)
from services.matching.agencies.models import Agency, AgencyStatusChange, Complaint
from services.matching.agencies.schemas import (
    AgencyCreate,
    AgencyDetail,
    AgencyRead,
    AgencyStatusIn,
    ComplaintCreate,
    ComplaintStatusIn,
    LicenceRenewal,
    StatusChangeRead,
)
from services.matching.employers.domain import name_pattern
from services.matching.recruitment.models import RecruitmentCost
from services.matching.vacancies import service as vacancies
from shared.db import clock_now
from shared.events.matching import AgencyStatusChanged
from shared.outbox import add_event
from shared.pagination import newest_first, page_of
from shared.problems import Conflict, InvalidField, NotFound

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from services.matching.scope import Actor
    from shared.auth import Principal

SYSTEM = "system"
LICENSED = "licensed"
RENEWED = "licence renewed"
REINSTATED = "agency reinstated"


class AlreadyRegistered(Conflict):
    slug, title = "duplicate-agency", "Agency or licence already registered"


@dataclass(frozen=True)
class Counts:
    open_complaints: int = 0
    complaints_total: int = 0
    worker_paid_costs: int = 0


async def _counts(session: AsyncSession, ids: list[uuid.UUID]) -> dict[uuid.UUID, Counts]:
    """Complaints (open and all) and worker-paid recruitment costs of each agency."""
    if not ids:
        return {}
    complaints = await session.execute(
        select(
            Complaint.agency_id,
            func.count().filter(Complaint.status.in_(sorted(OPEN_COMPLAINTS))),
            func.count(),
        )
        .where(Complaint.agency_id.in_(ids))
        .group_by(Complaint.agency_id)
    )
    costs: dict[uuid.UUID, int] = {
        agency_id: count
        for agency_id, count in await session.execute(
            select(RecruitmentCost.agency_id, func.count())
            .where(RecruitmentCost.agency_id.in_(ids), RecruitmentCost.paid_by == "worker")
            .group_by(RecruitmentCost.agency_id)
        )
    }
    found = {agency_id: (opened, total) for agency_id, opened, total in complaints}
    return {
        agency_id: Counts(*found.get(agency_id, (0, 0)), costs.get(agency_id, 0))
        for agency_id in ids
    }


def _read(agency: Agency, counts: Counts, today: date) -> dict[str, object]:
    return {
        **{c.key: getattr(agency, c.key) for c in Agency.__table__.columns},
        "status": effective_status(agency.status, agency.licence_expires_on, today),
        "recorded_status": agency.status,
        "open_complaints": counts.open_complaints,
        "complaints_total": counts.complaints_total,
        "worker_paid_costs": counts.worker_paid_costs,
    }


async def to_read(session: AsyncSession, agency: Agency, today: date) -> AgencyRead:
    """The agency as it stands today, with its complaints and worker-paid costs counted."""
    counts = (await _counts(session, [agency.id]))[agency.id]
    return AgencyRead.model_validate(_read(agency, counts, today))


async def to_detail(session: AsyncSession, agency: Agency, today: date) -> AgencyDetail:
    """The agency with the history of its licence decisions, newest first."""
    counts = (await _counts(session, [agency.id]))[agency.id]
    history = await session.scalars(
        select(AgencyStatusChange)
        .where(AgencyStatusChange.agency_id == agency.id)
        .order_by(AgencyStatusChange.changed_at.desc(), AgencyStatusChange.id)
    )
    return AgencyDetail.model_validate(
        _read(agency, counts, today)
        | {"history": [StatusChangeRead.model_validate(h) for h in history]}
    )


async def _record(
    session: AsyncSession,
    agency: Agency,
    *,
    status: str,
    previous: str | None,
    reason: str | None,
    effective_on: date,
    by: str,
    at: datetime,
) -> None:
    """Keep the decision in the agency's history and announce it."""
    session.add(
        AgencyStatusChange(
            id=uuid.uuid4(),
            agency_id=agency.id,
            status=status,
            previous_status=previous,
            reason=reason,
            effective_on=effective_on,
            changed_by=by,
            changed_at=at,
        )
    )
    await session.flush()
    await add_event(
        session,
        AgencyStatusChanged(
            agency_id=agency.id,
            agency_code=agency.code,
            name=agency.name,
            licence_number=agency.licence_number,
            licence_expires_on=agency.licence_expires_on,
            destinations=list(agency.destinations),
            status=status,
            previous_status=previous,
            reason=reason,
            effective_on=effective_on,
            changed_by=by,
            changed_at=at,
        ),
    )


async def _refuse_taken(
    session: AsyncSession, field: str, value: str, exclude: uuid.UUID | None = None
) -> None:
    column = Agency.code if field == "code" else Agency.licence_number
    existing = await session.scalar(select(Agency.id).where(column == value))
    if existing is not None and existing != exclude:
        raise AlreadyRegistered(
            f"{field.replace('_', ' ')} {value} is registered",
            field=field,
            existing_id=str(existing),
        )


async def _flush_unique(session: AsyncSession) -> None:
    """Flush, turning a code or licence number taken meanwhile by another request into 409."""
    try:
        await session.flush()
    except IntegrityError as exc:
        field = "code" if "uq_agencies_code" in str(exc.orig) else "licence_number"
        raise AlreadyRegistered(
            f"this {field.replace('_', ' ')} is registered", field=field
        ) from exc


# -- the register of agencies ----------------------------------------------------------------


async def create_agency(
    session: AsyncSession, data: AgencyCreate, principal: Principal, *, today: date
) -> Agency:
    """Register a licensed agency (active) and announce it; 409 naming a taken code or number."""
    check_licence(data.licence_issued_on, data.licence_expires_on, today)
    await _refuse_taken(session, "code", data.code)
    await _refuse_taken(session, "licence_number", data.licence_number)
    at = await clock_now(session)
    agency = Agency(
        id=uuid.uuid4(),
        **data.model_dump(),
        status=AgencyStatus.ACTIVE,
        status_reason=None,
        status_changed_on=data.licence_issued_on,
        expiry_applied_on=None,
        created_by=principal.subject,
        created_at=at,
        updated_at=at,
        version=1,
    )
    session.add(agency)
    await _flush_unique(session)
    await _record(
        session,
        agency,
        status=AgencyStatus.ACTIVE,
        previous=None,
        reason=LICENSED,
        effective_on=data.licence_issued_on,
        by=principal.subject,
        at=at,
    )
    return agency


async def get_agency(
    session: AsyncSession, agency_id: uuid.UUID, actor: Actor | None = None, *, lock: bool = False
) -> Agency:
    """An agency; 404 when unknown, 403 when an agent asks about another agency."""
    agency = await session.get(Agency, agency_id, with_for_update=lock, populate_existing=lock)
    if agency is None:
        raise NotFound(f"no agency {agency_id}")
    if actor is not None:
        actor.require_agency(agency.id)
    return agency


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    destination: str | None = None
    q: str | None = None


def _status_is(status: str, today: date) -> ColumnElement[bool]:
    """SQL for "the effective status is `status` today" (expiry derived from the date)."""
    if status == EXPIRED:
        return and_(Agency.status == AgencyStatus.ACTIVE, Agency.licence_expires_on < today)
    if status == AgencyStatus.ACTIVE:
        return and_(Agency.status == AgencyStatus.ACTIVE, Agency.licence_expires_on >= today)
    return Agency.status == status


async def list_agencies(
    session: AsyncSession,
    filters: Filters,
    actor: Actor,
    *,
    today: date,
    cursor: str | None,
    limit: int,
) -> tuple[list[AgencyRead], str | None]:
    """A page of agencies newest first (an agent's list holds only its own agency)."""
    query = select(Agency).where(actor.agencies(Agency.id))
    if filters.status is not None:
        query = query.where(_status_is(filters.status, today))
    if filters.destination is not None:
        query = query.where(Agency.destinations.contains([filters.destination]))
    if filters.q is not None:
        query = query.where(Agency.name.ilike(name_pattern(filters.q), escape="\\"))
    query = newest_first(query, (Agency.created_at, Agency.id), after=cursor, limit=limit)
    rows = (await session.scalars(query)).all()
    page, following = page_of(rows, limit, lambda a: (a.created_at, a.id))
    counts = await _counts(session, [a.id for a in page])
    items = [AgencyRead.model_validate(_read(a, counts[a.id], today)) for a in page]
    return items, following


# -- supervision -----------------------------------------------------------------------------


async def change_status(
    session: AsyncSession,
    agency_id: uuid.UUID,
    data: AgencyStatusIn,
    principal: Principal,
    *,
    today: date,
) -> Agency:
    """Suspend, revoke or reinstate an agency. Suspending or revoking pauses its published
    vacancies; reinstating republishes those its suspension (or expiry) paused."""
    agency = await get_agency(session, agency_id, lock=True)
    requested = AgencyStatus(data.status)
    effective_on = data.effective_on or today
    check_status_change(
        AgencyStatus(agency.status),
        requested,
        reason=data.reason,
        licence_expires_on=agency.licence_expires_on,
        effective_on=effective_on,
        today=today,
    )
    previous = effective_status(agency.status, agency.licence_expires_on, today)
    at = await clock_now(session)
    agency.status = requested
    agency.status_reason = data.reason
    agency.status_changed_on = effective_on
    agency.updated_at = at
    agency.version += 1
    await _record(
        session,
        agency,
        status=requested,
        previous=previous,
        reason=data.reason,
        effective_on=effective_on,
        by=principal.subject,
        at=at,
    )
    if requested is AgencyStatus.ACTIVE:
        await vacancies.resume_for_agency(
            session, agency, reason=REINSTATED, by=principal.subject, today=today
        )
    else:
        await vacancies.pause_for_agency(
            session, agency, requested, data.reason, by=principal.subject
        )
    return agency


class RevokedLicence(Conflict):
    slug, title = "licence-revoked", "Licence revoked"


async def renew_licence(
    session: AsyncSession,
    agency_id: uuid.UUID,
    data: LicenceRenewal,
    principal: Principal,
    *,
    today: date,
) -> Agency:
    """Record a renewed licence; an agency whose expiry paused its vacancies resumes them."""
    agency = await get_agency(session, agency_id, lock=True)
    if agency.status == AgencyStatus.REVOKED:
        raise RevokedLicence(
            "a revoked licence cannot be renewed; the agency applies for a new one",
            current_status=agency.status,
        )
    issued_on = data.licence_issued_on or agency.licence_issued_on
    check_licence(issued_on, data.licence_expires_on, today)
    if data.licence_number is not None:
        await _refuse_taken(session, "licence_number", data.licence_number, exclude=agency.id)
        agency.licence_number = data.licence_number
    if data.destinations is not None:
        agency.destinations = data.destinations
    previous = effective_status(agency.status, agency.licence_expires_on, today)
    at = await clock_now(session)
    agency.licence_issued_on = issued_on
    agency.licence_expires_on = data.licence_expires_on
    # The next expiry is announced again when its day comes.
    agency.expiry_applied_on = None
    agency.updated_at = at
    agency.version += 1
    await _flush_unique(session)
    await _record(
        session,
        agency,
        status=effective_status(agency.status, agency.licence_expires_on, today),
        previous=previous,
        reason=RENEWED,
        effective_on=today,
        by=principal.subject,
        at=at,
    )
    if agency.status == AgencyStatus.ACTIVE:
        await vacancies.resume_for_agency(
            session, agency, reason=RENEWED, by=principal.subject, today=today
        )
    return agency


async def due_for_expiry(session: AsyncSession, today: date, *, limit: int) -> list[Agency]:
    """Active agencies whose licence ran out and whose expiry is not yet applied, claimed with
    SKIP LOCKED so that concurrent job passes share them."""
    rows = await session.scalars(
        select(Agency)
        .where(
            Agency.status == AgencyStatus.ACTIVE,
            Agency.licence_expires_on < today,
            # Cleared on renewal; an older date belongs to a licence since renewed.
            (Agency.expiry_applied_on.is_(None))
            | (Agency.expiry_applied_on <= Agency.licence_expires_on),
        )
        .order_by(Agency.licence_expires_on, Agency.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return list(rows.all())


async def apply_expiry(session: AsyncSession, agency: Agency, today: date) -> None:
    """Announce a (locked) agency's licence expiry and pause its published vacancies."""
    expired_on = agency.licence_expires_on + timedelta(days=1)
    agency.expiry_applied_on = today
    await _record(
        session,
        agency,
        status=EXPIRED,
        previous=AgencyStatus.ACTIVE,
        reason="licence expired",
        effective_on=expired_on,
        by=SYSTEM,
        at=await clock_now(session),
    )
    await vacancies.pause_for_agency(
        session, agency, EXPIRED, f"last valid day {agency.licence_expires_on}", by=SYSTEM
    )


# -- complaints ------------------------------------------------------------------------------


async def file_complaint(
    session: AsyncSession,
    agency_id: uuid.UUID,
    data: ComplaintCreate,
    actor: Actor,
    *,
    today: date,
) -> Complaint:
    """Record a complaint against an agency (office staff take them from workers and families)."""
    actor.require_staff()
    agency = await get_agency(session, agency_id)
    if data.received_on > today:
        raise InvalidField("received_on", "cannot be in the future")
    at = await clock_now(session)
    complaint = Complaint(
        id=uuid.uuid4(),
        agency_id=agency.id,
        category=data.category,
        received_on=data.received_on,
        person_id=data.person_id,
        description=data.description,
        status=ComplaintStatus.OPEN,
        outcome=None,
        recorded_by=actor.subject,
        office_code=actor.principal.office,
        created_at=at,
        updated_at=at,
    )
    session.add(complaint)
    await session.flush()
    return complaint


async def list_complaints(
    session: AsyncSession, agency_id: uuid.UUID, actor: Actor
) -> list[Complaint]:
    """An agency's complaints, newest first: all of them for supervisors (admins), those an
    office took for its staff. Complaints name complainants and what happened to them, so they
    are not part of the national register (which counts them, `open_complaints`)."""
    actor.require_complaints()  # before the agency is looked up
    agency = await get_agency(session, agency_id)
    query = select(Complaint).where(
        Complaint.agency_id == agency.id, actor.complaints(Complaint.office_code)
    )
    rows = await session.scalars(
        query.order_by(Complaint.received_on.desc(), Complaint.created_at.desc())
    )
    return list(rows.all())


async def change_complaint_status(
    session: AsyncSession,
    agency_id: uuid.UUID,
    complaint_id: uuid.UUID,
    data: ComplaintStatusIn,
) -> Complaint:
    """Investigate, uphold or dismiss a complaint; the last two need the outcome."""
    complaint = await session.get(
        Complaint, complaint_id, with_for_update=True, populate_existing=True
    )
    if complaint is None or complaint.agency_id != agency_id:
        raise NotFound(f"no complaint {complaint_id} against agency {agency_id}")
    requested = ComplaintStatus(data.status)
    check_complaint_change(ComplaintStatus(complaint.status), requested, data.outcome)
    complaint.status = requested
    if data.outcome is not None:
        complaint.outcome = data.outcome
    complaint.updated_at = await clock_now(session)
    await session.flush()
    return complaint
