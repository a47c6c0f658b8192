"""The register of agencies: registering one, reading it with its counts and history, and
recording each status decision (a history row and an AgencyStatusChanged event)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.exc import IntegrityError

from services.matching.agencies.domain import (
    EXPIRED,
    OPEN_COMPLAINTS,
    AgencyStatus,
    check_licence,
    effective_status,
)
from services.matching.agencies.models import Agency, AgencyStatusChange, Complaint
from services.matching.agencies.schemas import (
    AgencyCreate,
    AgencyDetail,
    AgencyRead,
    StatusChangeRead,
)
from services.matching.employers.domain import name_pattern
from services.matching.recruitment.models import RecruitmentCost
from shared.db import clock_now
from shared.events.matching import AgencyStatusChanged
from shared.outbox import add_event
from shared.pagination import newest_first, page_of
from shared.problems import Conflict, NotFound

if TYPE_CHECKING:
    from datetime import date, datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.matching.scope import Actor
    from shared.auth import Principal


LICENSED = "licensed"


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


async def record(
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


async def refuse_taken(
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


async def flush_unique(session: AsyncSession) -> None:
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
    await refuse_taken(session, "code", data.code)
    await refuse_taken(session, "licence_number", data.licence_number)
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
    await flush_unique(session)
    await record(
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
