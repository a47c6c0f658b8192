"""Learners read model operations: each registry event's change, and the staff's lists.

Every function runs in the caller's transaction (the consumer's, with its inbox row) and
writes state so that applying the same event again leaves the same rows. A person's record
carries a version, so an older one arriving late is recognised and ignored; migration status
changes carry none and rely on registry's per-person order on one partition.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import (
    ColumnElement,
    String,
    and_,
    delete,
    not_,
    or_,
    select,
)
from sqlalchemy import cast as sql_cast

from services.predeparture.audit import service as audit
from services.predeparture.audit.domain import Action
from services.predeparture.learners import domain
from services.predeparture.learners.models import Learner
from services.predeparture.learners.schemas import LearnerDetail, LearnerEnrolment, LearnerRead
from services.predeparture.scope import basis_of, require_person, served
from services.predeparture.sessions.invitations import (
    has_live_place,
    has_valid_completion,
)
from services.predeparture.sessions.models import Enrolment, OrientationSession
from shared import readmodels
from shared.idempotency import IdempotencyRecord
from shared.outbox.models import OutboxRecord
from shared.pagination import equal_if_given, oldest_first, page_of
from shared.problems import NotFound
from shared.readmodels import Outcome

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.auth import Principal
    from shared.events.registry import PersonDetails


async def following_merges(session: AsyncSession, person_id: uuid.UUID) -> Learner | None:
    """The locked row of the person, or of the record they were merged into."""
    return await readmodels.locked_following_merges(session, Learner, person_id)


# -- registry's events -----------------------------------------------------------------------


async def apply_person(session: AsyncSession, details: PersonDetails, version: int) -> Outcome:
    """A registration (version 1) or update: the kept fields are replaced (see
    `shared.readmodels.apply_record` for versions and merged records), in one statement."""
    return await readmodels.upsert_record(
        session,
        Learner,
        details.person_id,
        version,
        domain.person_fields(details) | {"updated_at": datetime.now(UTC)},
        new={"migration_status": None, "destination_country": None},
    )


async def apply_served_at(session: AsyncSession, person_id: uuid.UUID, office_code: str) -> Outcome:
    """An office outside the person's province serves them now (registry's PersonServedAt):
    its staff read and act on the person from here on (kept in the order offices came)."""
    return await readmodels.add_serving_office(
        session, Learner, person_id, office_code, domain.with_office
    )


async def apply_migration_status(
    session: AsyncSession, person_id: uuid.UUID, status: str, destination_country: str
) -> Learner | None:
    """The latest migration record moved; the (locked) learner it applied to, or None for a
    person predeparture does not know."""
    learner = await following_merges(session, person_id)
    if learner is None:
        return None
    learner.migration_status = status
    learner.destination_country = destination_country
    learner.updated_at = datetime.now(UTC)
    await session.flush()
    return learner


async def merge(session: AsyncSession, person_id: uuid.UUID, survivor_id: uuid.UUID) -> Outcome:
    """`person_id` was a duplicate of `survivor_id`: retire it and give the survivor what the
    learner row kept (its places, attendance and completions follow in their own features'
    reactions, see predeparture's app.py)."""

    async def absorb(duplicate: Learner, survivor: Learner | None) -> None:
        duplicate.updated_at = datetime.now(UTC)
        if survivor is None:
            return
        # Registry moves the migration record to the survivor without announcing it again.
        if survivor.migration_status is None:
            survivor.migration_status = duplicate.migration_status
            survivor.destination_country = duplicate.destination_country
            survivor.updated_at = datetime.now(UTC)
        # The offices that served the duplicate served the person: they keep serving the
        # survivor.
        offices = list(survivor.serving_offices or [])
        for office in duplicate.serving_offices or []:
            offices = domain.with_office(offices, office)
        if offices != list(survivor.serving_offices or []):
            survivor.serving_offices = offices
            survivor.updated_at = datetime.now(UTC)

    return await readmodels.merge(session, Learner, person_id, survivor_id, absorb)


async def erase(session: AsyncSession, person_id: uuid.UUID) -> Outcome:
    """The person was erased in registry: their row (and merged copies) go, with events not
    yet published and stored answers about them. (Sessions, attendance and completions blank
    what they wrote about the person in their own reactions, before this one runs.)"""
    found = await readmodels.records_of(session, Learner, person_id)
    ids = sorted({person_id, *found})
    await readmodels.delete_records(session, Learner, ids)
    await session.execute(delete(OutboxRecord).where(OutboxRecord.key.in_([str(i) for i in ids])))
    await session.execute(
        delete(IdempotencyRecord).where(
            or_(*(sql_cast(IdempotencyRecord.body, String).contains(str(i)) for i in ids))
        )
    )
    return Outcome.APPLIED if found else Outcome.UNKNOWN_PERSON


# -- reading ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Filters:
    awaiting: bool = False
    office_code: str | None = None
    province_code: str | None = None


def _awaiting(today: date) -> ColumnElement[bool]:
    """Prospective migrants with no place to come and no valid orientation for where they go."""
    return and_(
        Learner.migration_status == domain.PROSPECTIVE,
        Learner.record_status == domain.ACTIVE,
        not_(has_live_place(Learner.person_id)),
        not_(has_valid_completion(Learner.person_id, Learner.destination_country, today)),
    )


async def list_learners(
    session: AsyncSession,
    filters: Filters,
    principal: Principal,
    *,
    today: date,
    cursor: str | None,
    limit: int,
) -> tuple[list[Learner], str | None]:
    """A page of the learners the principal serves, oldest known first, and the next page's
    cursor; each person listed is audited."""
    conditions: list[ColumnElement[bool]] = [Learner.record_status == domain.ACTIVE]
    if (mine := served(principal)) is not None:
        conditions.append(mine)
    if filters.awaiting:
        conditions.append(_awaiting(today))
    conditions += equal_if_given(
        Learner, office_code=filters.office_code, province_code=filters.province_code
    )
    query = oldest_first(
        select(Learner).where(*conditions),
        (Learner.created_at, Learner.person_id),
        after=cursor,
        limit=limit,
    )
    rows = (await session.scalars(query)).all()
    page, following = page_of(rows, limit, lambda p: (p.created_at, p.person_id))
    await audit.record(session, principal, Action.LISTED, [p.person_id for p in page])
    return page, following


async def read_learner(
    session: AsyncSession, person_id: uuid.UUID, principal: Principal, *, today: date
) -> LearnerDetail:
    """A learner with their enrolments (newest first) and whether they wait for orientation,
    for staff who serve them (403 otherwise); audited, naming the basis."""
    learner = await session.get(Learner, person_id)
    if learner is None:
        raise NotFound(f"no learner {person_id}", field="person_id")
    await require_person(session, principal, person_id, learner.province_code)
    await audit.record(
        session,
        principal,
        Action.LEARNER_READ,
        [person_id],
        basis=basis_of(principal, learner.province_code),
    )
    awaiting = await session.scalar(
        select(_awaiting(today)).select_from(Learner).where(Learner.person_id == person_id)
    )
    rows = await session.execute(
        select(
            Enrolment,
            OrientationSession.office_code,
            OrientationSession.status,
            OrientationSession.starts_at,
        )
        .join(OrientationSession, OrientationSession.id == Enrolment.session_id)
        .where(Enrolment.person_id == person_id)
        .order_by(Enrolment.created_at.desc(), Enrolment.id.desc())
    )
    enrolments = [
        LearnerEnrolment(
            enrolment_id=e.id,
            session_id=e.session_id,
            status=e.status,
            automatic=e.automatic,
            destination_country=e.destination_country,
            office_code=office_code,
            session_status=status,
            starts_at=starts_at,
        )
        for e, office_code, status, starts_at in rows
    ]
    return LearnerDetail.model_validate(
        LearnerRead.model_validate(learner).model_dump()
        | {"awaiting": bool(awaiting), "enrolments": enrolments}
    )
