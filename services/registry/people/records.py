"""A person's record as every feature reaches it: found through merges, within the principal's
scope (`get_person`), read whole, and announced after a change."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, func, select

from services.registry.audit import service as audit
from services.registry.audit.domain import Action
from services.registry.jobseekers import service as jobseekers
from services.registry.jobseekers.models import JobseekerProfile
from services.registry.keys import service as person_keys
from services.registry.people.domain import SCALAR_FIELDS
from services.registry.people.models import IdentityDocument, Person
from services.registry.people.schemas import DocumentRead, PersonRead
from services.registry.scope import access_basis
from shared.db import clock_now
from shared.events.registry import PersonUpdated
from shared.problems import NotFound, Problem

if TYPE_CHECKING:
    import uuid
    from collections.abc import Mapping
    from datetime import date

    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.auth import Principal

_people = cast("Table", Person.__table__)

# Fields of the record that are personal data: emptied on erasure and on the merged-away copy.
PERSONAL = (
    *(f for f in SCALAR_FIELDS if f not in {"sex", "province_code", "preferred_language"}),
    "disability",
    "has_disability",
    "isced_level",
    "skills",
    "certificates",
    "languages",
    "experience",
    "name_tokens",
    "occupation_codes",
    "duplicate_override",
)


class Gone(Problem):
    status, slug, title = 410, "erased", "Erased"


async def find_person(session: AsyncSession, person_id: uuid.UUID, *, lock: bool = False) -> Person:
    """The record that holds `person_id` now, whoever asks: 404 for unknown, 410 erased.

    A merged-away id leads to the survivor, so links and paper forms quoting it keep working.
    Only for what any office may do with someone it cannot see yet (record a visit, take the
    record over); everything else goes through `get_person`.
    """
    person = await _following_merges(session, person_id, lock)
    if person.record_status == "erased":
        raise Gone(f"person {person_id} was erased on request")
    return person


async def _following_merges(session: AsyncSession, person_id: uuid.UUID, lock: bool) -> Person:
    person = await session.get(Person, person_id, with_for_update=lock)
    for _ in range(5):  # merges chain rarely; a bound keeps a bad chain from looping
        if person is None or person.merged_into is None:
            break
        person = await session.get(Person, person.merged_into, with_for_update=lock)
    if person is None:
        raise NotFound(f"no person {person_id}")
    return person


async def get_person(
    session: AsyncSession, person_id: uuid.UUID, principal: Principal, *, lock: bool = False
) -> Person:
    """A person the principal may see; 404 for unknown, 403 outside their scope, 410 erased.

    The scope is the person's province, national scope, or an office serving the person (a
    visit or an enrolment recorded there): the basis is noted so that every audit entry of
    this transaction about the person names it. A merged-away id leads to the survivor.
    `lock` holds the person's row until the transaction ends, so that changes that depend on
    the person's current state (consent, lifecycle) are made one after the other.
    """
    person = await _following_merges(session, person_id, lock)
    basis = await access_basis(session, person.id, person.province_code, principal)
    if person.record_status == "erased":
        raise Gone(f"person {person_id} was erased on request")
    if basis is not None:
        audit.note_access(session, person.id, basis)
    return person


async def person_by_reference(session: AsyncSession, reference: str) -> uuid.UUID:
    """The id of the record with this reference (merged-away or not); 404 when none."""
    found = await session.scalar(select(Person.id).where(Person.reference == reference))
    if found is None:
        raise NotFound(f"no person {reference}")
    return found


async def documents_of(session: AsyncSession, person_id: uuid.UUID) -> list[IdentityDocument]:
    rows = await session.scalars(
        select(IdentityDocument)
        .where(IdentityDocument.person_id == person_id)
        .order_by(IdentityDocument.kind, IdentityDocument.number)
    )
    return list(rows.all())


async def to_read(session: AsyncSession, person: Person) -> PersonRead:
    documents = await documents_of(session, person.id)
    profile = await session.get(JobseekerProfile, person.id)
    return PersonRead.model_validate(
        {
            **column_values(person),
            "documents": [DocumentRead.model_validate(d) for d in documents],
            "jobseeker": jobseekers.profile_dict(profile) if profile else None,
        }
    )


async def read_person(
    session: AsyncSession, person_id: uuid.UUID, principal: Principal, *, reason: str | None
) -> PersonRead:
    """The whole record, logged in the audit trail as read by the principal."""
    person = await get_person(session, person_id, principal)
    await audit.record(session, principal, Action.READ, [person.id], reason=reason)
    return await to_read(session, person)


def column_values(person: Person) -> dict[str, Any]:
    return {column.key: getattr(person, column.key) for column in _people.columns}


async def stored_passport_expiry(session: AsyncSession, person_id: uuid.UUID) -> date | None:
    """The expiry of the person's latest registered passport, in one cheap query."""
    return await session.scalar(
        select(func.max(IdentityDocument.expires_on)).where(
            IdentityDocument.person_id == person_id, IdentityDocument.kind == "passport"
        )
    )


def snapshot(
    record: Mapping[str, Any], profile: dict[str, Any] | None, passport_expires_on: date | None
) -> dict[str, Any]:
    """The record (its column values) as events carry it: everything but identity documents
    and internal keys.

    Of the documents only the latest passport's expiry travels (matching ranks readiness to
    depart by it); numbers stay in registry.
    """
    return {
        "person_id": record["id"],
        "reference": record["reference"],
        "given_name_lo": record["given_name_lo"],
        "family_name_lo": record["family_name_lo"],
        "given_name_en": record["given_name_en"],
        "family_name_en": record["family_name_en"],
        "sex": record["sex"],
        "date_of_birth": record["date_of_birth"],
        "phone": record["phone"],
        "email": record["email"],
        "ethnicity": record["ethnicity"],
        "has_disability": record["has_disability"],
        "province_code": record["province_code"],
        "district": record["district"],
        "village": record["village"],
        "office_code": record["office_code"],
        "preferred_language": record["preferred_language"],
        "isced_level": record["isced_level"],
        "skills": record["skills"] or [],
        "certificates": record["certificates"] or [],
        "languages": record["languages"] or [],
        "experience": record["experience"] or [],
        "jobseeker": profile,
        "passport_expires_on": passport_expires_on,
    }


async def announce_update(
    session: AsyncSession, person: Person, changed: list[str], principal: Principal
) -> None:
    """Bump the version and publish the record after a change, with what changed."""
    person.version += 1
    person.updated_at = await clock_now(session)
    await session.flush()
    profile = await session.get(JobseekerProfile, person.id)
    await person_keys.announce(
        session,
        PersonUpdated(
            **snapshot(
                column_values(person),
                jobseekers.profile_dict(profile) if profile else None,
                await stored_passport_expiry(session, person.id),
            ),
            changed_fields=sorted(changed),
            record_version=person.version,
            updated_by=principal.subject,
            updated_at=person.updated_at,
        ),
    )
