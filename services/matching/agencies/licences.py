"""Licence decisions: suspension, revocation, reinstatement, renewal and expiry.

Every status change writes an AgencyStatusChange row and an AgencyStatusChanged event in the
request's transaction, and pauses or resumes the agency's vacancies in the same one.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import select

from services.matching.agencies.domain import (
    EXPIRED,
    AgencyStatus,
    check_licence,
    check_status_change,
    effective_status,
)
from services.matching.agencies.models import Agency
from services.matching.agencies.service import flush_unique, get_agency, record, refuse_taken
from services.matching.vacancies import lifecycle as vacancies
from shared.db import clock_now
from shared.problems import Conflict

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.matching.agencies.schemas import AgencyStatusIn, LicenceRenewal
    from shared.auth import Principal


SYSTEM = "system"
RENEWED = "licence renewed"
REINSTATED = "agency reinstated"


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
    await record(
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
        await refuse_taken(session, "licence_number", data.licence_number, exclude=agency.id)
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
    await flush_unique(session)
    await record(
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
    await record(
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
