"""Employer operations: the job bank's record of who brings domestic vacancies."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from services.matching.employers.domain import name_pattern
from services.matching.employers.models import Employer
from shared.db import clock_now
from shared.pagination import equal_if_given, newest_first, page_of
from shared.problems import Conflict, FieldError, InvalidFields, NotFound
from shared.versioning import check_version

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from services.matching.employers.schemas import EmployerCreate, EmployerUpdate
    from services.matching.scope import Actor

REQUIRED = ("name", "registration_number", "isic_section", "province_code")


class RegistrationNumberTaken(Conflict):
    slug, title = "duplicate-registration-number", "Employer already registered"


async def _refuse_taken(
    session: AsyncSession, number: str, exclude: uuid.UUID | None = None
) -> None:
    existing = await session.scalar(
        select(Employer.id).where(Employer.registration_number == number)
    )
    if existing is not None and existing != exclude:
        raise RegistrationNumberTaken(
            f"an employer with registration number {number} is registered",
            field="registration_number",
            existing_id=str(existing),
        )


async def _flush_unique(session: AsyncSession, number: str) -> None:
    """Flush, turning a registration number taken meanwhile by a concurrent request into 409."""
    try:
        await session.flush()
    except IntegrityError as exc:
        raise RegistrationNumberTaken(
            f"an employer with registration number {number} is registered",
            field="registration_number",
        ) from exc


async def create_employer(session: AsyncSession, data: EmployerCreate, actor: Actor) -> Employer:
    """Register an employer of the officer's province; 409 naming `registration_number` when it
    is already registered."""
    actor.require_employer(data.province_code)
    await _refuse_taken(session, data.registration_number)
    now = await clock_now(session)
    employer = Employer(
        id=uuid.uuid4(),
        **data.model_dump(),
        office_code=actor.principal.office,
        created_by=actor.subject,
        created_at=now,
        updated_at=now,
        version=1,
    )
    session.add(employer)
    await _flush_unique(session, data.registration_number)
    return employer


async def get_employer(
    session: AsyncSession, employer_id: uuid.UUID, *, lock: bool = False
) -> Employer:
    """An employer by id; 404 when unknown. Employers are business data every officer sees."""
    employer = await session.get(
        Employer, employer_id, with_for_update=lock, populate_existing=lock
    )
    if employer is None:
        raise NotFound(f"no employer {employer_id}")
    return employer


async def update_employer(
    session: AsyncSession,
    employer_id: uuid.UUID,
    data: EmployerUpdate,
    actor: Actor,
    *,
    expected_version: int | None,
) -> Employer:
    """Change the fields sent (staff of the employer's province, moving it only to a province of
    theirs); 412 when `expected_version` (If-Match) is not the current one."""
    employer = await get_employer(session, employer_id, lock=True)
    actor.require_employer(employer.province_code)
    check_version(employer.version, expected_version)
    changes = data.model_dump(exclude_unset=True)
    if changes.get("province_code") is not None:
        actor.require_employer(changes["province_code"])
    removed = [f for f in REQUIRED if f in changes and changes[f] is None]
    if removed:
        raise InvalidFields([FieldError(f, "cannot be removed", "missing") for f in removed])
    changed = {f: v for f, v in changes.items() if getattr(employer, f) != v}
    if not changed:
        return employer
    if "registration_number" in changed:
        await _refuse_taken(session, changed["registration_number"], exclude=employer.id)
    for field, value in changed.items():
        setattr(employer, field, value)
    employer.version += 1
    employer.updated_at = await clock_now(session)
    await _flush_unique(session, employer.registration_number)
    return employer


@dataclass(frozen=True)
class Filters:
    province_code: str | None = None
    isic_section: str | None = None
    q: str | None = None


async def list_employers(
    session: AsyncSession, filters: Filters, *, cursor: str | None, limit: int
) -> tuple[list[Employer], str | None]:
    """A page of employers newest first, and the cursor of the next page if there is one."""
    query = select(Employer).where(
        *equal_if_given(
            Employer, province_code=filters.province_code, isic_section=filters.isic_section
        )
    )
    if filters.q is not None:
        query = query.where(Employer.name.ilike(name_pattern(filters.q), escape="\\"))
    query = newest_first(query, (Employer.created_at, Employer.id), after=cursor, limit=limit)
    rows = (await session.scalars(query)).all()
    return page_of(rows, limit, lambda e: (e.created_at, e.id))
