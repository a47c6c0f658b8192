"""HTTP routes for curricula: anyone who reads orientation records reads them; admins add
versions and activate them."""

from __future__ import annotations

import uuid

from fastapi import APIRouter

from services.predeparture.curricula import service
from services.predeparture.curricula.schemas import (
    CurriculumCreate,
    CurriculumList,
    CurriculumRead,
    CurriculumSummary,
)
from shared.auth import Admin, Reader
from shared.db import SessionDep
from shared.idempotency import Answer, idempotent

router = APIRouter(prefix="/v1/curricula", tags=["curricula"])


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
@idempotent
async def create_version(
    body: CurriculumCreate, session: SessionDep, admin: Admin
) -> Answer[CurriculumRead]:
    """A new draft version of a curriculum code; it applies to sessions once activated."""
    curriculum = await service.create_version(session, body, by=admin.subject)
    return Answer(201, await service.read(session, curriculum))


@router.post("/{curriculum_id}/activation", response_model=CurriculumRead)
@idempotent
async def activate(
    curriculum_id: uuid.UUID, session: SessionDep, _: Admin
) -> Answer[CurriculumRead]:
    """Make a draft the active version of its code and retire the one active until now."""
    curriculum = await service.activate(session, curriculum_id)
    return Answer(200, await service.read(session, curriculum))
