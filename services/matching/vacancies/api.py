"""HTTP routes for vacancies: domestic jobs and overseas demand letters, and their lifecycle."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response

from services.matching.scope import ActorDep
from services.matching.vacancies import lifecycle, reading, service
from services.matching.vacancies.domain import Kind, VacancyStatus
from services.matching.vacancies.schemas import (
    VacancyCreate,
    VacancyPage,
    VacancyRead,
    VacancyStatusIn,
    VacancyUpdate,
)
from shared import clock
from shared.db import SessionDep
from shared.idempotency import Answer, idempotent
from shared.problems import InvalidField
from shared.reference.places import validate_province
from shared.versioning import etag, parse_if_match

router = APIRouter(prefix="/v1/vacancies", tags=["vacancies"])


@router.post("", status_code=201, response_model=VacancyRead)
@idempotent
async def create_vacancy(
    body: VacancyCreate, session: SessionDep, actor: ActorDep
) -> Answer[VacancyRead]:
    """Record a draft: a domestic job (office staff) or a demand letter (an agency, or staff
    for it). Every bad field is named in one 422; fees charged to the worker make it
    `worker-fees-not-allowed`."""
    vacancy = await service.create_vacancy(session, body, actor, today=clock.today())
    return Answer(201, reading.to_read(vacancy), headers={"ETag": etag(vacancy.version)})


@router.get("", response_model=VacancyPage)
async def list_vacancies(
    session: SessionDep,
    actor: ActorDep,
    status: VacancyStatus | None = None,
    kind: Kind | None = None,
    province_code: Annotated[str | None, Query(max_length=6)] = None,
    agency_id: uuid.UUID | None = None,
    employer_id: uuid.UUID | None = None,
    isco08: Annotated[
        str | None, Query(pattern=r"^[0-9]{1,4}$", description="ISCO-08 code or its prefix")
    ] = None,
    cursor: Annotated[str | None, Query(max_length=200)] = None,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> VacancyPage:
    """The vacancies the caller may see, newest first: every published one (the job bank is
    national) and the drafts of their province; an agency only its own."""
    if province_code is not None:
        try:
            province_code = validate_province(province_code)
        except ValueError as exc:
            raise InvalidField("province_code", str(exc)) from exc
    filters = reading.Filters(
        status=status,
        kind=kind,
        province_code=province_code,
        agency_id=agency_id,
        employer_id=employer_id,
        isco08=isco08,
    )
    rows, following = await reading.list_vacancies(
        session, filters, actor, cursor=cursor, limit=limit
    )
    return VacancyPage(items=[reading.to_read(v) for v in rows], next_cursor=following)


@router.get("/{vacancy_id}", response_model=VacancyRead)
async def get_vacancy(
    vacancy_id: uuid.UUID, session: SessionDep, actor: ActorDep, response: Response
) -> VacancyRead:
    """Any office's staff read a published vacancy; a draft its province's staff and its
    agency."""
    vacancy = await reading.get_vacancy(session, vacancy_id, actor)
    response.headers["ETag"] = etag(vacancy.version)
    return reading.to_read(vacancy)


@router.patch("/{vacancy_id}", response_model=VacancyRead)
async def update_vacancy(
    vacancy_id: uuid.UUID,
    body: VacancyUpdate,
    session: SessionDep,
    actor: ActorDep,
    response: Response,
    if_match: Annotated[str | None, Header()] = None,
) -> VacancyRead:
    """Change a draft's terms; once published only the description, the closing date and
    more positions. Staff of the vacancy's province (and its agency for a demand letter's
    draft). Every bad field is named in one 422. Send `If-Match` with the ETag read so no
    one's edit is lost."""
    vacancy = await service.update_vacancy(
        session,
        vacancy_id,
        body,
        actor,
        expected_version=parse_if_match(if_match),
        today=clock.today(),
    )
    response.headers["ETag"] = etag(vacancy.version)
    return reading.to_read(vacancy)


@router.post("/{vacancy_id}/status", response_model=VacancyRead)
@idempotent
async def change_status(
    vacancy_id: uuid.UUID,
    body: VacancyStatusIn,
    session: SessionDep,
    actor: ActorDep,
) -> Answer[VacancyRead]:
    """draft → published (officers; an agency's licence is checked again) or closed;
    published → filled or closed. Pauses follow the agency's licence, expiry the calendar.

    An invalid change answers 409 with `current_status` and the `allowed` next states.
    """
    vacancy = await lifecycle.change_status(session, vacancy_id, body, actor, today=clock.today())
    return Answer(200, reading.to_read(vacancy))
