"""Who may see and do what in matching: the scope model of docs/architecture.md ("Who sees
what"), written once.

- A vacancy is national once published (published, paused, filled, closed, expired: anything
  with a `published_at`): staff of every office read it, list it, rank candidates for it and
  refer the people they serve to it. A draft stays with the province that wrote it and the
  agency that owns it. Changing a vacancy, and what belongs to its side (a demand letter's name
  list and costs), stays with its province and, for a demand letter, its agency.
- A person belongs to their province; an office of another province that serves them
  (registry's PersonServedAt, kept in `candidates.serving_offices`) acts for them as the
  person's own province does; national scope sees everyone. Ranking lists, referring and
  placing only people the officer serves.
- A referral or placement is seen by the person's side (their province, the offices serving
  them) and by the vacancy's side (its province, its agency).
- An employer is business data every officer and analyst reads; recording or changing one
  stays with office staff of its province (national scope: any).
- Licensed agencies are a public register; an agent sees its own agency only and records
  demand letters for it only. Complaints against an agency are read by supervisors (admins)
  and the office that took them, never by an agency.

Every route that reads or changes a vacancy, an employer, a person, a referral or a placement
asks `Actor` on the object; lists take the SQL conditions below, so that the rule lives in one
place.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import Depends
from sqlalchemy import ColumnElement, SQLColumnExpression, any_, exists, false, or_, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from services.matching.agencies.models import Agency
from services.matching.candidates.models import Candidate
from shared.auth import Principal, Role, require_roles
from shared.db import SessionDep
from shared.problems import Forbidden

if TYPE_CHECKING:
    from services.matching.referrals.models import Referral

# A column (or mapped attribute) a list's SQL condition is written against.
Column = SQLColumnExpression[Any]


@dataclass(frozen=True)
class PeopleScope:
    """The people a provincial officer serves, for SQL that lists people: those of `province`,
    and those whose serving offices include `office`."""

    province: str | None
    office: str | None

    def sql(self, params: dict[str, Any]) -> str:
        """The same condition as SQL text on the candidates table `c` (ranking's hand-written
        query), its parameters added to `params`."""
        params["scope_province"] = self.province
        served = ["c.province_code = :scope_province"]
        if self.office:
            params["scope_office"] = self.office
            served.append(":scope_office = ANY(c.serving_offices)")
        return f"({' OR '.join(served)})"


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

    def require_staff(self) -> None:
        """Decisions only officers of the network take (publishing, referring, placing)."""
        if self.is_agency or not self.principal.has_any(Role.ESC_STAFF, Role.MRC_STAFF, Role.ADMIN):
            raise Forbidden("only office staff can do this")

    def require_editor(self) -> None:
        """Changing what belongs to the actor's side: its agency's agents, or office staff (an
        analyst only reads)."""
        if not self.is_agency:
            self.require_staff()

    # -- agencies: the public register; an agent sees its own agency only -------------------

    def require_agency(self, agency_id: uuid.UUID) -> None:
        """Licensed agencies are a public register (staff and analysts read every one); an
        agent reads its own agency only."""
        if self.is_agency and self.agency_id != agency_id:
            raise Forbidden("an agency sees only itself")

    def agencies(self, agency: Column) -> ColumnElement[bool]:
        """SQL condition for lists of agencies: what `require_agency` admits."""
        return agency == self.agency_id if self.is_agency else true()

    def require_complaints(self) -> None:
        """Complaints name complainants and what happened to them (often the agency's own
        recruits): never shown to an agency."""
        if self.is_agency:
            raise Forbidden("complaints are seen by supervisors and the office that took them")

    def complaints(self, office: Column) -> ColumnElement[bool]:
        """SQL condition for an agency's complaints: all of them for supervisors (admins), those
        an office took for its staff."""
        self.require_complaints()
        if self.principal.has_any(Role.ADMIN):
            return true()
        self.require_staff()
        return office == self.principal.office

    # -- the vacancy's side: its province and its agency -------------------------------------

    def can_see(self, *, province_code: str | None, agency_id: uuid.UUID | None) -> bool:
        """The vacancy's side: its agency, and staff of its province (national scope too)."""
        if self.is_agency:
            return agency_id == self.agency_id
        return self.principal.can_see_province(province_code)

    def require(self, *, province_code: str | None, agency_id: uuid.UUID | None) -> None:
        """Only the vacancy's side: changing a vacancy, its name list and its costs."""
        if not self.can_see(province_code=province_code, agency_id=agency_id):
            raise Forbidden(
                "this belongs to another agency"
                if self.is_agency
                else f"only staff of {province_code}, the vacancy's province, do this"
                f" (yours: {self.principal.province or 'none'})"
            )

    # -- employers: read by everyone, kept by their province --------------------------------

    def require_employer(self, province_code: str | None) -> None:
        """Recording or changing an employer, checked on the employer as it is and on the
        province it would get: office staff of that province, or of national scope. An officer
        of Champasak neither renames a Vientiane employer nor records one there."""
        self.require_staff()
        if not self.principal.can_see_province(province_code):
            raise Forbidden(
                f"only staff of {province_code}, the employer's province, record or change it"
                f" (yours: {self.principal.province or 'none'})"
            )

    # -- vacancies: national once published ------------------------------------------------

    def sees_vacancy(
        self,
        *,
        province_code: str | None,
        agency_id: uuid.UUID | None,
        published_at: datetime | None,
    ) -> bool:
        """Staff of every office see a vacancy once published; a draft only its side sees.
        An agency sees its own demand letters only."""
        if self.is_agency:
            return agency_id == self.agency_id
        return published_at is not None or self.principal.can_see_province(province_code)

    def require_vacancy(
        self,
        *,
        province_code: str | None,
        agency_id: uuid.UUID | None,
        published_at: datetime | None,
    ) -> None:
        if not self.sees_vacancy(
            province_code=province_code, agency_id=agency_id, published_at=published_at
        ):
            raise Forbidden(
                "this belongs to another agency"
                if self.is_agency
                else f"a draft stays with {province_code}, the province writing it"
                f" (yours: {self.principal.province or 'none'})"
            )

    def new_vacancy_agency(
        self, agency_id: uuid.UUID | None, *, overseas: bool
    ) -> uuid.UUID | None:
        """The agency a new vacancy is recorded for: an agent records demand letters (overseas
        vacancies) for its own agency only; office staff any vacancy, for the agency they name
        (or none)."""
        if not self.is_agency:
            self.require_staff()
            return agency_id
        if not overseas:
            raise Forbidden("an agency records overseas vacancies (demand letters) only")
        if agency_id is not None and agency_id != self.agency_id:
            raise Forbidden("an agency records vacancies for itself only")
        return self.agency_id

    def vacancies(
        self, province: Column, agency: Column, published_at: Column
    ) -> ColumnElement[bool]:
        """SQL condition for lists of vacancies: what `sees_vacancy` admits."""
        if self.is_agency:
            return agency == self.agency_id
        if self.national:
            return true()
        return or_(published_at.is_not(None), province == self.principal.province)

    # -- people ----------------------------------------------------------------------------

    def serves(self, province_code: str | None, serving_offices: Collection[str] = ()) -> bool:
        """Staff of the person's province, of an office serving them, or of national scope.
        Agencies never browse the labour bank."""
        return not self.is_agency and self.principal.serves(province_code, serving_offices)

    def require_serves(
        self, province_code: str | None, serving_offices: Collection[str] = ()
    ) -> None:
        if self.is_agency:
            raise Forbidden("agencies do not browse the labour bank")
        self.principal.require_serves(province_code, serving_offices)

    def require_serves_candidate(self, candidate: Candidate) -> None:
        """`require_serves` on the person as matching keeps them: their province and the
        offices serving them."""
        self.require_serves(candidate.province_code, candidate.serving_offices)

    def people(self) -> PeopleScope | None:
        """Whom this officer's lists of people may hold; None for national scope (everyone)."""
        if self.national:
            return None
        return PeopleScope(self.principal.province, self.principal.office)

    def people_filter(self, province: Any, offices: Any) -> ColumnElement[bool]:
        """SQL condition on a person's province and serving offices columns: `serves`."""
        if self.is_agency:
            return false()
        if self.national:
            return true()
        mine = [province == self.principal.province]
        if self.principal.office:
            mine.append(self.principal.office == any_(offices))
        return or_(*mine)

    # -- referrals and placements: the person's side and the vacancy's side ------------------

    def sees_referral(
        self,
        *,
        vacancy_province: str,
        agency_id: uuid.UUID | None,
        person_provinces: Iterable[str | None],
        serving_offices: Collection[str],
    ) -> bool:
        """The vacancy's side (its province, its agency) or the person's side (their province,
        as referred or as now, and the offices serving them)."""
        if self.is_agency:
            return agency_id == self.agency_id
        return self.principal.can_see_province(vacancy_province) or any(
            self.principal.serves(p, serving_offices) for p in person_provinces
        )

    def referrals(
        self, vacancy_province: Column, agency: Column, person_province: Column, person_id: Column
    ) -> ColumnElement[bool]:
        """SQL condition for lists of referrals: what `sees_referral` admits."""
        if self.is_agency:
            return agency == self.agency_id
        if self.national:
            return true()
        mine = self.principal.province
        person_now = exists(
            select(Candidate.person_id).where(
                Candidate.person_id == person_id,
                self.people_filter(Candidate.province_code, Candidate.serving_offices),
            )
        )
        return or_(vacancy_province == mine, person_province == mine, person_now)


async def _person_side(session: AsyncSession, referral: Referral) -> tuple[list[str], list[str]]:
    """The referred person's provinces (as referred, and as now) and the offices serving them
    now."""
    referred_in = referral.person_province_code
    candidate = await session.get(Candidate, referral.person_id)
    if candidate is None:  # erased: what the referral recorded is all there is
        return [referred_in], []
    return [referred_in, candidate.province_code], list(candidate.serving_offices)


async def require_referral(session: AsyncSession, actor: Actor, referral: Referral) -> None:
    """The referral's two sides see it (and its placement): the vacancy's (its province, its
    agency) and the person's (their province, the offices serving them)."""
    provinces, offices = await _person_side(session, referral)
    if not actor.sees_referral(
        vacancy_province=referral.province_code,
        agency_id=referral.agency_id,
        person_provinces=provinces,
        serving_offices=offices,
    ):
        raise Forbidden(
            "this belongs to another agency"
            if actor.is_agency
            else f"outside your scope (province {actor.principal.province or 'none'}): a"
            " referral is seen by the vacancy's province and by those serving the person"
        )


async def require_serves_referred(session: AsyncSession, actor: Actor, referral: Referral) -> None:
    """Placing the referred person is for those who serve them now, whichever province the
    vacancy is in."""
    provinces, offices = await _person_side(session, referral)
    actor.require_serves(provinces[-1], offices)


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
