"""Referral operations: reading them, and each change of status a row of history and an event,
in one transaction with the state it describes."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, select

from services.matching.referrals.domain import (
    AGENCY_MAY_SET,
    NEEDS_REASON,
    OPEN,
    ReferralStatus,
    check_transition,
)
from services.matching.referrals.models import Referral, ReferralStatusChange
from services.matching.referrals.schemas import ReferralRead, StatusChangeRead
from services.matching.scope import Actor, require_referral
from services.matching.vacancies.models import Vacancy
from shared.db import clock_now
from shared.events.matching import ReferralStatusChanged
from shared.outbox import add_event
from shared.pagination import newest_first, page_of
from shared.problems import Forbidden, InvalidField, NotFound

if TYPE_CHECKING:
    import uuid
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession


def _visible(actor: Actor) -> ColumnElement[bool]:
    return actor.referrals(
        Referral.province_code,
        Referral.agency_id,
        Referral.person_province_code,
        Referral.person_id,
    )


async def record(
    session: AsyncSession,
    referral: Referral,
    new: ReferralStatus,
    previous: ReferralStatus | None,
    *,
    reason: str | None,
    by: str,
    at: datetime,
) -> None:
    """Keep the change in the referral's history and announce it (registry follows)."""
    session.add(
        ReferralStatusChange(
            referral_id=referral.id,
            status=new,
            previous_status=previous,
            reason=reason,
            changed_by=by,
            changed_at=at,
        )
    )
    vacancy = await session.get(Vacancy, referral.vacancy_id)
    await add_event(
        session,
        ReferralStatusChanged(
            referral_id=referral.id,
            person_id=referral.person_id,
            vacancy_id=referral.vacancy_id,
            status=new.value,
            previous_status=previous.value if previous else None,
            overseas=referral.overseas,
            # Predeparture invites a person offered work abroad to orientation for it.
            destination_country=vacancy.destination_country if vacancy else None,
            changed_by=by,
            changed_at=at,
        ),
    )


async def move(
    session: AsyncSession,
    referral: Referral,
    new: ReferralStatus,
    *,
    reason: str | None,
    by: str,
    at: datetime,
) -> None:
    """Move the (locked) referral to `new`: kept in its history and announced."""
    previous = ReferralStatus(referral.status)
    referral.status = new
    referral.updated_at = at
    referral.version += 1
    await record(session, referral, new, previous, reason=reason, by=by, at=at)


async def get_referral(
    session: AsyncSession, referral_id: uuid.UUID, actor: Actor, *, lock: bool = False
) -> Referral:
    referral = await session.get(Referral, referral_id, with_for_update=lock or None)
    if referral is None:
        raise NotFound(f"no referral {referral_id}")
    await require_referral(session, actor, referral)
    return referral


async def change_status(
    session: AsyncSession,
    referral_id: uuid.UUID,
    new: ReferralStatus,
    *,
    reason: str | None,
    actor: Actor,
) -> Referral:
    """Move a referral along its lifecycle (placement has its own operation)."""
    if new is ReferralStatus.PLACED:
        raise InvalidField("status", "record a placement with POST /v1/referrals/{id}/placement")
    if new in NEEDS_REASON and not reason:
        raise InvalidField("reason", f"is required when a referral becomes {new}")
    referral = await get_referral(session, referral_id, actor, lock=True)
    if actor.is_agency and new not in AGENCY_MAY_SET:
        raise Forbidden(f"an agency records {', '.join(sorted(AGENCY_MAY_SET))}, not {new}")
    actor.require_editor()
    check_transition(ReferralStatus(referral.status), new)
    now = await clock_now(session)
    await move(session, referral, new, reason=reason, by=actor.subject, at=now)
    await session.flush()
    return referral


async def read(session: AsyncSession, referral: Referral) -> ReferralRead:
    history = await session.scalars(
        select(ReferralStatusChange)
        .where(ReferralStatusChange.referral_id == referral.id)
        .order_by(ReferralStatusChange.changed_at, ReferralStatusChange.id)
    )
    return ReferralRead.model_validate(
        {
            **{f: getattr(referral, f) for f in ReferralRead.model_fields if f != "history"},
            "history": [StatusChangeRead.model_validate(h) for h in history],
        }
    )


async def list_referrals(
    session: AsyncSession,
    actor: Actor,
    *,
    vacancy_id: uuid.UUID | None,
    person_id: uuid.UUID | None,
    status: ReferralStatus | None,
    open_only: bool,
    cursor: str | None,
    limit: int,
) -> tuple[list[Referral], str | None]:
    """Newest first, only what the actor may see, with the cursor of the next page."""
    query = select(Referral).where(_visible(actor))
    if vacancy_id:
        query = query.where(Referral.vacancy_id == vacancy_id)
    if person_id:
        query = query.where(Referral.person_id == person_id)
    if status:
        query = query.where(Referral.status == status)
    if open_only:
        query = query.where(Referral.status.in_([s.value for s in OPEN]))
    # An empty cursor reads as none, as it always has here.
    query = newest_first(
        query, (Referral.created_at, Referral.id), after=cursor or None, limit=limit
    )
    rows = (await session.scalars(query)).all()
    return page_of(rows, limit, lambda r: (r.created_at, r.id))
