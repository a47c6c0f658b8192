"""The counts behind reports, read in one grouped query each; suppression happens after, in
`domain.protect`, on the exact counts."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, case, func, literal, or_, select
from sqlalchemy.orm import InstrumentedAttribute

from services.predeparture.completions.models import Completion
from services.predeparture.learners.models import Learner
from services.predeparture.outreach.models import OutreachCount, OutreachSession
from services.predeparture.reports.domain import UNKNOWN, Key
from shared.reference.offices import SEED_MRCS

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date

    from sqlalchemy.ext.asyncio import AsyncSession

Column = ColumnElement[Any] | InstrumentedAttribute[Any]

VALID = "valid"
ERASED = "erased"


@dataclass(frozen=True)
class Scope:
    """What a report counts: a period (both days included), and maybe one province."""

    start: date
    end: date
    province_code: str | None = None


def _completion_columns() -> dict[str, Column]:
    # A completion whose learner was erased (the row is gone, or kept as an erased tombstone)
    # still counts: the person did complete. What it says of the person is no longer known, so
    # sex is "unknown" and the province is that of the office that certified them.
    erased = or_(Learner.person_id.is_(None), Learner.record_status == ERASED)
    office_province = case(
        {code: office.province_code for code, office in SEED_MRCS.items()},
        value=Completion.office_code,
        else_=literal(UNKNOWN),
    )
    return {
        "office": func.coalesce(Completion.office_code, UNKNOWN),
        "province": case((erased, office_province), else_=Learner.province_code),
        "sex": case((erased, literal(UNKNOWN)), else_=Learner.sex),
        "destination": Completion.destination_country,
    }


async def completion_counts(
    session: AsyncSession, scope: Scope, dimensions: Sequence[str]
) -> dict[Key, int]:
    """Valid completions dated within the period, counted per combination of `dimensions`."""
    columns = _completion_columns()
    rows = (
        select(Completion.id, *(columns[d].label(d) for d in columns))
        .select_from(Completion)
        .outerjoin(Learner, Learner.person_id == Completion.person_id)
        .where(
            Completion.status == VALID,
            Completion.completed_on >= scope.start,
            Completion.completed_on <= scope.end,
        )
    )
    if scope.province_code is not None:
        rows = rows.where(columns["province"] == scope.province_code)
    # Grouped outside: grouping by the CASE expressions themselves would compare their bound
    # parameters, which PostgreSQL does not take for the same expression.
    derived = rows.subquery()
    keys = [derived.c[d] for d in dimensions]
    query = select(*keys, func.count()).select_from(derived).group_by(*keys)
    return {tuple(row[:-1]): int(row[-1]) for row in await session.execute(query)}


async def outreach_counts(
    session: AsyncSession, scope: Scope, dimensions: Sequence[str]
) -> dict[Key, int]:
    """People reached by outreach held within the period, summed per combination."""
    columns: dict[str, Column] = {
        "office": OutreachSession.office_code,
        "province": OutreachSession.province_code,
        "sex": OutreachCount.sex,
        "age_band": OutreachCount.age_band,
    }
    keys = [columns[d] for d in dimensions]
    query = (
        select(*keys, func.coalesce(func.sum(OutreachCount.people), 0))
        .select_from(OutreachCount)
        .join(OutreachSession, OutreachSession.id == OutreachCount.outreach_id)
        .where(OutreachSession.held_on >= scope.start, OutreachSession.held_on <= scope.end)
        .group_by(*keys)
    )
    if scope.province_code is not None:
        query = query.where(OutreachSession.province_code == scope.province_code)
    return {tuple(row[:-1]): int(row[-1]) for row in await session.execute(query)}
