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
    """The principal with its province taken from its office, the source of truth for scope.

    National roles and admins see every province. Other staff must carry an office that exists
    and is active; a province claim in the token that disagrees with the office is refused.
    """
    if principal.sees_all_provinces:
        return principal
    if not principal.office:
        raise Forbidden("your token carries no office; ask an admin to assign one")
    found = await office_info(session, principal.office)
    if found is None or not found.active:
        raise Forbidden(f"office {principal.office} is unknown or closed")
    if principal.province is not None and principal.province != found.province_code:
        raise Forbidden(
            f"office {principal.office} is in {found.province_code}, not {principal.province}"
        )
    return dataclasses.replace(principal, province=found.province_code)


async def acting_office(session: AsyncSession, principal: Principal) -> OfficeInfo:
    """The open office the principal acts for (a visit is recorded there, a record moves
    there); 403 for a token without one."""
    found = await office_info(session, principal.office) if principal.office else None
    if found is None or not found.active:
        raise Forbidden("this is done at an office: your token carries no open office")
    return found


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
