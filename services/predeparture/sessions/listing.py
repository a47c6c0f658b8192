"""Listing sessions: a page of those the principal may read, filtered, in the order they start."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, case, func, select

from services.predeparture.scope import readable_sessions
from services.predeparture.sessions.domain import LIVE, EnrolmentStatus
from services.predeparture.sessions.models import Enrolment, OrientationSession
from services.predeparture.sessions.service import to_read
from shared.clock import LAO_TIME
from shared.pagination import equal_if_given, oldest_first, page_of
from shared.problems import InvalidField

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from services.predeparture.sessions.schemas import SessionRead
    from shared.auth import Principal


@dataclass(frozen=True)
class Filters:
    office_code: str | None = None
    status: str | None = None
    starts_from: date | None = None
    starts_to: date | None = None


def _lao_midnight(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=LAO_TIME)


def _conditions(filters: Filters) -> list[ColumnElement[bool]]:
    conditions = equal_if_given(
        OrientationSession, office_code=filters.office_code, status=filters.status
    )
    # Dates as the offices read them: a day runs midnight to midnight in Lao time.
    if filters.starts_from is not None:
        conditions.append(OrientationSession.starts_at >= _lao_midnight(filters.starts_from))
    if filters.starts_to is not None:
        end = _lao_midnight(filters.starts_to + timedelta(days=1))
        conditions.append(OrientationSession.starts_at < end)
    return conditions


async def list_sessions(
    session: AsyncSession,
    filters: Filters,
    principal: Principal,
    *,
    cursor: str | None,
    limit: int,
) -> tuple[list[SessionRead], str | None]:
    """A page of the sessions the principal may read, in the order they start, and the next
    page's cursor."""
    if filters.starts_from and filters.starts_to and filters.starts_to < filters.starts_from:
        raise InvalidField("to", "is before from")
    taken = (
        select(
            Enrolment.session_id,
            func.count().filter(Enrolment.status == EnrolmentStatus.ENROLLED).label("enrolled"),
            func.count().filter(Enrolment.status == EnrolmentStatus.WAITLISTED).label("waitlisted"),
        )
        .where(Enrolment.status.in_(sorted(LIVE)))
        .group_by(Enrolment.session_id)
        .subquery()
    )
    query = (
        select(
            OrientationSession,
            case((taken.c.enrolled.is_(None), 0), else_=taken.c.enrolled),
            case((taken.c.waitlisted.is_(None), 0), else_=taken.c.waitlisted),
        )
        .outerjoin(taken, taken.c.session_id == OrientationSession.id)
        .where(*_conditions(filters))
    )
    if (readable := readable_sessions(principal)) is not None:
        query = query.where(readable)
    query = oldest_first(
        query, (OrientationSession.starts_at, OrientationSession.id), after=cursor, limit=limit
    )
    rows = (await session.execute(query)).all()
    page, following = page_of(rows, limit, lambda row: (row[0].starts_at, row[0].id))
    items = [
        to_read(o, {EnrolmentStatus.ENROLLED: int(e), EnrolmentStatus.WAITLISTED: int(w)})
        for o, e, w in page
    ]
    return items, following
