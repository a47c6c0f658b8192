"""Outreach operations: record a village session's anonymous counts, read them back."""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select

from services.predeparture.audit import service as audit
from services.predeparture.audit.domain import Action
from services.predeparture.outreach.domain import (
    Count,
    count_errors,
    entered_late,
    held_on_errors,
    office_errors,
    office_province,
    ordered,
    totals,
)
from services.predeparture.outreach.models import OutreachCount, OutreachSession
from services.predeparture.outreach.schemas import (
    OutreachCountRead,
    OutreachCreate,
    OutreachRead,
    OutreachTotals,
)
from services.predeparture.scope import require_manager
from shared.clock import LAO_TIME
from shared.db import clock_now
from shared.pagination import equal_if_given, newest_first, page_of
from shared.problems import InvalidFields, NotFound

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.auth import Principal


def _read(outreach: OutreachSession, counts: Sequence[Count]) -> OutreachRead:
    rows = ordered(counts)
    summed = totals(rows)
    return OutreachRead(
        id=outreach.id,
        office_code=outreach.office_code,
        province_code=outreach.province_code,
        district=outreach.district,
        village=outreach.village,
        held_on=outreach.held_on,
        facilitator=outreach.facilitator,
        language=outreach.language,
        topics=list(outreach.topics),
        note=outreach.note,
        entered_late=outreach.entered_late,
        counts=[OutreachCountRead(sex=c.sex, age_band=c.age_band, people=c.people) for c in rows],
        totals=OutreachTotals(
            people=summed.people, by_sex=summed.by_sex, by_age_band=summed.by_age_band
        ),
        recorded_by=outreach.recorded_by,
        recorded_at=outreach.recorded_at,
    )


async def record_outreach(
    session: AsyncSession, data: OutreachCreate, principal: Principal, *, late_entry_days: int
) -> OutreachRead:
    """Record an outreach session of the caller's Migrant Resource Centre (admins: any). One
    held on an earlier day is entered late from paper (at most `late_entry_days` ago): marked,
    and audited. Every bad field is named in one 422."""
    office_code = data.office_code or principal.office
    errors = office_errors(office_code)
    if not errors and office_code is not None:
        require_manager(principal, office_code)
    now = await clock_now(session)
    today = now.astimezone(LAO_TIME).date()
    errors += held_on_errors(data.held_on, today, late_entry_days=late_entry_days)
    counts = [Count(c.sex, c.age_band, c.people) for c in data.counts]
    errors += count_errors(counts)
    if errors:
        raise InvalidFields(errors)
    assert office_code is not None
    outreach = OutreachSession(
        id=uuid.uuid4(),
        office_code=office_code,
        province_code=office_province(office_code),
        district=data.district,
        village=data.village,
        held_on=data.held_on,
        facilitator=data.facilitator,
        language=data.language,
        topics=list(dict.fromkeys(data.topics)),  # a topic ticked twice is the same topic
        note=data.note,
        entered_late=entered_late(data.held_on, today),
        recorded_by=principal.subject,
        recorded_at=now,
    )
    session.add(outreach)
    await session.flush()  # no ORM relationship orders the two inserts: the session goes first
    session.add_all(
        OutreachCount(outreach_id=outreach.id, sex=c.sex, age_band=c.age_band, people=c.people)
        for c in counts
    )
    await session.flush()
    if outreach.entered_late:
        await audit.record(
            session,
            principal,
            Action.OUTREACH_ENTERED_LATE,
            subject_id=outreach.id,
            reason=f"held on {data.held_on.isoformat()}, entered from paper",
        )
    return _read(outreach, counts)


async def _counts_of(
    session: AsyncSession, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[Count]]:
    found: dict[uuid.UUID, list[Count]] = defaultdict(list)
    if ids:
        rows = await session.execute(
            select(OutreachCount).where(OutreachCount.outreach_id.in_(ids))
        )
        for (row,) in rows:
            found[row.outreach_id].append(Count(row.sex, row.age_band, row.people))
    return found


async def get_outreach(session: AsyncSession, outreach_id: uuid.UUID) -> OutreachRead:
    """One outreach session with its counts and totals; 404 when unknown."""
    outreach = await session.get(OutreachSession, outreach_id)
    if outreach is None:
        raise NotFound(f"no outreach session {outreach_id}")
    counts = await _counts_of(session, [outreach.id])
    return _read(outreach, counts[outreach.id])


@dataclass(frozen=True)
class Filters:
    office_code: str | None = None
    province_code: str | None = None
    held_from: date | None = None
    held_to: date | None = None


async def list_outreach(
    session: AsyncSession, filters: Filters, *, cursor: str | None, limit: int
) -> tuple[list[OutreachRead], str | None]:
    """A page of outreach sessions, latest recorded first, and the next page's cursor."""
    query = select(OutreachSession).where(
        *equal_if_given(
            OutreachSession, office_code=filters.office_code, province_code=filters.province_code
        )
    )
    if filters.held_from is not None:
        query = query.where(OutreachSession.held_on >= filters.held_from)
    if filters.held_to is not None:
        query = query.where(OutreachSession.held_on <= filters.held_to)
    query = newest_first(
        query, (OutreachSession.recorded_at, OutreachSession.id), after=cursor, limit=limit
    )
    rows = (await session.scalars(query)).all()
    page, following = page_of(rows, limit, lambda o: (o.recorded_at, o.id))
    counts = await _counts_of(session, [o.id for o in page])
    return [_read(o, counts[o.id]) for o in page], following
