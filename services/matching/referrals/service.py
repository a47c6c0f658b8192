"""Referral and placement operations: each change a row of history and an event, in one
transaction with the state it describes."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, select, text, update

from services.matching.agencies.models import Agency
from services.matching.candidates.models import Candidate, CandidateOrientation
from services.matching.ranking import domain as ranking
from services.matching.ranking.domain import Cell
from services.matching.ranking.service import vacancy_terms
from services.matching.ranking.sql import candidates_for
from services.matching.referrals.domain import (
    AGENCY_MAY_SET,
    NEEDS_REASON,
    OPEN,
    AlreadyPlaced,
    AlreadyReferred,
    MissingPrerequisite,
    NotReferable,
    OverseasPlacement,
    PlacementEnded,
    ReferralStatus,
    check_transition,
    overseas_prerequisites,
)
from services.matching.referrals.models import Placement, Referral, ReferralStatusChange
from services.matching.referrals.schemas import ReferralRead, StatusChangeRead
from services.matching.scope import Actor, require_referral, require_serves_referred
from services.matching.vacancies.models import Vacancy
from services.matching.vacancies.service import take_position
from services.matching.wording import count
from shared import readmodels
from shared.clock import LAO_TIME
from shared.db import clock_now
from shared.events.matching import PlacementEnded as PlacementEndedEvent
from shared.events.matching import PlacementMade, ReferralStatusChanged
from shared.outbox import add_event
from shared.pagination import newest_first, page_of
from shared.problems import Forbidden, InvalidField, NotFound
from shared.unique import add_unique

if TYPE_CHECKING:
    from datetime import date, datetime

    from sqlalchemy.ext.asyncio import AsyncSession

# A referral is made to a vacancy taking people now; a paused one (agency suspended) is not.
REFERABLE_VACANCY = frozenset({"published"})
SYSTEM = "system"


def agency_status(agency: Agency, today: date) -> str:
    """The licence as it stands today: a recorded decision, or expired by its date."""
    if agency.status == "active" and today > agency.licence_expires_on:
        return "expired"
    return agency.status


async def _candidate(session: AsyncSession, person_id: uuid.UUID) -> Candidate:
    candidate = await session.get(Candidate, person_id)
    if candidate is not None and candidate.record_status == "merged" and candidate.merged_into:
        candidate = await session.get(Candidate, candidate.merged_into)
    if candidate is None or candidate.record_status == "erased":
        raise NotFound(f"matching knows no person {person_id}", field="person_id")
    return candidate


async def _match(
    session: AsyncSession, vacancy: Vacancy, person_id: uuid.UUID, today: date
) -> tuple[float | None, list[dict[str, str]]]:
    """The person's score for the vacancy, or why the hard filters exclude them."""
    terms = vacancy_terms(vacancy)
    everyone = Cell(0, False, 0.0)
    for excluded in (False, True):
        query = candidates_for(
            terms, everyone, limit=1, today=today, excluded=excluded, person_id=person_id
        )
        row = (await session.execute(text(query.sql), query.params)).mappings().first()
        if row is not None:
            if excluded:
                return None, ranking.hard_filter_reasons(dict(row), terms, today)
            return round(float(row["score"]), 2), []
    return None, [{"code": "unknown", "detail": "not in the candidate read model"}]


def _visible(actor: Actor) -> ColumnElement[bool]:
    return actor.referrals(
        Referral.province_code,
        Referral.agency_id,
        Referral.person_province_code,
        Referral.person_id,
    )


async def _record(
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


async def _move(
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
    await _record(session, referral, new, previous, reason=reason, by=by, at=at)


async def refer(
    session: AsyncSession,
    *,
    vacancy_id: uuid.UUID,
    person_id: uuid.UUID,
    note: str | None,
    actor: Actor,
    today: date,
) -> Referral:
    """Refer a person the officer serves to a vacancy of any province: only a published
    vacancy, only a person who passes every hard filter, once at a time."""
    actor.require_staff()
    vacancy = await session.get(Vacancy, vacancy_id, with_for_update={"read": True})
    if vacancy is None:
        raise NotFound(f"no vacancy {vacancy_id}", field="vacancy_id")
    actor.require_vacancy(
        province_code=vacancy.province_code,
        agency_id=vacancy.agency_id,
        published_at=vacancy.published_at,
    )
    candidate = await _candidate(session, person_id)
    actor.require_serves_candidate(candidate)
    reasons: list[dict[str, str]] = []
    if vacancy.status not in REFERABLE_VACANCY:
        reasons.append({"code": "vacancy_status", "detail": f"the vacancy is {vacancy.status}"})
    elif vacancy.open_positions < 1:
        reasons.append({"code": "no_open_positions", "detail": "no position is left open"})
    if vacancy.agency_id is not None:
        agency = await session.get(Agency, vacancy.agency_id)
        assert agency is not None
        status = agency_status(agency, today)
        if status != "active":
            reasons.append(
                {"code": "agency_licence", "detail": f"agency {agency.code} is {status}"}
            )
    score, excluded = await _match(session, vacancy, candidate.person_id, today)
    reasons += excluded
    if reasons:
        raise NotReferable("; ".join(r["detail"] for r in reasons), reasons)
    now = await clock_now(session)
    referral = Referral(
        id=uuid.uuid4(),
        vacancy_id=vacancy.id,
        person_id=candidate.person_id,
        status=ReferralStatus.REFERRED,
        province_code=vacancy.province_code,
        person_province_code=candidate.province_code,
        agency_id=vacancy.agency_id,
        overseas=vacancy.kind == "overseas",
        score=score,
        note=note,
        office_code=actor.principal.office,
        referred_by=actor.subject,
        created_at=now,
        updated_at=now,
    )
    # Two officers referring the same person at once: the open-referral index decides.
    already = AlreadyReferred(
        "the person already has an open referral to this vacancy", field="person_id"
    )
    await add_unique(session, referral, conflict=already)
    await _record(
        session, referral, ReferralStatus.REFERRED, None, reason=None, by=actor.subject, at=now
    )
    return referral


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
    await _move(session, referral, new, reason=reason, by=actor.subject, at=now)
    await session.flush()
    return referral


async def _orientation_until(
    session: AsyncSession, person_id: uuid.UUID, country: str
) -> date | None:
    return await session.scalar(
        select(CandidateOrientation.valid_until).where(
            CandidateOrientation.person_id == person_id,
            CandidateOrientation.destination_country == country,
        )
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
    await _move(session, referral, ReferralStatus.PLACED, reason=None, by=actor.subject, at=now)
    await add_event(
        session,
        PlacementMade(
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
            placed_by=actor.subject,
            placed_at=now,
        ),
    )
    await session.flush()
    return placement


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


async def repoint_merged_person(
    session: AsyncSession, merged: uuid.UUID, survivor: uuid.UUID
) -> None:
    """A merge in registry: referrals and placements follow the surviving record.

    An open referral the survivor already has to the same vacancy wins; the duplicate's is
    withdrawn (recorded and announced) rather than moved, so one open referral per person and
    vacancy keeps holding. Applying the same merge again changes nothing.
    """
    open_states = [s.value for s in OPEN]
    clashing = (
        await session.scalars(
            select(Referral)
            .where(
                Referral.person_id == merged,
                Referral.status.in_(open_states),
                Referral.vacancy_id.in_(
                    select(Referral.vacancy_id).where(
                        Referral.person_id == survivor, Referral.status.in_(open_states)
                    )
                ),
            )
            .order_by(Referral.id)
            .with_for_update()
        )
    ).all()
    now = await clock_now(session)
    reason = f"duplicate record merged into {survivor}"
    for referral in clashing:
        await _move(session, referral, ReferralStatus.WITHDRAWN, reason=reason, by=SYSTEM, at=now)
    await session.flush()
    await readmodels.move_person_rows(session, Referral, merged, survivor)
    # One active placement per person: the survivor's stands, the duplicate's is ended.
    if await session.scalar(
        select(Placement.id).where(Placement.person_id == survivor, Placement.status == "active")
    ):
        await session.execute(
            update(Placement)
            .where(Placement.person_id == merged, Placement.status == "active")
            .values(status="ended", ended_on=now.date(), end_reason="duplicate record merged")
            .execution_options(synchronize_session=False)
        )
    await readmodels.move_person_rows(session, Placement, merged, survivor)


async def forget_person(session: AsyncSession, person_id: uuid.UUID) -> None:
    """An erasure in registry: the free text officers wrote about the person goes.

    Referrals and placements stay as counts of what the network did, keyed by an id that no
    longer leads to anyone; notes and reasons could name the person, so they are blanked.
    """
    referral_ids = select(Referral.id).where(Referral.person_id == person_id)
    await readmodels.blank_person_rows(session, Referral, [person_id], "note")
    await session.execute(
        update(ReferralStatusChange)
        .where(ReferralStatusChange.referral_id.in_(referral_ids))
        .values(reason=None)
        .execution_options(synchronize_session=False)
    )
    await readmodels.blank_person_rows(session, Placement, [person_id], "end_reason")


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
