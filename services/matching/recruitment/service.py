"""Name list and cost ledger operations, each in the request's transaction.

Every change to a name list holds the vacancy's row lock until the transaction ends, so two
submissions at once are counted one after the other against the quota.
"""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select, update

from services.matching.agencies.domain import effective_status
from services.matching.agencies.models import Agency
from services.matching.recruitment.domain import (
    EntryStatus,
    NotSelected,
    check_overseas,
    check_quota,
    check_recruiting,
    cost_errors,
    flag_rule,
    flagged,
    ledger_totals,
    plan_submission,
)
from services.matching.recruitment.models import NameListEntry, RecruitmentCost
from services.matching.recruitment.schemas import (
    CostCreate,
    CostLedger,
    CostRead,
    CurrencyTotalRead,
    NameListEntryRead,
    NameListRead,
    NameListSubmitted,
    PayerTotalRead,
)
from services.matching.referrals.domain import OPEN as OPEN_REFERRAL
from services.matching.referrals.models import Referral
from services.matching.vacancies.reading import get_own_vacancy
from shared import readmodels
from shared.db import clock_now
from shared.events.matching import WorkerPaidCostRecorded
from shared.outbox import add_event
from shared.problems import FieldError, InvalidFields, NotFound

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from services.matching.scope import Actor
    from services.matching.vacancies.models import Vacancy

CENTS = Decimal("0.01")
SYSTEM = "system"


async def _demand_letter(
    session: AsyncSession,
    vacancy_id: uuid.UUID,
    actor: Actor,
    *,
    write: bool = False,
    lock: bool = False,
) -> Vacancy:
    """An overseas vacancy of the actor's side (404, 403, 409 otherwise): its name list and
    ledger are about people, so they stay with its agency and its province's staff even once
    the vacancy is published nationally; to change them, not an analyst."""
    vacancy = await get_own_vacancy(session, vacancy_id, actor, lock=lock)
    if write:
        actor.require_editor()
    check_overseas(vacancy.kind)
    return vacancy


async def _agency(session: AsyncSession, vacancy: Vacancy) -> Agency:
    assert vacancy.agency_id is not None  # an overseas vacancy always has one (constraint)
    agency = await session.get(Agency, vacancy.agency_id)
    assert agency is not None
    return agency


# -- the name list ---------------------------------------------------------------------------


async def _selected_count(session: AsyncSession, vacancy_id: uuid.UUID) -> int:
    return (
        await session.scalar(
            select(func.count()).where(
                NameListEntry.vacancy_id == vacancy_id,
                NameListEntry.status == EntryStatus.SELECTED,
            )
        )
    ) or 0


def _entry_fields(entry: NameListEntry, referral_status: str) -> dict[str, object]:
    fields = {
        f: getattr(entry, f) for f in NameListEntryRead.model_fields if f != "referral_status"
    }
    return fields | {"referral_status": referral_status}


async def name_list(
    session: AsyncSession, vacancy: Vacancy, *, status: EntryStatus | None = None
) -> NameListRead:
    """The vacancy's entries in the order they were submitted, with the quota and what is left."""
    query = (
        select(NameListEntry, Referral.status)
        .join(Referral, Referral.id == NameListEntry.referral_id)
        .where(NameListEntry.vacancy_id == vacancy.id)
        .order_by(NameListEntry.submitted_at, NameListEntry.id)
    )
    if status is not None:
        query = query.where(NameListEntry.status == status)
    entries = [
        NameListEntryRead.model_validate(_entry_fields(entry, referral_status))
        for entry, referral_status in await session.execute(query)
    ]
    selected = await _selected_count(session, vacancy.id)
    return NameListRead(
        vacancy_id=vacancy.id,
        quota=vacancy.positions,
        selected=selected,
        remaining=max(vacancy.positions - selected, 0),
        entries=entries,
    )


async def get_name_list(
    session: AsyncSession, vacancy_id: uuid.UUID, actor: Actor, *, status: EntryStatus | None
) -> NameListRead:
    vacancy = await _demand_letter(session, vacancy_id, actor)
    return await name_list(session, vacancy, status=status)


async def submit_name_list(
    session: AsyncSession,
    vacancy_id: uuid.UUID,
    person_ids: list[uuid.UUID],
    actor: Actor,
    *,
    today: date,
) -> NameListSubmitted:
    """Select people with an open referral against a published demand letter, all or none.

    Rows that cannot be selected answer 422 naming each; passing the quota answers 409; people
    already selected are left as they are.
    """
    vacancy = await _demand_letter(session, vacancy_id, actor, write=True, lock=True)
    agency = await _agency(session, vacancy)
    check_recruiting(
        vacancy.status,
        effective_status(agency.status, agency.licence_expires_on, today),
        agency.code,
    )
    selected = set(
        (
            await session.scalars(
                select(NameListEntry.person_id).where(
                    NameListEntry.vacancy_id == vacancy.id,
                    NameListEntry.status == EntryStatus.SELECTED,
                )
            )
        ).all()
    )
    open_referrals = {
        person_id: referral_id
        for person_id, referral_id in (
            await session.execute(
                select(Referral.person_id, Referral.id).where(
                    Referral.vacancy_id == vacancy.id,
                    Referral.person_id.in_(person_ids),
                    Referral.status.in_([s.value for s in OPEN_REFERRAL]),
                )
            )
        ).all()
    }
    plan = plan_submission(person_ids, selected=selected, open_referrals=open_referrals)
    check_quota(vacancy.positions, len(selected), len(plan.added))
    at = await clock_now(session)
    for row, (person_id, referral_id) in enumerate(plan.added):
        session.add(
            NameListEntry(
                id=uuid.uuid4(),
                vacancy_id=vacancy.id,
                person_id=person_id,
                referral_id=referral_id,
                status=EntryStatus.SELECTED,
                submitted_by=actor.subject,
                # A microsecond apart, so that the list keeps the order the rows were sent in.
                submitted_at=at + timedelta(microseconds=row),
            )
        )
    await session.flush()
    current = await name_list(session, vacancy)
    return NameListSubmitted(
        **current.model_dump(),
        added=[person_id for person_id, _ in plan.added],
        unchanged=plan.unchanged,
    )


async def withdraw(
    session: AsyncSession,
    vacancy_id: uuid.UUID,
    person_id: uuid.UUID,
    *,
    reason: str,
    actor: Actor,
) -> NameListEntryRead:
    """Take a selected person off the name list, freeing a place; the entry stays as history."""
    vacancy = await _demand_letter(session, vacancy_id, actor, write=True, lock=True)
    entries = (
        await session.scalars(
            select(NameListEntry)
            .where(NameListEntry.vacancy_id == vacancy.id, NameListEntry.person_id == person_id)
            .order_by(NameListEntry.submitted_at.desc())
            .with_for_update()
        )
    ).all()
    if not entries:
        raise NotFound(f"{person_id} is not on the name list of this vacancy", field="person_id")
    entry = next((e for e in entries if e.status == EntryStatus.SELECTED), None)
    if entry is None:
        raise NotSelected(
            f"{person_id} was already withdrawn from the name list",
            field="person_id",
            current_status=EntryStatus.WITHDRAWN.value,
        )
    entry.status = EntryStatus.WITHDRAWN
    entry.withdrawn_by = actor.subject
    entry.withdrawn_at = await clock_now(session)
    entry.withdrawal_reason = reason
    await session.flush()
    referral_status = await session.scalar(
        select(Referral.status).where(Referral.id == entry.referral_id)
    )
    assert referral_status is not None
    return NameListEntryRead.model_validate(_entry_fields(entry, referral_status))


# -- the cost ledger -------------------------------------------------------------------------


def cost_read(cost: RecruitmentCost) -> CostRead:
    return CostRead.model_validate(
        {c.key: getattr(cost, c.key) for c in RecruitmentCost.__table__.columns}
        | {
            "flagged": flagged(cost.paid_by, cost.amount),
            "rule": flag_rule(cost.paid_by, cost.amount),
        }
    )


async def record_cost(
    session: AsyncSession, vacancy_id: uuid.UUID, data: CostCreate, actor: Actor, *, today: date
) -> RecruitmentCost:
    """Append one cost of a worker on the name list. A cost the worker paid is kept, flagged,
    counted against the agency and announced (WorkerPaidCostRecorded) in this transaction."""
    vacancy = await _demand_letter(session, vacancy_id, actor, write=True)
    errors = cost_errors(data.paid_by, data.amount, data.paid_on, today)
    # Withdrawn workers count too: what they paid before leaving the list is still owed to them.
    on_list = await session.scalar(
        select(NameListEntry.id)
        .where(NameListEntry.vacancy_id == vacancy.id, NameListEntry.person_id == data.person_id)
        .limit(1)
    )
    if on_list is None:
        errors.insert(0, FieldError("person_id", "is not on this vacancy's name list"))
    if errors:
        raise InvalidFields(errors)
    agency = await _agency(session, vacancy)
    cost = RecruitmentCost(
        id=uuid.uuid4(),
        vacancy_id=vacancy.id,
        agency_id=agency.id,
        person_id=data.person_id,
        item=data.item,
        amount=data.amount.quantize(CENTS),
        currency=data.currency,
        paid_by=data.paid_by.value,
        paid_on=data.paid_on,
        note=data.note or None,
        recorded_by=actor.subject,
        recorded_at=await clock_now(session),
    )
    session.add(cost)
    await session.flush()
    if flagged(cost.paid_by, cost.amount):
        await add_event(
            session,
            WorkerPaidCostRecorded(
                agency_id=agency.id,
                agency_code=agency.code,
                vacancy_id=vacancy.id,
                person_id=cost.person_id,
                cost_id=cost.id,
                item=data.item,
                amount=cost.amount,
                currency=cost.currency,
                recorded_by=cost.recorded_by,
                recorded_at=cost.recorded_at,
            ),
        )
    return cost


async def cost_ledger(
    session: AsyncSession, vacancy_id: uuid.UUID, actor: Actor, *, person_id: uuid.UUID | None
) -> CostLedger:
    """Every cost recorded for the vacancy (or one worker of it), oldest first, with totals."""
    vacancy = await _demand_letter(session, vacancy_id, actor)
    query = select(RecruitmentCost).where(RecruitmentCost.vacancy_id == vacancy.id)
    if person_id is not None:
        query = query.where(RecruitmentCost.person_id == person_id)
    costs = (
        await session.scalars(query.order_by(RecruitmentCost.recorded_at, RecruitmentCost.id))
    ).all()
    totals = ledger_totals((c.paid_by, c.currency, c.amount) for c in costs)
    return CostLedger(
        vacancy_id=vacancy.id,
        person_id=person_id,
        items=[cost_read(c) for c in costs],
        totals=[PayerTotalRead.model_validate(t) for t in totals.by_payer],
        currency_totals=[CurrencyTotalRead.model_validate(t) for t in totals.by_currency],
        flagged=totals.flagged,
    )


# -- registry's merges and erasures ----------------------------------------------------------


async def repoint_merged_person(
    session: AsyncSession, merged: uuid.UUID, survivor: uuid.UUID
) -> None:
    """A merge in registry: name list entries and costs follow the surviving record.

    Where both records are selected against one demand letter, the duplicate's entry is
    withdrawn (one selected entry per person); costs move as they are, being evidence.
    """
    now = await clock_now(session)
    await session.execute(
        update(NameListEntry)
        .where(
            NameListEntry.person_id == merged,
            NameListEntry.status == EntryStatus.SELECTED,
            NameListEntry.vacancy_id.in_(
                select(NameListEntry.vacancy_id).where(
                    NameListEntry.person_id == survivor,
                    NameListEntry.status == EntryStatus.SELECTED,
                )
            ),
        )
        .values(
            status=EntryStatus.WITHDRAWN,
            withdrawn_by=SYSTEM,
            withdrawn_at=now,
            withdrawal_reason=f"duplicate record merged into {survivor}",
        )
        .execution_options(synchronize_session=False)
    )
    for table in (NameListEntry, RecruitmentCost):
        await readmodels.move_person_rows(session, table, merged, survivor)


async def forget_person(session: AsyncSession, person_id: uuid.UUID) -> None:
    """An erasure in registry: free text about the person goes; amounts and payers stay."""
    await readmodels.blank_person_rows(session, NameListEntry, [person_id], "withdrawal_reason")
    await readmodels.blank_person_rows(session, RecruitmentCost, [person_id], "note")
