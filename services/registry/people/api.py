"""HTTP routes for people: validate, call one operation, return."""

from __future__ import annotations

import uuid

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.registry.people import service
from services.registry.people.schemas import PersonCreate, PersonRead
from shared.app import SettingsDep
from shared.auth import OfficeStaff
from shared.db import SessionDep
from shared.idempotency import IdempotencyDep

router = APIRouter(prefix="/v1", tags=["people"])


@router.post("/jobseekers", status_code=201, response_model=PersonRead)
async def register_jobseeker(
    body: PersonCreate,
    session: SessionDep,
    principal: OfficeStaff,
    idempotency: IdempotencyDep,
    settings: SettingsDep,
) -> JSONResponse:
    """Register a jobseeker. Send an `Idempotency-Key` so a retry never registers twice."""
    if (replayed := await idempotency.replay(session)) is not None:
        return replayed
    person = await service.register_jobseeker(
        session, body, principal, minimum_age=settings.registry_min_age_jobseeker
    )
    return await idempotency.remember(session, 201, PersonRead.model_validate(person))


@router.get("/people/{person_id}", response_model=PersonRead)
async def get_person(
    person_id: uuid.UUID, session: SessionDep, principal: OfficeStaff
) -> PersonRead:
    return PersonRead.model_validate(await service.get_person(session, person_id, principal))
