"""HTTP routes for offices, and `Staff`: office staff scoped by their office's province."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query

from services.registry.offices import service
from services.registry.offices.schemas import OfficeCreate, OfficeList, OfficeRead
from shared.auth import Admin, OfficeStaff, Principal
from shared.db import SessionDep
from shared.idempotency import Answer, idempotent


async def _staff(principal: OfficeStaff, session: SessionDep) -> Principal:
    return await service.scoped(session, principal)


# Every registry route that touches people takes this: the scope comes from the office table.
Staff = Annotated[Principal, Depends(_staff)]

router = APIRouter(prefix="/v1/offices", tags=["offices"])


@router.get("", response_model=OfficeList)
async def list_offices(
    session: SessionDep,
    principal: Staff,
    province_code: Annotated[str | None, Query(max_length=6)] = None,
) -> OfficeList:
    offices = await service.list_offices(session, province_code)
    return OfficeList(items=[OfficeRead.model_validate(o) for o in offices])


@router.post("", status_code=201, response_model=OfficeRead)
@idempotent
async def create_office(
    body: OfficeCreate, session: SessionDep, principal: Admin
) -> Answer[OfficeRead]:
    """Open an office (admins only)."""
    office = await service.create_office(session, body)
    return Answer(201, OfficeRead.model_validate(office))
