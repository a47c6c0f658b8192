"""Lists and search of people: a page newest first within the principal's scope, and cards of
people outside it found by what they carry (reference, phone, document number)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, false, null, or_, select, union_all

from services.registry.audit import service as audit
from services.registry.audit.domain import Action
from services.registry.people import cards
from services.registry.people.domain import (
    AGE_BANDS,
    Identifiers,
    birth_dates_for_ages,
    identifiers_in,
    search_tokens,
)
from services.registry.people.models import IdentityDocument, Person
from services.registry.people.schemas import PersonCard, PersonSummary
from services.registry.scope import list_province, office_links, sees_province
from services.registry.serving.models import ServiceLink
from shared import clock
from shared.pagination import equal_if_given, newest_first, page_of
from shared.problems import InvalidField

if TYPE_CHECKING:
    from datetime import date

    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.auth import Principal


@dataclass(frozen=True)
class Filters:
    office_code: str | None = None
    province_code: str | None = None
    jobseeker_status: str | None = None
    sex: str | None = None
    age_band: str | None = None
    occupation: str | None = None
    migration_status: str | None = None
    q: str | None = None


_SUMMARY = tuple(getattr(Person, f) for f in PersonSummary.model_fields if hasattr(Person, f))

_CARD = tuple(getattr(Person, f) for f in cards.SHOWN if f not in PersonSummary.model_fields)


def _conditions(filters: Filters, today: date) -> list[Any]:
    """What the filters ask, but the scope and the search text."""
    conditions: list[Any] = [
        Person.record_status == "active",
        *equal_if_given(
            Person,
            office_code=filters.office_code,
            sex=filters.sex,
            jobseeker_status=filters.jobseeker_status,
            migration_status=filters.migration_status,
        ),
    ]
    if filters.occupation is not None:
        conditions.append(Person.occupation_codes.contains([filters.occupation]))
    if filters.age_band is not None:
        earliest, latest = birth_dates_for_ages(*AGE_BANDS[filters.age_band], today)
        conditions.append(Person.date_of_birth.between(earliest, latest))
    return conditions


def _carrying(found: Identifiers) -> Any:
    """People carrying one of these identifiers; a merged-away reference leads to the record
    that holds the person now, as paper and SMS quoting it may."""
    held = []
    if found.reference is not None:
        merged_into = select(Person.merged_into).where(Person.reference == found.reference)
        held += [Person.reference == found.reference, Person.id.in_(merged_into.scalar_subquery())]
    if found.phone is not None:
        held.append(Person.phone == found.phone)
    if found.document_number is not None:
        held.append(
            Person.id.in_(
                select(IdentityDocument.person_id).where(
                    IdentityDocument.number == found.document_number
                )
            )
        )
    return or_(*held)


def _served_here(principal: Principal) -> Any:
    """How the principal's office serves the person of the row (visit, enrolment), or null."""
    links = office_links(principal)
    return (
        select(ServiceLink.basis)
        .where(ServiceLink.person_id == Person.id, false() if links is None else links)
        .scalar_subquery()
        .label("served_basis")
    )


def _list_branches(filters: Filters, principal: Principal, today: date) -> list[Select[Any]]:
    """The queries whose rows, newest first, make the page: one per way of being in scope.

    Staff of a province see its people and, apart, the people of other provinces their office
    serves: two index-backed branches merged by the page, rather than one OR that no index
    serves.
    """
    conditions = _conditions(filters, today)
    if filters.q is not None and (found := identifiers_in(filters.q)):
        # What the person carries is exact: found in every province, cards for the others.
        if filters.province_code is not None:
            conditions.append(Person.province_code == filters.province_code)
        return [
            select(*_SUMMARY, *_CARD, _served_here(principal)).where(_carrying(found), *conditions)
        ]
    if filters.q is not None:
        tokens = search_tokens(filters.q)
        if not tokens:
            raise InvalidField("q", "has no letters to search for")
        conditions.append(Person.name_tokens.contains(tokens))
    province = list_province(principal, filters.province_code)
    if province is None:
        return [select(*_SUMMARY, null().label("served_basis")).where(*conditions)]
    branches = [
        select(*_SUMMARY, null().label("served_basis")).where(
            Person.province_code == province, *conditions
        )
    ]
    links = office_links(principal)
    if filters.province_code is None and links is not None:
        branches.append(
            select(*_SUMMARY, ServiceLink.basis.label("served_basis"))
            .join(ServiceLink, ServiceLink.person_id == Person.id)
            .where(links, Person.province_code != province, *conditions)
        )
    return branches


async def list_people(
    session: AsyncSession,
    filters: Filters,
    principal: Principal,
    *,
    cursor: str | None,
    limit: int,
    today: date | None = None,
) -> tuple[list[PersonSummary], str | None, list[PersonCard]]:
    """A page of people newest first, in the principal's scope, each listed one audited; a
    search by what the person carries also answers cards of people outside it (audited too)."""
    # Each branch is a page of its own, past the cursor; their union is ordered and cut again.
    branches = [
        newest_first(b, (Person.created_at, Person.id), after=cursor, limit=limit)
        for b in _list_branches(filters, principal, today or clock.today())
    ]
    if len(branches) == 1:
        statement = branches[0]
    else:
        merged = union_all(*branches).subquery()
        statement = newest_first(
            select(merged), (merged.c.created_at, merged.c.id), after=None, limit=limit
        )
    rows = (await session.execute(statement)).mappings().all()
    page, next_cursor = page_of(rows, limit, lambda row: (row["created_at"], row["id"]))
    items, shown = [], []
    for row in page:
        if row["served_basis"] is not None:
            audit.note_access(session, row["id"], row["served_basis"])
            items.append(PersonSummary.model_validate(dict(row)))
        elif sees_province(principal, row["province_code"]):
            items.append(PersonSummary.model_validate(dict(row)))
        else:  # only an exact lookup reaches here
            shown.append(await cards.card(session, row, outside_scope=True))
    await audit.record(session, principal, Action.LISTED, [i.id for i in items])
    await cards.record_shown(session, principal, shown, reason="lookup")
    return items, next_cursor, shown
