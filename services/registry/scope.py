"""Who may see and do what in registry: the service's part of "Who sees what" in
docs/architecture.md, in one place.

- A staff token names an office; the office's province (table `offices`, cached a minute per
  process by offices/service.py) is the scope (`scoped`). National roles and admins see every
  province; other staff carry an open office, and a province claim that disagrees with it is
  refused. Visits and take-overs are done at the office the officer acts for
  (`acting_office`).
- A person is reached (`access_basis`) by staff of their province, national scope, and staff of
  an office that serves them: a row of `service_links` (a visit or an enrolment,
  `serving_basis`). Anyone else gets 403, or a card when they found the person by what the
  person carries (`sees_province`, `served_among`).
- A list of people holds the officer's province's people (`list_province`) and, apart, those
  their office serves (`office_links`).
- A registration, or a change of province, files the person in a province the officer may act
  in (`require_province`).
- Each audit entry names the basis of the access: the link, else `default_basis`.

Every feature asks these; none compares provinces or offices itself (tests/unit keeps it so).
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Awaitable, Callable, Collection
from typing import TYPE_CHECKING

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.registry.serving.models import ServiceLink
from shared.auth import Principal
from shared.problems import Forbidden

if TYPE_CHECKING:
    from services.registry.offices.service import OfficeInfo

# How an office is looked up by its code (offices/service.py: `office_info`, cached).
OfficeLookup = Callable[[str], Awaitable["OfficeInfo | None"]]


# -- the principal: scoped by its office's province -----------------------------------------


async def scoped(principal: Principal, office_of: OfficeLookup) -> Principal:
    """The principal with its province taken from its office, the source of truth for scope.

    National roles and admins see every province. Other staff must carry an office that exists
    and is active; a province claim in the token that disagrees with the office is refused.
    """
    if principal.sees_all_provinces:
        return principal
    if not principal.office:
        raise Forbidden("your token carries no office; ask an admin to assign one")
    found = await office_of(principal.office)
    if found is None or not found.active:
        raise Forbidden(f"office {principal.office} is unknown or closed")
    if principal.province is not None and principal.province != found.province_code:
        raise Forbidden(
            f"office {principal.office} is in {found.province_code}, not {principal.province}"
        )
    return dataclasses.replace(principal, province=found.province_code)


async def acting_office(principal: Principal, office_of: OfficeLookup) -> OfficeInfo:
    """The open office the principal acts for (a visit is recorded there, a record moves
    there); 403 for a token without one."""
    found = await office_of(principal.office) if principal.office else None
    if found is None or not found.active:
        raise Forbidden("this is done at an office: your token carries no open office")
    return found


# -- provinces -------------------------------------------------------------------------------


def sees_province(principal: Principal, province_code: str | None) -> bool:
    """Staff of the province, and national scope."""
    return principal.can_see_province(province_code)


def require_province(principal: Principal, province_code: str | None) -> None:
    principal.require_province(province_code)


def list_province(principal: Principal, asked: str | None) -> str | None:
    """The province a list of people is limited to: the asked one if the principal may see it,
    else their own; None for national scope unless it asks for one."""
    if asked is not None:
        principal.require_province(asked)
        return asked
    if principal.sees_all_provinces:
        return None
    if principal.province is None:
        raise Forbidden("your token carries no province")
    return principal.province


def default_basis(principal: Principal) -> str | None:
    """The basis of an action on a person the principal reached without a link: national scope
    or their own province; None for the services' own actions (events), which carry no role."""
    if not principal.roles:
        return None
    return "national" if principal.sees_all_provinces else "province"


# -- people an office serves -----------------------------------------------------------------


def office_links(principal: Principal) -> ColumnElement[bool] | None:
    """SQL condition on `service_links`: the links of the principal's office; None for a
    principal without an office."""
    if principal.office is None:
        return None
    return ServiceLink.office_code == principal.office


async def served_among(
    session: AsyncSession, principal: Principal, person_ids: Collection[uuid.UUID]
) -> set[uuid.UUID]:
    """Of these people, those the principal's office serves."""
    links = office_links(principal)
    if links is None or not person_ids:
        return set()
    found = await session.scalars(
        select(ServiceLink.person_id).where(ServiceLink.person_id.in_(person_ids), links)
    )
    return set(found.all())


async def serving_basis(
    session: AsyncSession, person_id: uuid.UUID, office_code: str | None
) -> str | None:
    """How `office_code` came to serve the person (visit, enrolment), or None."""
    if office_code is None:
        return None
    return await session.scalar(
        select(ServiceLink.basis).where(
            ServiceLink.person_id == person_id, ServiceLink.office_code == office_code
        )
    )


async def access_basis(
    session: AsyncSession, person_id: uuid.UUID, province_code: str, principal: Principal
) -> str | None:
    """On what basis the principal may reach the person (see "Who sees what" in
    docs/architecture.md); 403 when on none. The link is only looked up for staff of another
    province, so the common case costs no query."""
    if principal.can_see_province(province_code):
        return default_basis(principal)
    link = await serving_basis(session, person_id, principal.office)
    principal.require_serves(province_code, [principal.office] if link and principal.office else [])
    return link
