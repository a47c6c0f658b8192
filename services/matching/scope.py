"""Who may see which vacancies and referrals: the province of an officer, the agency of an agent.

Every route that reads or changes a vacancy, referral or placement takes `Actor` and asks it;
queries that list take `Actor.vacancy_filter()` so that the rule lives in one place.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import Depends
from sqlalchemy import ColumnElement, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.agencies.models import Agency
from shared.auth import Principal, Role, require_roles
from shared.db import SessionDep
from shared.problems import Forbidden


@dataclass(frozen=True)
class Actor:
    """A principal with what matching scopes it by: a province, an agency, or everything."""

    principal: Principal
    agency_id: uuid.UUID | None = None

    @property
    def subject(self) -> str:
        return self.principal.subject

    @property
    def is_agency(self) -> bool:
        return self.agency_id is not None

    @property
    def national(self) -> bool:
        return not self.is_agency and self.principal.sees_all_provinces

    def can_see(self, *, province_code: str | None, agency_id: uuid.UUID | None) -> bool:
        """A vacancy (or a referral to it) is visible to its agency and to staff of its province."""
        if self.is_agency:
            return agency_id == self.agency_id
        return self.principal.can_see_province(province_code)

    def require(self, *, province_code: str | None, agency_id: uuid.UUID | None) -> None:
        if not self.can_see(province_code=province_code, agency_id=agency_id):
            raise Forbidden(
                "this belongs to another agency"
                if self.is_agency
                else f"outside your scope (province {self.principal.province or 'none'})"
            )

    def require_staff(self) -> None:
        """Decisions only officers of the network take (publishing, placing, supervising)."""
        if self.is_agency or not self.principal.has_any(Role.ESC_STAFF, Role.MRC_STAFF, Role.ADMIN):
            raise Forbidden("only office staff can do this")

    def filter(self, province: Any, agency: Any, *extra_provinces: Any) -> ColumnElement[bool]:
        """SQL condition for lists: rows whose province (or agency) this actor may see."""
        if self.is_agency:
            return agency == self.agency_id
        if self.national:
            return true()
        mine = self.principal.province
        return or_(province == mine, *(p == mine for p in extra_provinces))


async def resolve(session: AsyncSession, principal: Principal) -> Actor:
    """The actor for a principal: agents act for the agency named in their token's `agency`."""
    if Role.AGENCY in principal.roles and not principal.has_any(
        Role.ESC_STAFF, Role.MRC_STAFF, Role.ADMIN
    ):
        if not principal.agency:
            raise Forbidden("your token carries no agency code")
        agency_id = await session.scalar(select(Agency.id).where(Agency.code == principal.agency))
        if agency_id is None:
            raise Forbidden(f"agency {principal.agency} is not registered")
        return Actor(principal, agency_id)
    if not principal.sees_all_provinces and not principal.province:
        raise Forbidden("your token carries no province; ask an admin to assign an office")
    return Actor(principal)


_Caller = Annotated[
    Principal, require_roles(Role.ESC_STAFF, Role.MRC_STAFF, Role.AGENCY, Role.ANALYST)
]


async def _actor(principal: _Caller, session: SessionDep) -> Actor:
    return await resolve(session, principal)


# Staff of the network, analysts (read) and agents: scoped as above.
ActorDep = Annotated[Actor, Depends(_actor)]
