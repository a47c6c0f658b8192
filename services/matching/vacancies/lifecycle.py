"""A vacancy's status: each move and its VacancyStatusChanged event in one transaction, by
request, as positions are placed, with the agency's licence, and by the calendar."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from services.matching.agencies.domain import check_may_recruit
from services.matching.agencies.models import Agency
from services.matching.vacancies.domain import (
    OPEN,
    Kind,
    VacancyStatus,
    check_closing,
    check_transition,
    pause_reason,
    resumable,
)
from services.matching.vacancies.models import Vacancy
from services.matching.vacancies.reading import get_own_vacancy
from services.matching.wording import count
from shared.db import clock_now
from shared.events.matching import VacancyStatusChanged
from shared.outbox import add_event
from shared.problems import Conflict, InvalidField

if TYPE_CHECKING:
    import uuid
    from collections.abc import Sequence
    from datetime import date, datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.matching.scope import Actor
    from services.matching.vacancies.schemas import VacancyStatusIn


SYSTEM = "system"


class NoOpenPosition(Conflict):
    slug, title = "no-open-position", "No open position"


async def _agency_code(session: AsyncSession, vacancy: Vacancy) -> str | None:
    if vacancy.agency_id is None:
        return None
    agency = await session.get(Agency, vacancy.agency_id)
    return agency.code if agency else None


async def announce(
    session: AsyncSession,
    vacancy: Vacancy,
    previous: str | None,
    *,
    reason: str | None,
    changed_by: str,
) -> None:
    """Stage the vacancy's VacancyStatusChanged: its status now, and what it was before."""
    await add_event(
        session,
        VacancyStatusChanged(
            vacancy_id=vacancy.id,
            reference=vacancy.reference,
            status=vacancy.status,
            previous_status=previous,
            reason=reason,
            title=vacancy.title,
            isco08=vacancy.isco08,
            overseas=vacancy.kind == Kind.OVERSEAS,
            province_code=vacancy.province_code,
            destination_country=vacancy.destination_country,
            employer_id=vacancy.employer_id,
            agency_code=await _agency_code(session, vacancy),
            positions=vacancy.positions,
            open_positions=vacancy.open_positions,
            changed_by=changed_by,
            changed_at=vacancy.updated_at,
        ),
    )


async def _move(
    session: AsyncSession,
    vacancy: Vacancy,
    status: VacancyStatus,
    *,
    reason: str | None,
    changed_by: str,
    at: datetime,
    by_request: bool = False,
) -> None:
    """Move a (locked) vacancy to `status` and announce it."""
    current = VacancyStatus(vacancy.status)
    check_transition(current, status, by_request=by_request)
    vacancy.status = status
    vacancy.status_reason = reason
    if status is VacancyStatus.PUBLISHED and vacancy.published_at is None:
        vacancy.published_at = at
    vacancy.updated_at = at
    vacancy.version += 1
    await session.flush()
    await announce(session, vacancy, current, reason=reason, changed_by=changed_by)


async def check_agency(
    session: AsyncSession,
    agency_id: uuid.UUID,
    destination_country: str,
    today: date,
    *,
    lock: bool = False,
) -> Agency:
    """The agency, if it may recruit for `destination_country` today; 409 naming the rule."""
    # A shared lock: a suspension committing meanwhile would miss a vacancy published now.
    agency = await session.get(
        Agency, agency_id, with_for_update={"read": True} if lock else None, populate_existing=lock
    )
    if agency is None:
        raise InvalidField("agency_id", f"no agency {agency_id}")
    check_may_recruit(
        code=agency.code,
        status=agency.status,
        licence_expires_on=agency.licence_expires_on,
        destinations=list(agency.destinations),
        destination_country=destination_country,
        today=today,
    )
    return agency


async def change_status(
    session: AsyncSession,
    vacancy_id: uuid.UUID,
    data: VacancyStatusIn,
    actor: Actor,
    *,
    today: date,
) -> Vacancy:
    """Publish (officers approve, re-checking an overseas agency's licence), fill or close.

    An invalid change answers 409 with `current_status` and the `allowed` next states.
    """
    vacancy = await get_own_vacancy(session, vacancy_id, actor, lock=True)
    requested = VacancyStatus(data.status)
    if requested in (VacancyStatus.PUBLISHED, VacancyStatus.FILLED):
        actor.require_staff()
    else:
        actor.require_editor()
    check_transition(VacancyStatus(vacancy.status), requested)
    if requested is VacancyStatus.PUBLISHED:
        check_closing(vacancy.closes_on, today)
        if vacancy.kind == Kind.OVERSEAS:
            # Both held by ck_vacancies_kind_fields.
            assert vacancy.agency_id is not None
            assert vacancy.destination_country is not None
            await check_agency(
                session, vacancy.agency_id, vacancy.destination_country, today, lock=True
            )
    if requested is VacancyStatus.FILLED:
        vacancy.open_positions = 0
    await _move(
        session,
        vacancy,
        requested,
        reason=data.reason,
        changed_by=actor.subject,
        at=await clock_now(session),
        by_request=True,
    )
    return vacancy


async def take_position(session: AsyncSession, vacancy: Vacancy, *, changed_by: str) -> Vacancy:
    """Take one open position of an open vacancy under its row lock (a placement was made);
    the last one moves the vacancy to `filled`, announced. 409 when none is open."""
    await session.flush()
    await session.refresh(vacancy, with_for_update=True)
    if vacancy.status not in OPEN or vacancy.open_positions < 1:
        left = count(vacancy.open_positions, "open position")
        raise NoOpenPosition(
            f"the vacancy is {vacancy.status} with {left}",
            field="vacancy_id",
            current_status=vacancy.status,
        )
    vacancy.open_positions -= 1
    at = await clock_now(session)
    if vacancy.open_positions == 0:
        await _move(
            session,
            vacancy,
            VacancyStatus.FILLED,
            reason="every position placed",
            changed_by=changed_by,
            at=at,
        )
    else:
        vacancy.updated_at = at
        vacancy.version += 1
        await session.flush()
    return vacancy


# -- pauses that follow the agency's licence, and the calendar --------------------------------


async def _agency_vacancies(
    session: AsyncSession, agency: Agency, status: VacancyStatus
) -> Sequence[Vacancy]:
    """The agency's vacancies in `status`, oldest first, locked to be moved."""
    return (
        await session.scalars(
            select(Vacancy)
            .where(Vacancy.agency_id == agency.id, Vacancy.status == status)
            .order_by(Vacancy.created_at)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    ).all()


async def pause_for_agency(
    session: AsyncSession, agency: Agency, agency_status: str, detail: str | None, *, by: str
) -> int:
    """Pause the agency's published vacancies because it became `agency_status`."""
    vacancies = await _agency_vacancies(session, agency, VacancyStatus.PUBLISHED)
    at = await clock_now(session)
    reason = pause_reason(agency_status, detail)
    for vacancy in vacancies:
        await _move(session, vacancy, VacancyStatus.PAUSED, reason=reason, changed_by=by, at=at)
    return len(vacancies)


async def resume_for_agency(
    session: AsyncSession, agency: Agency, *, reason: str, by: str, today: date
) -> int:
    """Republish the vacancies the agency's suspension or expiry paused, once it may recruit
    again: those still before their closing date and for a destination still licensed."""
    vacancies = await _agency_vacancies(session, agency, VacancyStatus.PAUSED)
    at = await clock_now(session)
    resumed = 0
    for vacancy in vacancies:
        if not resumable(vacancy.status_reason, vacancy.closes_on, today):
            continue
        if vacancy.destination_country not in agency.destinations:
            continue
        await _move(session, vacancy, VacancyStatus.PUBLISHED, reason=reason, changed_by=by, at=at)
        resumed += 1
    return resumed


async def expire_due(session: AsyncSession, today: date, *, limit: int) -> int:
    """Expire open vacancies whose closing date has passed, claimed with SKIP LOCKED so that
    several job processes share the work and none expires a vacancy twice."""
    vacancies = (
        await session.scalars(
            select(Vacancy)
            .where(Vacancy.status.in_(sorted(OPEN)), Vacancy.closes_on < today)
            .order_by(Vacancy.closes_on, Vacancy.id)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .execution_options(populate_existing=True)
        )
    ).all()
    at = await clock_now(session)
    for vacancy in vacancies:
        await _move(
            session,
            vacancy,
            VacancyStatus.EXPIRED,
            reason=f"closing date {vacancy.closes_on} passed",
            changed_by=SYSTEM,
            at=at,
        )
    return len(vacancies)
