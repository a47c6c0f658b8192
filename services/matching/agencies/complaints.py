"""Complaints against an agency: filing one, reading an agency's, deciding them."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select

from services.matching.agencies.domain import ComplaintStatus, check_complaint_change
from services.matching.agencies.models import Complaint
from services.matching.agencies.service import get_agency
from shared.db import clock_now
from shared.problems import InvalidField, NotFound

if TYPE_CHECKING:
    from datetime import date

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.matching.agencies.schemas import ComplaintCreate, ComplaintStatusIn
    from services.matching.scope import Actor


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
