"""Finding the records a registration may duplicate: exact documents, then probable matches."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.duplicates.domain import Applicant, compare
from services.registry.people.models import IdentityDocument, Person
from shared.reference.names import PersonName

# Enough for the most common birth dates at national scale; more are not read.
MAX_CANDIDATES = 500
ACTIVE = "active"


async def document_owner(
    session: AsyncSession,
    documents: Sequence[tuple[str, str, str]],
    *,
    exclude: uuid.UUID | None = None,
) -> tuple[uuid.UUID, str, str] | None:
    """The person holding any of these (kind, country, number) documents, with the document."""
    if not documents:
        return None
    statement = (
        select(IdentityDocument.person_id, IdentityDocument.kind, IdentityDocument.number)
        .where(
            tuple_(IdentityDocument.kind, IdentityDocument.country, IdentityDocument.number).in_(
                list(documents)
            )
        )
        .limit(1)
    )
    if exclude is not None:
        statement = statement.where(IdentityDocument.person_id != exclude)
    row = (await session.execute(statement)).first()
    return (row[0], row[1], row[2]) if row else None


async def probable_duplicates(
    session: AsyncSession, applicant: Applicant, *, exclude: uuid.UUID | None = None
) -> list[dict[str, Any]]:
    """Active records sharing the birth date or phone whose names match, best first.

    Candidates carry ids, reference, office and scores but no names: the officer may not be
    allowed to see a record of another province, only to know that it exists.
    """
    keys = []
    if applicant.date_of_birth is not None:
        keys.append(Person.date_of_birth == applicant.date_of_birth)
    if applicant.phone is not None:
        keys.append(Person.phone == applicant.phone)
    if not keys:
        return []
    statement = (
        select(
            Person.id,
            Person.reference,
            Person.province_code,
            Person.office_code,
            Person.given_name_lo,
            Person.family_name_lo,
            Person.given_name_en,
            Person.family_name_en,
            Person.date_of_birth,
            Person.phone,
        )
        .where(or_(*keys), Person.record_status == ACTIVE)
        .limit(MAX_CANDIDATES)
    )
    if exclude is not None:
        statement = statement.where(Person.id != exclude)
    found = []
    for row in (await session.execute(statement)).all():
        existing = Applicant(
            name=PersonName(row[4], row[5], row[6], row[7]),
            date_of_birth=row.date_of_birth,
            phone=row.phone,
        )
        match = compare(applicant, existing)
        if match.probable:
            found.append(
                {
                    "id": str(row.id),
                    "reference": row.reference,
                    "province_code": row.province_code,
                    "office_code": row.office_code,
                    "score": match.score,
                    "name_similarity": match.name_similarity,
                    "same_date_of_birth": match.same_date_of_birth,
                    "same_phone": match.same_phone,
                }
            )
    found.sort(key=lambda c: c["score"], reverse=True)
    return found
