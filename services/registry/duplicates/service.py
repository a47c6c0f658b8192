"""Finding the records a registration may duplicate: exact documents, then probable matches."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import Table, bindparam, or_, select, tuple_

from services.registry.duplicates.domain import Applicant, compare
from services.registry.people.models import IdentityDocument, Person
from shared.consumer.direct import Direct
from shared.reference.names import PersonName

if TYPE_CHECKING:
    import uuid
    from collections.abc import Sequence

    from sqlalchemy.ext.asyncio import AsyncSession

# Enough for the most common birth dates at national scale; more are not read.
MAX_CANDIDATES = 500
ACTIVE = "active"


_documents = cast("Table", IdentityDocument.__table__)
# Built once, with the document keys as one expanding parameter (see _candidates_statement).
_OWNER = (
    select(_documents.c.person_id, _documents.c.kind, _documents.c.number)
    .where(
        tuple_(_documents.c.kind, _documents.c.country, _documents.c.number).in_(
            bindparam("documents", expanding=True)
        )
    )
    .limit(1)
)
_OWNER_EXCLUDING = _OWNER.where(_documents.c.person_id != bindparam("exclude"))


async def document_owner(
    session: AsyncSession,
    documents: Sequence[tuple[str, str, str]],
    *,
    exclude: uuid.UUID | None = None,
) -> tuple[uuid.UUID, str, str] | None:
    """The person holding any of these (kind, country, number) documents, with the document."""
    if not documents:
        return None
    if exclude is None:
        result = await session.execute(_OWNER, {"documents": list(documents)})
    else:
        result = await session.execute(
            _OWNER_EXCLUDING, {"documents": list(documents), "exclude": exclude}
        )
    row = result.first()
    return (row[0], row[1], row[2]) if row else None


_people = cast("Table", Person.__table__)
_CANDIDATE_COLUMNS = select(
    _people.c.id,
    _people.c.reference,
    _people.c.province_code,
    _people.c.office_code,
    _people.c.given_name_lo,
    _people.c.family_name_lo,
    _people.c.given_name_en,
    _people.c.family_name_en,
    _people.c.date_of_birth,
    _people.c.phone,
    _people.c.sex,
)


@cache
def _candidates_statement(by_birth: bool, by_phone: bool, excluding: bool) -> Direct:
    """The candidate query for one combination of keys, built and compiled once and run on the
    transaction's connection (shared.consumer.direct): building, keying and running a statement
    through the session cost more than the query itself, on every registration."""
    keys = []
    if by_birth:
        keys.append(_people.c.date_of_birth == bindparam("date_of_birth"))
    if by_phone:
        keys.append(_people.c.phone == bindparam("phone"))
    statement = _CANDIDATE_COLUMNS.where(or_(*keys), _people.c.record_status == ACTIVE).limit(
        MAX_CANDIDATES
    )
    if excluding:
        statement = statement.where(_people.c.id != bindparam("exclude"))
    return Direct(statement)


@dataclass(frozen=True)
class Candidate:
    """A probable duplicate: `summary` (ids, office and scores, no names) is what is kept with
    a registration made anyway; `person` (the columns a card shows) is only for the officer's
    eyes, as a card, never stored."""

    summary: dict[str, Any]
    person: dict[str, Any]


async def probable_duplicates(
    session: AsyncSession, applicant: Applicant, *, exclude: uuid.UUID | None = None
) -> list[Candidate]:
    """Active records sharing the birth date or phone whose names match, best first."""
    by_birth, by_phone = applicant.date_of_birth is not None, applicant.phone is not None
    if not (by_birth or by_phone):
        return []
    statement = _candidates_statement(by_birth, by_phone, exclude is not None)
    params: dict[str, object] = {}
    if by_birth:
        params["date_of_birth"] = applicant.date_of_birth
    if by_phone:
        params["phone"] = applicant.phone
    if exclude is not None:
        params["exclude"] = exclude
    found = []
    for row in await statement.fetch(session, params):
        existing = Applicant(
            name=PersonName(row[4], row[5], row[6], row[7]),
            date_of_birth=row["date_of_birth"],
            phone=row["phone"],
        )
        match = compare(applicant, existing)
        if match.probable:
            summary = {
                "id": str(row["id"]),
                "reference": row["reference"],
                "province_code": row["province_code"],
                "office_code": row["office_code"],
                "score": match.score,
                "name_similarity": match.name_similarity,
                "same_date_of_birth": match.same_date_of_birth,
                "same_phone": match.same_phone,
            }
            found.append(Candidate(summary, dict(row.items())))
    found.sort(key=lambda c: c.summary["score"], reverse=True)
    return found
