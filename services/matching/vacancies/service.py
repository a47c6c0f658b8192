"""Vacancy operations: each change and its VacancyStatusChanged event in one transaction."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.exc import IntegrityError

from services.matching.agencies.domain import check_may_recruit
from services.matching.agencies.models import Agency
from services.matching.employers.models import Employer
from services.matching.ranking.keys import vacancy_keys
from services.matching.vacancies.domain import (
    DEFAULT_MIN_AGE,
    OPEN,
    Kind,
    VacancyStatus,
    check_closing,
    check_open_changes,
    check_transition,
    closing_errors,
    kind_field_errors,
    min_age_errors,
    new_reference,
    normalise_skills,
    pause_reason,
    refuse,
    resumable,
)
from services.matching.vacancies.models import Vacancy
from services.matching.vacancies.schemas import (
    VacancyCreate,
    VacancyRead,
    VacancyStatusIn,
    VacancyUpdate,
)
from services.matching.wording import count
from shared.db import clock_now
from shared.events.matching import VacancyStatusChanged
from shared.outbox import add_event
from shared.pagination import equal_if_given, newest_first, page_of
from shared.problems import Conflict, FieldError, InvalidField, NotFound
from shared.versioning import check_version

if TYPE_CHECKING:
    from collections.abc import Sequence
    from datetime import date, datetime

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
SYSTEM = "system"


class NoOpenPosition(Conflict):
    slug, title = "no-open-position", "No open position"


def to_read(vacancy: Vacancy) -> VacancyRead:
    return VacancyRead.model_validate(vacancy)


# -- events ----------------------------------------------------------------------------------


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


# -- reading ---------------------------------------------------------------------------------


async def _vacancy(session: AsyncSession, vacancy_id: uuid.UUID, lock: bool) -> Vacancy:
    # `lock` holds the row until the transaction ends, so that changes are made one at a time.
    vacancy = await session.get(Vacancy, vacancy_id, with_for_update=lock, populate_existing=lock)
    if vacancy is None:
        raise NotFound(f"no vacancy {vacancy_id}")
    return vacancy


async def get_vacancy(
    session: AsyncSession, vacancy_id: uuid.UUID, actor: Actor, *, lock: bool = False
) -> Vacancy:
    """A vacancy the actor may read: any published one (the job bank is national), a draft only
    its province's staff and its agency; 404 when unknown, 403 otherwise."""
    vacancy = await _vacancy(session, vacancy_id, lock)
    actor.require_vacancy(
        province_code=vacancy.province_code,
        agency_id=vacancy.agency_id,
        published_at=vacancy.published_at,
    )
    return vacancy


async def get_own_vacancy(
    session: AsyncSession, vacancy_id: uuid.UUID, actor: Actor, *, lock: bool = False
) -> Vacancy:
    """A vacancy of the actor's side, to change it or read what belongs to that side (a demand
    letter's name list and costs): staff of its province, or its agency; 403 for others."""
    vacancy = await _vacancy(session, vacancy_id, lock)
    actor.require(province_code=vacancy.province_code, agency_id=vacancy.agency_id)
    return vacancy


@dataclass(frozen=True)
class Filters:
    status: str | None = None
    kind: str | None = None
    province_code: str | None = None
    agency_id: uuid.UUID | None = None
    employer_id: uuid.UUID | None = None
    isco08: str | None = None


def _conditions(filters: Filters, actor: Actor) -> list[ColumnElement[bool]]:
    conditions = [actor.vacancies(Vacancy.province_code, Vacancy.agency_id, Vacancy.published_at)]
    conditions += equal_if_given(
        Vacancy,
        status=filters.status,
        kind=filters.kind,
        province_code=filters.province_code,
        agency_id=filters.agency_id,
        employer_id=filters.employer_id,
    )
    if filters.isco08 is not None:
        conditions.append(Vacancy.isco08.startswith(filters.isco08))
    return conditions


async def list_vacancies(
    session: AsyncSession, filters: Filters, actor: Actor, *, cursor: str | None, limit: int
) -> tuple[list[Vacancy], str | None]:
    """A page of the vacancies the actor may see, newest first, and the next page's cursor."""
    query = select(Vacancy).where(and_(*_conditions(filters, actor)))
    query = newest_first(query, (Vacancy.created_at, Vacancy.id), after=cursor, limit=limit)
    rows = (await session.scalars(query)).all()
    return page_of(rows, limit, lambda v: (v.created_at, v.id))


# -- writing ---------------------------------------------------------------------------------


async def _employer_errors(
    session: AsyncSession, employer_id: uuid.UUID | None
) -> list[FieldError]:
    """The employer named must be registered."""
    if employer_id is None or await session.get(Employer, employer_id) is not None:
        return []
    return [FieldError("employer_id", f"no employer {employer_id}", "unknown")]


async def _check_agency(
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
    values = data.model_dump() | {"agency_id": agency_id}
    # Every rule at once, so that the officer corrects the form in one go.
    errors = kind_field_errors(kind, values)
    errors += min_age_errors(kind, data.min_age, data.max_age)
    errors += closing_errors(data.closes_on, today)
    if kind is Kind.DOMESTIC:
        errors += await _employer_errors(session, data.employer_id)
    elif agency_id is not None and await session.get(Agency, agency_id) is None:
        errors.append(FieldError("agency_id", f"no agency {agency_id}", "unknown"))
    fees = _fees(data)
    total = refuse(errors, fees)
    min_age = DEFAULT_MIN_AGE[kind] if data.min_age is None else data.min_age
    if kind is Kind.OVERSEAS:
        # Both held by kind_field_errors, whose errors refuse() raised above.
        assert agency_id is not None
        assert data.destination_country is not None
        await _check_agency(session, agency_id, data.destination_country, today)
    at = await clock_now(session)
    vacancy = Vacancy(
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
        min_age=min_age,
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
        worker_fee_total=total,
        office_code=None if actor.is_agency else actor.principal.office,
        created_by=actor.subject,
        created_at=at,
        updated_at=at,
        published_at=None,
        version=1,
    )
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
        await _check_agency(session, vacancy.agency_id, changes["destination_country"], today)
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
            await _check_agency(
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
