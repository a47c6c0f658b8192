"""Changing a person's record: the fields sent, checked against the record as it stands."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

from sqlalchemy import delete

from services.registry.audit import service as audit
from services.registry.audit.domain import Action
from services.registry.jobseekers import service as jobseekers
from services.registry.jobseekers.models import JobseekerProfile
from services.registry.offices.service import office_info
from services.registry.people.domain import age_errors
from services.registry.people.duplicate_warnings import refuse_known_documents
from services.registry.people.models import IdentityDocument, Person
from services.registry.people.record_fields import apply_sent, derive
from services.registry.people.records import announce_update, documents_of, get_person
from services.registry.people.registration import INSERT_DOCUMENT
from services.registry.scope import require_province, sees_province
from shared import clock
from shared.problems import FieldError, InvalidFields
from shared.versioning import check_version

if TYPE_CHECKING:
    from datetime import date

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.registry.people.schemas import IdentityDocumentIn, PersonUpdate
    from shared.auth import Principal


async def _update_errors(
    session: AsyncSession,
    person: Person,
    data: PersonUpdate,
    principal: Principal,
    minimum_age: int,
    today: date | None,
) -> list[FieldError]:
    """Every rule the change breaks, against the record as it stands."""
    errors = [
        FieldError(required, "cannot be removed")
        for required in ("sex", "date_of_birth", "province_code", "preferred_language")
        if required in data.model_fields_set and getattr(data, required) is None
    ]
    named = {
        f: getattr(data, f) if f in data.model_fields_set else getattr(person, f)
        for f in ("given_name_lo", "given_name_en")
    }
    if not any(named.values()):
        errors.append(
            FieldError(
                "given_name_lo" if "given_name_lo" in data.model_fields_set else "given_name_en",
                "given_name_lo or given_name_en is required",
            )
        )
    if data.date_of_birth is not None and data.date_of_birth != person.date_of_birth:
        errors += age_errors(data.date_of_birth, today or clock.today(), minimum_age)
    if (
        data.province_code is not None
        and data.province_code != person.province_code
        and sees_province(principal, data.province_code)  # else 403 below
        and (held_by := await office_info(session, person.office_code or "")) is not None
        and held_by.province_code != data.province_code
    ):
        # The record's office stays: another province would file the person under an office
        # of another province. Someone who moved is taken over by their new office.
        errors.append(
            FieldError(
                "province_code",
                f"the record is held by {held_by.code}, in {held_by.province_code}: a person who"
                f" moved is taken over by an office of {data.province_code}"
                f" (POST /v1/people/{person.reference}/transfer)",
            )
        )
    return errors


async def update_person(
    session: AsyncSession,
    person_id: uuid.UUID,
    data: PersonUpdate,
    principal: Principal,
    *,
    expected_version: int | None,
    minimum_age: int,
    today: date | None = None,
) -> Person:
    """Change the fields sent; 412 when `expected_version` (If-Match) is not the current one."""
    person = await get_person(session, person_id, principal, lock=True)
    check_version(person.version, expected_version)
    errors = await _update_errors(session, person, data, principal, minimum_age, today)
    if errors:
        raise InvalidFields(errors)
    if data.province_code is not None:
        require_province(principal, data.province_code)
    changed = apply_sent(person, data)
    if data.documents is not None and await _replace_documents(session, person, data.documents):
        changed.append("documents")
    profile = await session.get(JobseekerProfile, person.id)
    if data.jobseeker is not None and await jobseekers.update_profile(
        session, person.id, profile, data.jobseeker
    ):
        changed.append("jobseeker")
        profile = await session.get(JobseekerProfile, person.id)
    if not changed:  # nothing to change, but the record is answered: a read
        await audit.record(session, principal, Action.READ, [person.id], reason=data.reason)
        return person
    derive(person, list(profile.desired_occupations) if profile else [])
    await announce_update(session, person, changed, principal)
    await audit.record(
        session, principal, Action.UPDATED, [person.id], fields=sorted(changed), reason=data.reason
    )
    return person


async def _replace_documents(
    session: AsyncSession, person: Person, documents: list[IdentityDocumentIn]
) -> bool:
    current = {
        (d.kind, d.country, d.number, d.issued_on, d.expires_on)
        for d in await documents_of(session, person.id)
    }
    wanted = {(d.kind, d.country, d.number, d.issued_on, d.expires_on) for d in documents}
    if current == wanted:
        return False
    await refuse_known_documents(session, documents, exclude=person.id)
    await session.execute(delete(IdentityDocument).where(IdentityDocument.person_id == person.id))
    if documents:
        await session.execute(
            INSERT_DOCUMENT,
            [{"id": uuid.uuid4(), "person_id": person.id, **d.model_dump()} for d in documents],
        )
    return True
