"""People operations: one transaction each, state and outbox event written together."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.people.domain import check_minimum_age, new_reference
from services.registry.people.models import Person
from services.registry.people.schemas import PersonCreate
from shared.auth import Principal
from shared.events.registry import PersonRegistered
from shared.outbox import add_event
from shared.problems import NotFound

_people = cast(Table, Person.__table__)
_INSERT_PERSON = insert(_people)


def _column_values(person: Person) -> dict[str, object]:
    return {column.key: getattr(person, column.key) for column in _people.columns}


async def register_jobseeker(
    session: AsyncSession,
    data: PersonCreate,
    principal: Principal,
    *,
    minimum_age: int,
    today: date | None = None,
) -> Person:
    """Register a person as a jobseeker and announce it."""
    principal.require_province(data.province_code)
    check_minimum_age(data.date_of_birth, today or datetime.now(UTC).date(), minimum_age)
    person = Person(
        id=uuid.uuid4(),
        reference=new_reference(),
        office_code=data.office_code or principal.office,
        registered_by=principal.subject,
        created_at=datetime.now(UTC),
        **data.model_dump(exclude={"office_code"}),
    )
    # A Core insert of the new row: the unit of work's bookkeeping for an object nobody changes
    # afterwards was the largest single cost of a registration.
    await session.execute(_INSERT_PERSON, _column_values(person))
    await add_event(
        session,
        PersonRegistered(
            person_id=person.id,
            reference=person.reference,
            given_name_lo=person.given_name_lo,
            family_name_lo=person.family_name_lo,
            given_name_en=person.given_name_en,
            family_name_en=person.family_name_en,
            sex=data.sex,
            date_of_birth=person.date_of_birth,
            phone=person.phone,
            province_code=person.province_code,
            office_code=person.office_code,
            preferred_language=data.preferred_language,
            registered_by=person.registered_by,
            registered_at=person.created_at,
        ),
    )
    return person


async def get_person(
    session: AsyncSession, person_id: uuid.UUID, principal: Principal, *, lock: bool = False
) -> Person:
    """A person the principal may see; 404 for unknown, 403 outside their scope.

    `lock` holds the person's row until the transaction ends, so that changes that depend on
    the person's current state (consent, lifecycle) are made one after the other.
    """
    person = await session.get(Person, person_id, with_for_update=lock)
    if person is None:
        raise NotFound(f"no person {person_id}")
    principal.require_province(person.province_code)
    return person
