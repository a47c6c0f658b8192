"""Office operations, and the scope every registry request runs under."""

from __future__ import annotations

import dataclasses
import time
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import select

from services.registry import scope
from services.registry.offices.models import Office
from shared.problems import Conflict

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from services.registry.offices.schemas import OfficeCreate
    from shared.auth import Principal


@dataclasses.dataclass(frozen=True)
class OfficeInfo:
    """What requests need of an office: where it is, whether it is open, what it is called."""

    code: str
    province_code: str
    active: bool
    name_lo: str
    name_en: str


# Office code → (office, fetched at). Offices change a few times a year; a minute of staleness
# across API processes is worth one query less on every request.
_CACHE: dict[str, tuple[OfficeInfo, float]] = {}
CACHE_TTL_S = 60.0


async def office_info(session: AsyncSession, code: str) -> OfficeInfo | None:
    """The office `code`, from a cache of a minute; None when there is no such office."""
    cached = _CACHE.get(code)
    if cached is not None and time.monotonic() - cached[1] < CACHE_TTL_S:
        return cached[0]
    office = await session.get(Office, code)
    if office is None:
        return None
    info = OfficeInfo(
        office.code, office.province_code, office.active, office.name_lo, office.name_en
    )
    _CACHE[code] = (info, time.monotonic())
    return info


async def scoped(session: AsyncSession, principal: Principal) -> Principal:
    """The principal with its province taken from its office (scope.scoped)."""
    return await scope.scoped(principal, partial(office_info, session))


async def acting_office(session: AsyncSession, principal: Principal) -> OfficeInfo:
    """The open office the principal acts for (scope.acting_office)."""
    return await scope.acting_office(principal, partial(office_info, session))


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
