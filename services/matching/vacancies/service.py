"""Vacancy operations: recording a draft and changing its terms, each announced in the same
transaction."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from sqlalchemy.exc import IntegrityError

from services.matching.agencies.models import Agency
from services.matching.employers.models import Employer
from services.matching.ranking.keys import vacancy_keys
from services.matching.vacancies.domain import (
    DEFAULT_MIN_AGE,
    Kind,
    VacancyStatus,
    check_open_changes,
    closing_errors,
    kind_field_errors,
    min_age_errors,
    new_reference,
    normalise_skills,
    refuse,
)
from services.matching.vacancies.lifecycle import announce, check_agency
from services.matching.vacancies.models import Vacancy
from services.matching.vacancies.reading import get_own_vacancy
from services.matching.vacancies.schemas import VacancyCreate, VacancyUpdate
from shared.db import clock_now
from shared.problems import FieldError
from shared.versioning import check_version

if TYPE_CHECKING:
    from datetime import date, datetime
    from decimal import Decimal

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.matching.scope import Actor


REFERENCE_ATTEMPTS = 5
# Terms a change may not empty: every vacancy has them.
NOT_NULL = (
    "title",
    "isco08",
    "province_code",
    "positions",
    "wage_amount",
    "wage_currency",
    "wage_period",
    "required_skills",
    "languages",
    "min_experience_years",
    "min_age",
    "worker_fees",
)


async def _employer_errors(
    session: AsyncSession, employer_id: uuid.UUID | None
) -> list[FieldError]:
    """The employer named must be registered."""
    if employer_id is None or await session.get(Employer, employer_id) is not None:
        return []
    return [FieldError("employer_id", f"no employer {employer_id}", "unknown")]


def _fees(data: VacancyCreate | VacancyUpdate) -> list[dict[str, Any]]:
    return [fee.model_dump(mode="json") for fee in data.worker_fees or []]


async def _insert(session: AsyncSession, vacancy: Vacancy) -> None:
    """Add the vacancy under a fresh reference, drawing another on the rare collision."""
    for _ in range(REFERENCE_ATTEMPTS):
        vacancy.reference = new_reference()
        try:
            async with session.begin_nested():
                session.add(vacancy)
        except IntegrityError as exc:
            if "uq_vacancies_reference" not in str(exc.orig):
                raise
            continue
        return
    raise RuntimeError("no free vacancy reference after several draws")


async def _creation_errors(
    session: AsyncSession,
    data: VacancyCreate,
    kind: Kind,
    agency_id: uuid.UUID | None,
    *,
    today: date,
) -> list[FieldError]:
    """Every rule a new vacancy breaks at once, so that the officer corrects the form in one
    go."""
    values = data.model_dump() | {"agency_id": agency_id}
    errors = kind_field_errors(kind, values)
    errors += min_age_errors(kind, data.min_age, data.max_age)
    errors += closing_errors(data.closes_on, today)
    if kind is Kind.DOMESTIC:
        errors += await _employer_errors(session, data.employer_id)
    elif agency_id is not None and await session.get(Agency, agency_id) is None:
        errors.append(FieldError("agency_id", f"no agency {agency_id}", "unknown"))
    return errors


def _draft(
    data: VacancyCreate,
    kind: Kind,
    agency_id: uuid.UUID | None,
    *,
    fees: list[dict[str, Any]],
    fee_total: Decimal,
    actor: Actor,
    at: datetime,
) -> Vacancy:
    """The new draft vacancy's row, its reference still to draw."""
    return Vacancy(
        id=uuid.uuid4(),
        kind=kind,
        status=VacancyStatus.DRAFT,
        status_reason=None,
        title=data.title,
        description=data.description,
        isco08=data.isco08,
        match_keys=vacancy_keys(
            isco08=data.isco08,
            province_code=data.province_code,
            destination_country=data.destination_country,
        ),
        employer_id=data.employer_id,
        province_code=data.province_code,
        district=data.district,
        agency_id=agency_id,
        destination_country=data.destination_country,
        foreign_employer=data.foreign_employer,
        demand_letter_ref=data.demand_letter_ref,
        channel=data.channel,
        required_skills=normalise_skills(data.required_skills),
        min_isced=data.min_isced,
        min_experience_years=data.min_experience_years,
        languages=list(data.languages),
        min_age=DEFAULT_MIN_AGE[kind] if data.min_age is None else data.min_age,
        max_age=data.max_age,
        positions=data.positions,
        open_positions=data.positions,
        wage_amount=data.wage_amount,
        wage_currency=data.wage_currency,
        wage_period=data.wage_period,
        contract_months=data.contract_months,
        starts_on=data.starts_on,
        closes_on=data.closes_on,
        worker_fees=fees,
        worker_fee_total=fee_total,
        office_code=None if actor.is_agency else actor.principal.office,
        created_by=actor.subject,
        created_at=at,
        updated_at=at,
        published_at=None,
        version=1,
    )


async def create_vacancy(
    session: AsyncSession, data: VacancyCreate, actor: Actor, *, today: date
) -> Vacancy:
    """Record a draft vacancy (a domestic job, or an agency's demand letter) and announce it.

    Every bad field answers in one 422 naming them all; fees charged to the worker make it
    `worker-fees-not-allowed` (still naming the others). Nothing is written then.
    """
    kind = Kind(data.kind)
    agency_id = actor.new_vacancy_agency(data.agency_id, overseas=kind is Kind.OVERSEAS)
    actor.require(province_code=data.province_code, agency_id=agency_id)
    errors = await _creation_errors(session, data, kind, agency_id, today=today)
    fees = _fees(data)
    total = refuse(errors, fees)
    if kind is Kind.OVERSEAS:
        # Both held by kind_field_errors, whose errors refuse() raised above.
        assert agency_id is not None
        assert data.destination_country is not None
        await check_agency(session, agency_id, data.destination_country, today)
    at = await clock_now(session)
    vacancy = _draft(data, kind, agency_id, fees=fees, fee_total=total, actor=actor, at=at)
    await _insert(session, vacancy)
    await session.refresh(vacancy)  # amounts as stored (scale 2), as every later read shows them
    await announce(session, vacancy, None, reason=None, changed_by=actor.subject)
    return vacancy


async def update_vacancy(
    session: AsyncSession,
    vacancy_id: uuid.UUID,
    data: VacancyUpdate,
    actor: Actor,
    *,
    expected_version: int | None,
    today: date,
) -> Vacancy:
    """Change the terms sent: any of a draft's; of a published or paused vacancy only the
    description, the closing date and more positions. 412 on a stale `expected_version`."""
    vacancy = await get_own_vacancy(session, vacancy_id, actor, lock=True)
    check_version(vacancy.version, expected_version)
    status = VacancyStatus(vacancy.status)
    if status is VacancyStatus.DRAFT:
        actor.require_editor()
    else:
        actor.require_staff()
    changes, removed = _changes_sent(data, vacancy)
    if not changes and not removed:
        return vacancy
    errors = await _update_errors(session, vacancy, status, changes, removed, today)
    total = refuse(errors, changes.get("worker_fees", ()))
    if "worker_fees" in changes:
        changes["worker_fee_total"] = total
    if "province_code" in changes:
        actor.require(province_code=changes["province_code"], agency_id=vacancy.agency_id)
    if "destination_country" in changes and vacancy.agency_id is not None:
        await check_agency(session, vacancy.agency_id, changes["destination_country"], today)
    _apply_changes(vacancy, changes)
    vacancy.updated_at = await clock_now(session)
    vacancy.version += 1
    await session.flush()
    await session.refresh(vacancy)
    # Announced with its status unchanged, so that feeds describe the job as it now is.
    changed = ", ".join(sorted(f for f in changes if f in VacancyUpdate.model_fields))
    await announce(session, vacancy, status, reason=f"changed: {changed}", changed_by=actor.subject)
    return vacancy


def _changes_sent(data: VacancyUpdate, vacancy: Vacancy) -> tuple[dict[str, Any], list[FieldError]]:
    """The fields sent that differ from the vacancy's (fees and skills in their stored form),
    and an error for each required field sent empty."""
    sent = data.model_dump(exclude_unset=True)
    removed = [
        FieldError(field, "cannot be removed", "missing")
        for field in NOT_NULL
        if field in sent and sent[field] is None
    ]
    if "worker_fees" in sent:
        sent["worker_fees"] = _fees(data)
    if "required_skills" in sent:
        sent["required_skills"] = normalise_skills(sent["required_skills"])
    return {f: v for f, v in sent.items() if getattr(vacancy, f) != v}, removed


async def _update_errors(
    session: AsyncSession,
    vacancy: Vacancy,
    status: VacancyStatus,
    changes: dict[str, Any],
    removed: list[FieldError],
    today: date,
) -> list[FieldError]:
    """Every rule the changed vacancy breaks, at once; a field already named (removed) is not
    named again as missing."""
    errors = removed + check_open_changes(status, changes, vacancy.positions)
    kind = Kind(vacancy.kind)
    merged = {f: getattr(vacancy, f) for f in VacancyUpdate.model_fields} | changes
    merged["agency_id"] = vacancy.agency_id
    named = {e.field for e in errors}
    errors += [e for e in kind_field_errors(kind, merged) if e.field not in named]
    if "min_age" in changes or "max_age" in changes:
        errors += min_age_errors(kind, merged["min_age"], merged["max_age"])
    if "closes_on" in changes:
        errors += closing_errors(changes["closes_on"], today)
    if changes.get("employer_id") is not None:
        errors += await _employer_errors(session, changes["employer_id"])
    return errors


def _apply_changes(vacancy: Vacancy, changes: dict[str, Any]) -> None:
    """Set the changed fields (more positions open as many more places) and the match keys."""
    if "positions" in changes:
        taken = vacancy.positions - vacancy.open_positions
        changes["open_positions"] = changes["positions"] - taken
    for field, value in changes.items():
        setattr(vacancy, field, value)
    vacancy.match_keys = vacancy_keys(
        isco08=vacancy.isco08,
        province_code=vacancy.province_code,
        destination_country=vacancy.destination_country,
    )
