"""Referring a person to a vacancy: only a published one, only a person who passes every hard
filter, once at a time."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import text

from services.matching.agencies.models import Agency
from services.matching.candidates.models import Candidate
from services.matching.ranking import domain as ranking
from services.matching.ranking.domain import Cell
from services.matching.ranking.service import vacancy_terms
from services.matching.ranking.sql import candidates_for
from services.matching.referrals.domain import AlreadyReferred, NotReferable, ReferralStatus
from services.matching.referrals.models import Referral
from services.matching.referrals.service import record
from services.matching.vacancies.models import Vacancy
from shared.db import clock_now
from shared.problems import NotFound
from shared.unique import add_unique

if TYPE_CHECKING:
    from datetime import date

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.matching.scope import Actor


# A referral is made to a vacancy taking people now; a paused one (agency suspended) is not.
REFERABLE_VACANCY = frozenset({"published"})


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
    await record(
        session, referral, ReferralStatus.REFERRED, None, reason=None, by=actor.subject, at=now
    )
    return referral
