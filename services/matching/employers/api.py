"""HTTP routes for employers: office staff of its province record and change one, every officer
and analyst reads them."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from services.matching.employers import service
from services.matching.employers.schemas import (
    EmployerCreate,
    EmployerPage,
    EmployerRead,
    EmployerUpdate,
)
from services.matching.scope import ActorDep
from shared.auth import Reader
from shared.db import SessionDep
from shared.idempotency import Answer, idempotent
from shared.problems import FieldError, InvalidFields
from shared.reference.isic import validate_isic_section
from shared.reference.places import validate_province
from shared.versioning import etag, parse_if_match

# Employers are business data, not personal data: every officer and analyst reads them (Reader).
router = APIRouter(prefix="/v1/employers", tags=["employers"])


def _checked(
    field: str, value: str | None, validate: Callable[[str], str], errors: list[FieldError]
) -> str | None:
    """A query parameter checked against reference data; what is unknown joins `errors`."""
    if value is None:
        return None
    try:
        return validate(value)
    except ValueError as exc:
        errors.append(FieldError(field, str(exc)))
        return None


@router.post("", status_code=201, response_model=EmployerRead)
@idempotent
async def create_employer(
    body: EmployerCreate, session: SessionDep, actor: ActorDep
) -> Answer[EmployerRead]:
    """Register an employer of your province (office staff); 409 naming `registration_number`
    when it is already registered."""
    employer = await service.create_employer(session, body, actor)
    return Answer(201, EmployerRead.model_validate(employer))


@router.get("", response_model=EmployerPage)
async def list_employers(
    session: SessionDep,
    principal: Reader,
    province_code: Annotated[str | None, Query(max_length=6)] = None,
    isic_section: Annotated[str | None, Query(max_length=1)] = None,
    q: Annotated[str | None, Query(min_length=1, max_length=100, description="Name contains")] = (
        None
    ),
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> EmployerPage:
    """Employers newest first, one page at a time."""
    errors: list[FieldError] = []
    filters = service.Filters(
        province_code=_checked("province_code", province_code, validate_province, errors),
        isic_section=_checked("isic_section", isic_section, validate_isic_section, errors),
        q=q,
    )
    if errors:
        raise InvalidFields(errors)
    rows, following = await service.list_employers(session, filters, cursor=cursor, limit=limit)
    return EmployerPage(items=[EmployerRead.model_validate(e) for e in rows], next_cursor=following)


@router.get("/{employer_id}", response_model=EmployerRead)
async def get_employer(
    employer_id: uuid.UUID, session: SessionDep, principal: Reader, response: Response
) -> EmployerRead:
    employer = await service.get_employer(session, employer_id)
    response.headers["ETag"] = etag(employer.version)
    return EmployerRead.model_validate(employer)


@router.patch("/{employer_id}", response_model=EmployerRead)
async def update_employer(
    employer_id: uuid.UUID,
    body: EmployerUpdate,
    session: SessionDep,
    actor: ActorDep,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> EmployerRead:
    """Change the fields sent (staff of the employer's province). Send `If-Match` with the ETag
    read so no one's edit is lost."""
    employer = await service.update_employer(
        session, employer_id, body, actor, expected_version=parse_if_match(if_match)
    )
    response.headers["ETag"] = etag(employer.version)
    return EmployerRead.model_validate(employer)
