"""HTTP routes for curricula: anyone who reads orientation records reads them; admins add
versions and activate them."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from services.predeparture.curricula import service
from services.predeparture.curricula.schemas import (
    CurriculumCreate,
    CurriculumList,
    CurriculumRead,
    CurriculumSummary,
)
from services.predeparture.scope import Reader
from shared.auth import Principal, Role, require_roles
from shared.db import SessionDep
from shared.idempotency import IdempotencyDep

router = APIRouter(prefix="/v1/curricula", tags=["curricula"])

Admin = Annotated[Principal, require_roles(Role.ADMIN)]


@router.get("", response_model=CurriculumList)
async def list_curricula(session: SessionDep, _: Reader) -> CurriculumList:
    """Every version, active first."""
    rows = await service.list_curricula(session)
    return CurriculumList(items=[CurriculumSummary.model_validate(c) for c in rows])


@router.get("/{curriculum_id}", response_model=CurriculumRead)
async def get_curriculum(
    curriculum_id: uuid.UUID, session: SessionDep, _: Reader
) -> CurriculumRead:
    """One version with its modules in order."""
    return await service.read(session, await service.get_curriculum(session, curriculum_id))


@router.post("", status_code=201, response_model=CurriculumRead)
async def create_version(
    body: CurriculumCreate, session: SessionDep, admin: Admin, idempotency: IdempotencyDep
) -> JSONResponse:
    """A new draft version of a curriculum code; it applies to sessions once activated."""
    if (replayed := await idempotency.replay(session)) is not None:
        return replayed
    curriculum = await service.create_version(session, body, by=admin.subject)
    return await idempotency.remember(session, 201, await service.read(session, curriculum))


@router.post("/{curriculum_id}/activation", response_model=CurriculumRead)
async def activate(
    curriculum_id: uuid.UUID, session: SessionDep, _: Admin, idempotency: IdempotencyDep
) -> JSONResponse:
    """Make a draft the active version of its code and retire the one active until now."""
    if (replayed := await idempotency.replay(session)) is not None:
        return replayed
    curriculum = await service.activate(session, curriculum_id)
    return await idempotency.remember(session, 200, await service.read(session, curriculum))
