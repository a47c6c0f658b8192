"""Office operations, and the scope every registry request runs under."""

from __future__ import annotations

import dataclasses
import time

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.offices.models import Office
from services.registry.offices.schemas import OfficeCreate
from shared.auth import Principal
from shared.problems import Conflict, Forbidden

# Office code → (province, active, fetched at). Offices change a few times a year; a minute of
# staleness across API processes is worth one query less on every request.
_CACHE: dict[str, tuple[str, bool, float]] = {}
CACHE_TTL_S = 60.0


async def _office_province(session: AsyncSession, code: str) -> tuple[str, bool] | None:
    cached = _CACHE.get(code)
    if cached is not None and time.monotonic() - cached[2] < CACHE_TTL_S:
        return cached[0], cached[1]
    office = await session.get(Office, code)
    if office is None:
        return None
    _CACHE[code] = (office.province_code, office.active, time.monotonic())
    return office.province_code, office.active


async def scoped(session: AsyncSession, principal: Principal) -> Principal:
    """The principal with its province taken from its office, the source of truth for scope.

    National roles and admins see every province. Other staff must carry an office that exists
    and is active; a province claim in the token that disagrees with the office is refused.
    """
    if principal.sees_all_provinces:
        return principal
    if not principal.office:
        raise Forbidden("your token carries no office; ask an admin to assign one")
    found = await _office_province(session, principal.office)
    if found is None or not found[1]:
        raise Forbidden(f"office {principal.office} is unknown or closed")
    province, _ = found
    if principal.province is not None and principal.province != province:
        raise Forbidden(f"office {principal.office} is in {province}, not {principal.province}")
    return dataclasses.replace(principal, province=province)


async def create_office(session: AsyncSession, data: OfficeCreate) -> Office:
    if await session.get(Office, data.code) is not None:
        raise Conflict(f"office {data.code} exists", field="code")
    office = Office(**data.model_dump(), active=True)
    session.add(office)
    await session.flush()
    await session.refresh(office)
    return office


async def list_offices(session: AsyncSession, province_code: str | None) -> list[Office]:
    query = select(Office).order_by(Office.code)
    if province_code:
        query = query.where(Office.province_code == province_code)
    return list((await session.scalars(query)).all())


async def office_exists(session: AsyncSession, code: str) -> bool:
    return await _office_province(session, code) is not None
