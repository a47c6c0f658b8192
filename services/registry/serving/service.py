"""Serving a person of another province: visits, enrolments elsewhere, and taking a record over.

Each link is written with its PersonServedAt event and audit entry in one transaction; a link
is made once per (person, office), so a repeated visit or a redelivered enrolment changes
nothing.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy.dialects.postgresql import insert

from services.registry.audit import service as audit
from services.registry.audit.domain import Action
from services.registry.offices.service import OfficeInfo, acting_office, office_info
from services.registry.people.records import Gone, announce_update, find_person
from services.registry.scope import default_basis, sees_province, serving_basis
from services.registry.serving.domain import Basis, needs_link
from services.registry.serving.models import ServiceLink
from services.registry.serving.schemas import VisitRead
from shared.auth import Principal
from shared.db import clock_now
from shared.events.registry import PersonServedAt
from shared.outbox import add_event
from shared.problems import Conflict, NotFound
from shared.reference.offices import SEED_OFFICES

if TYPE_CHECKING:
    import uuid
    from datetime import datetime

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.registry.people.models import Person

log = logging.getLogger(__name__)


async def link(
    session: AsyncSession,
    person: Person,
    office: OfficeInfo,
    basis: Basis,
    principal: Principal,
    *,
    at: datetime,
    reason: str | None,
) -> bool:
    """Make `office` one serving `person` and announce it; False when it already served them
    (their province, or linked before)."""
    if not needs_link(person.province_code, office.province_code):
        return False
    made = await session.scalar(
        insert(ServiceLink)
        .values(
            person_id=person.id,
            office_code=office.code,
            basis=basis.value,
            recorded_by=principal.subject,
            recorded_at=at,
            reason=reason,
        )
        .on_conflict_do_nothing()
        .returning(ServiceLink.office_code)
    )
    if made is None:
        return False
    await add_event(
        session,
        PersonServedAt(
            person_id=person.id,
            office_code=office.code,
            office_province_code=office.province_code,
            basis=basis.value,
            recorded_by=principal.subject,
            recorded_at=at,
        ),
    )
    await audit.record(
        session, principal, Action.SERVED_AT, [person.id], reason=reason, basis=basis.value
    )
    return True


async def record_visit(
    session: AsyncSession, person_id: uuid.UUID, principal: Principal, *, reason: str
) -> tuple[VisitRead, bool]:
    """The person came to the principal's office: from now on it serves them. Answers the
    visit and whether it made a new link."""
    office = await acting_office(session, principal)
    person = await find_person(session, person_id, lock=True)
    at = await clock_now(session)
    linked_now = await link(session, person, office, Basis.VISIT, principal, at=at, reason=reason)
    served_as = (
        "province"
        if not needs_link(person.province_code, office.province_code)
        else await serving_basis(session, person.id, office.code)
    )
    await audit.record(
        session, principal, Action.VISIT_RECORDED, [person.id], reason=reason, basis=served_as
    )
    visit = VisitRead(
        person_id=person.id,
        reference=person.reference,
        office_code=office.code,
        served_as=served_as,
        linked_now=linked_now,
        recorded_at=at,
    )
    return visit, linked_now


async def transfer(
    session: AsyncSession, person_id: uuid.UUID, principal: Principal, *, reason: str
) -> Person:
    """The person moved: their record moves to the principal's office and its province.

    Any office may take a person over, having recognised them (a card, a duplicate warning):
    the move is announced (PersonUpdated) and audited with the officer's reason.
    """
    office = await acting_office(session, principal)
    person = await find_person(session, person_id, lock=True)
    moved = {"province_code": office.province_code, "office_code": office.code}
    changed = [field for field, value in moved.items() if getattr(person, field) != value]
    if not changed:
        raise Conflict(f"{person.reference} is registered at your office already")
    # On what the office acted: its province's person, one it served, or only recognised.
    if sees_province(principal, person.province_code):
        basis = default_basis(principal)
    else:
        basis = await serving_basis(session, person.id, office.code) or "card"
    for field, value in moved.items():
        setattr(person, field, value)
    await announce_update(session, person, changed, principal)
    await audit.record(
        session,
        principal,
        Action.TRANSFERRED,
        [person.id],
        fields=sorted(changed),
        reason=reason,
        basis=basis,
    )
    audit.note_access(session, person.id, default_basis(principal) or "province")
    return person


async def _office(session: AsyncSession, code: str) -> OfficeInfo | None:
    """Registry's own office register first; the seed list for an office it has not yet."""
    if (found := await office_info(session, code)) is not None:
        return found
    seed = SEED_OFFICES.get(code)
    if seed is None:
        return None
    return OfficeInfo(seed.code, seed.province_code, True, seed.name_lo, seed.name_en)


async def apply_enrolment(
    session: AsyncSession,
    person_id: uuid.UUID,
    office_code: str,
    *,
    enrolled_by: str,
    at: datetime,
    reason: str,
) -> bool:
    """An enrolment in a session of `office_code`: that office serves the person from now on.
    False when nothing changed (its own province, linked before, a person registry does not
    hold, an unknown office)."""
    office = await _office(session, office_code)
    if office is None:
        log.warning("enrolment at an unknown office %s: no link recorded", office_code)
        return False
    try:
        person = await find_person(session, person_id, lock=True)
    except (NotFound, Gone):
        log.info("enrolment of a person registry does not hold (%s): ignored", person_id)
        return False
    # The officer who enrolled them, at the session's office: the audit names both.
    principal = Principal(subject=enrolled_by, roles=frozenset(), office=office.code)
    return await link(session, person, office, Basis.ENROLMENT, principal, at=at, reason=reason)
