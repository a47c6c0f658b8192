"""Placing a referred person in the job, and recording that the job ended; each announced in
the same transaction."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select

from services.matching.agencies.models import Agency
from services.matching.candidates.models import Candidate, CandidateOrientation
from services.matching.ranking import domain as ranking
from services.matching.referrals.domain import (
    AlreadyPlaced,
    MissingPrerequisite,
    NotReferable,
    OverseasPlacement,
    PlacementEnded,
    ReferralStatus,
    check_transition,
    overseas_prerequisites,
)
from services.matching.referrals.models import Placement, Referral
from services.matching.referrals.referring import agency_status
from services.matching.referrals.service import get_referral, move
from services.matching.scope import Actor, require_referral, require_serves_referred
from services.matching.vacancies.lifecycle import take_position
from services.matching.vacancies.models import Vacancy
from services.matching.wording import count
from shared.clock import LAO_TIME
from shared.db import clock_now
from shared.events.matching import PlacementEnded as PlacementEndedEvent
from shared.events.matching import PlacementMade
from shared.outbox import add_event
from shared.problems import InvalidField, NotFound
from shared.unique import add_unique

if TYPE_CHECKING:
    from datetime import date, datetime

    from sqlalchemy.ext.asyncio import AsyncSession


async def _orientation_until(
    session: AsyncSession, person_id: uuid.UUID, country: str
) -> date | None:
    return await session.scalar(
        select(CandidateOrientation.valid_until).where(
            CandidateOrientation.person_id == person_id,
            CandidateOrientation.destination_country == country,
        )
    )


async def _check_overseas_prerequisites(
    session: AsyncSession,
    referral: Referral,
    vacancy: Vacancy,
    agency: Agency | None,
    *,
    starts_on: date | None,
    today: date,
) -> None:
    """Refuse an overseas placement the agency, orientation, passport or migration record do
    not allow, naming everything missing."""
    # Both held by ck_vacancies_kind_fields and the agency foreign key.
    assert agency is not None
    assert vacancy.destination_country is not None
    person = await session.get(Candidate, referral.person_id)
    missing = overseas_prerequisites(
        OverseasPlacement(
            agency_code=agency.code,
            agency_status=agency_status(agency, today),
            agency_destinations=frozenset(agency.destinations),
            destination_country=vacancy.destination_country,
            orientation_valid_until=await _orientation_until(
                session, referral.person_id, vacancy.destination_country
            ),
            passport_expires_on=person.passport_expires_on if person else None,
            passport_needed_until=ranking.passport_needed_until(starts_on, today),
            migration_status=person.migration_status if person else None,
            migration_destination=person.migration_destination if person else None,
        ),
        today,
    )
    if missing:
        raise MissingPrerequisite(missing)


def _placement_made(
    placement: Placement,
    referral: Referral,
    vacancy: Vacancy,
    agency: Agency | None,
    *,
    placed_by: str,
    placed_at: datetime,
) -> PlacementMade:
    """The event announcing a new placement."""
    return PlacementMade(
        placement_id=placement.id,
        referral_id=referral.id,
        person_id=referral.person_id,
        vacancy_id=vacancy.id,
        isco08=vacancy.isco08,
        overseas=placement.overseas,
        destination_country=vacancy.destination_country,
        channel=vacancy.channel if placement.overseas else None,
        agency_code=agency.code if agency else None,
        province_code=vacancy.province_code,
        starts_on=placement.starts_on,
        contract_months=vacancy.contract_months,
        placed_by=placed_by,
        placed_at=placed_at,
    )


async def place(
    session: AsyncSession,
    referral_id: uuid.UUID,
    *,
    starts_on: date | None,
    actor: Actor,
    today: date,
) -> Placement:
    """Record that the referred person got the job (staff serving the person).

    The referral row lock orders placements of one referral; the unique index on a person's
    active placement decides between two officers placing one person in two jobs at once.
    """
    actor.require_staff()
    referral = await get_referral(session, referral_id, actor, lock=True)
    await require_serves_referred(session, actor, referral)
    current = ReferralStatus(referral.status)
    check_transition(current, ReferralStatus.PLACED)
    vacancy = await session.get(Vacancy, referral.vacancy_id, with_for_update=True)
    assert vacancy is not None
    agency = await session.get(Agency, vacancy.agency_id) if vacancy.agency_id else None
    starts_on = starts_on or vacancy.starts_on
    if vacancy.kind == "overseas":
        await _check_overseas_prerequisites(
            session, referral, vacancy, agency, starts_on=starts_on, today=today
        )
    if vacancy.status != "published" or vacancy.open_positions < 1:
        left = count(vacancy.open_positions, "open position")
        raise NotReferable(
            f"the vacancy is {vacancy.status} with {left}",
            [{"code": "vacancy_status", "detail": f"the vacancy is {vacancy.status}"}],
        )
    now = await clock_now(session)
    placement = Placement(
        id=uuid.uuid4(),
        referral_id=referral.id,
        vacancy_id=vacancy.id,
        person_id=referral.person_id,
        status="active",
        overseas=vacancy.kind == "overseas",
        starts_on=starts_on,
        placed_by=actor.subject,
        placed_at=now,
    )
    already = AlreadyPlaced(
        "the person already holds an active placement; end it first", field="person_id"
    )
    await add_unique(session, placement, conflict=already)
    await take_position(session, vacancy, changed_by=actor.subject)
    await move(session, referral, ReferralStatus.PLACED, reason=None, by=actor.subject, at=now)
    made = _placement_made(
        placement, referral, vacancy, agency, placed_by=actor.subject, placed_at=now
    )
    await add_event(session, made)
    await session.flush()
    return placement


async def get_placement(
    session: AsyncSession, placement_id: uuid.UUID, actor: Actor, *, lock: bool = False
) -> Placement:
    """A placement the actor may see (as they may see its referral); 404 when unknown."""
    placement = await session.get(
        Placement, placement_id, with_for_update=lock or None, populate_existing=lock
    )
    if placement is None:
        raise NotFound(f"no placement {placement_id}")
    referral = await session.get(Referral, placement.referral_id)
    assert referral is not None
    await require_referral(session, actor, referral)
    return placement


async def end_placement(
    session: AsyncSession,
    placement_id: uuid.UUID,
    *,
    ended_on: date,
    reason: str,
    actor: Actor,
    today: date,
) -> Placement:
    """Record that a placement ended, so that the person may be placed again; announced."""
    actor.require_staff()
    placement = await get_placement(session, placement_id, actor, lock=True)
    if placement.status != "active":
        raise PlacementEnded(
            f"the placement ended on {placement.ended_on}", current_status=placement.status
        )
    if ended_on > today:
        raise InvalidField("ended_on", "cannot be in the future")
    if ended_on < placement.placed_at.astimezone(LAO_TIME).date():
        raise InvalidField("ended_on", "is before the placement was recorded")
    now = await clock_now(session)
    placement.status = "ended"
    placement.ended_on = ended_on
    placement.end_reason = reason
    await session.flush()
    await add_event(
        session,
        PlacementEndedEvent(
            placement_id=placement.id,
            referral_id=placement.referral_id,
            person_id=placement.person_id,
            vacancy_id=placement.vacancy_id,
            overseas=placement.overseas,
            ended_on=ended_on,
            reason=reason,
            ended_by=actor.subject,
            ended_at=now,
        ),
    )
    return placement
