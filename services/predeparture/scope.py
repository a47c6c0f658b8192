"""Who may do what in predeparture: the service's part of "Who sees what" in
docs/architecture.md, in one place.

- Sessions that are scheduled or held are national: every office's staff and analysts read
  them, and staff enrol the people *they serve* in them. Closed and cancelled sessions are read
  by staff of the session's office and province (and national scope). Running a session
  (changes, status, roster, corrections) and recording outreach stay with its office's MRC
  staff; admins may act for any office.
- A person (learner, enrolments, attendance, completions, certificates) is read by staff of
  the person's province, national scope, staff of an office that serves them (registry's
  PersonServedAt, kept on the learner) and staff of an office whose session holds their place.
  A session's roster shows its office's staff everyone on it; anyone else sees the people they
  serve. The audit names the basis of each read (`basis_of`, `roster_basis`).
- Reports: national roles and admins choose the province (or all); office staff get their own
  province's figures only (`report_province`).

Every route that changes something of an office calls `require_manager(principal, office_code)`
and every read of a person goes through `require_person` or `served`, so the rule is checked on
the object, not only on the route.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from typing import Annotated

from sqlalchemy import ColumnElement, exists, false, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.predeparture.audit.domain import Basis
from services.predeparture.learners.models import Learner
from services.predeparture.sessions.domain import LIVE, UPCOMING_OR_RUNNING
from services.predeparture.sessions.models import Enrolment, OrientationSession
from shared.auth import Principal, Role, require_roles
from shared.problems import Forbidden

# Those who may manage something of an office (checked against the office by require_manager).
Manager = Annotated[Principal, require_roles(Role.MRC_STAFF)]
# Officers who may enrol the people they serve in any office's scheduled session.
Enroller = Annotated[Principal, require_roles(Role.ESC_STAFF, Role.MRC_STAFF)]

# Sessions every office's staff read: published for the whole network.
OPEN_TO_ALL = UPCOMING_OR_RUNNING


def can_manage(principal: Principal, office_code: str) -> bool:
    """MRC staff manage their own office's work; admins any office's."""
    if Role.ADMIN in principal.roles:
        return True
    return Role.MRC_STAFF in principal.roles and principal.office == office_code


def require_manager(principal: Principal, office_code: str) -> None:
    if not can_manage(principal, office_code):
        raise Forbidden(
            f"only staff of {office_code} manage its orientation work"
            f" (you act for {principal.office or 'no office'})"
        )


# -- sessions --------------------------------------------------------------------------------


def can_read_session(
    principal: Principal, *, office_code: str, province_code: str, status: str
) -> bool:
    """Scheduled and held sessions are national; a closed or cancelled one stays with its
    office and province."""
    return (
        status in OPEN_TO_ALL
        or principal.office == office_code
        or can_manage(principal, office_code)
        or principal.can_see_province(province_code)
    )


def require_session_reader(principal: Principal, orientation: OrientationSession) -> None:
    if not can_read_session(
        principal,
        office_code=orientation.office_code,
        province_code=orientation.province_code,
        status=orientation.status,
    ):
        raise Forbidden(
            f"this session is {orientation.status}: it is read by staff of"
            f" {orientation.office_code} and its province ({orientation.province_code})"
        )


def readable_sessions(principal: Principal) -> ColumnElement[bool] | None:
    """SQL condition on sessions for `can_read_session`; None when every session is."""
    if principal.sees_all_provinces:
        return None
    conditions: list[ColumnElement[bool]] = [OrientationSession.status.in_(sorted(OPEN_TO_ALL))]
    if principal.office is not None:
        conditions.append(OrientationSession.office_code == principal.office)
    if principal.province is not None:
        conditions.append(OrientationSession.province_code == principal.province)
    return or_(*conditions)


def sees_whole_roster(principal: Principal, office_code: str) -> bool:
    """A session's own office (and national scope) sees everyone on its roster."""
    return (
        principal.sees_all_provinces
        or principal.office == office_code
        or can_manage(principal, office_code)
    )


def roster_basis(principal: Principal, office_code: str) -> Basis | None:
    """The basis of a roster read: national scope, the session's own office, or (None) each
    person's own link to the reader, which the filter already required."""
    if principal.sees_all_provinces:
        return Basis.NATIONAL
    return Basis.SESSION if sees_whole_roster(principal, office_code) else None


# -- people ----------------------------------------------------------------------------------


def _enrolled_at(office_code: str, person_id: object) -> ColumnElement[bool]:
    """SQL: the person (an id or a column) holds a place or a turn in a session of the office."""
    return exists().where(
        Enrolment.person_id == person_id,
        Enrolment.status.in_(sorted(LIVE)),
        OrientationSession.id == Enrolment.session_id,
        OrientationSession.office_code == office_code,
    )


def served(principal: Principal) -> ColumnElement[bool] | None:
    """SQL condition on learners: the people `principal` serves; None when it is everyone."""
    if principal.sees_all_provinces:
        return None
    conditions: list[ColumnElement[bool]] = []
    if principal.province is not None:
        conditions.append(Learner.province_code == principal.province)
    if principal.office is not None:
        conditions.append(Learner.serving_offices.contains([principal.office]))
        conditions.append(_enrolled_at(principal.office, Learner.person_id))
    return or_(*conditions) if conditions else false()


def basis_of(principal: Principal, province_code: str | None) -> Basis:
    """The basis of a read the principal's own scope allows, else the link that allowed it."""
    if principal.sees_all_provinces:
        return Basis.NATIONAL
    if principal.can_see_province(province_code):
        return Basis.PROVINCE
    return Basis.SERVING


async def offices_serving(session: AsyncSession, person_id: uuid.UUID) -> set[str]:
    """The offices that serve the person beyond their province: registry's links, and the
    offices whose sessions hold their place or turn."""
    found = await session.execute(
        select(OrientationSession.office_code)
        .join(Enrolment, Enrolment.session_id == OrientationSession.id)
        .where(Enrolment.person_id == person_id, Enrolment.status.in_(sorted(LIVE)))
        .distinct()
    )
    offices = set(found.scalars())
    serving = await session.scalar(
        select(Learner.serving_offices).where(Learner.person_id == person_id)
    )
    return offices | set(serving or [])


async def require_person(
    session: AsyncSession, principal: Principal, person_id: uuid.UUID, province_code: str | None
) -> None:
    """403 unless `principal` serves the person (`province_code`: theirs, None once erased)."""
    if principal.can_see_province(province_code):
        return
    principal.require_serves(province_code, await offices_serving(session, person_id))


async def visible_people(
    session: AsyncSession,
    principal: Principal,
    office_code: str,
    person_ids: Collection[uuid.UUID],
) -> set[uuid.UUID]:
    """Of the people on a session of `office_code`, those `principal` may see: all of them for
    the session's office and national scope, else the people they serve."""
    if sees_whole_roster(principal, office_code) or not person_ids:
        return set(person_ids)
    condition = served(principal)
    query = select(Learner.person_id).where(Learner.person_id.in_(list(person_ids)))
    if condition is not None:
        query = query.where(condition)
    return set((await session.scalars(query)).all())


# -- reports ---------------------------------------------------------------------------------


def report_province(principal: Principal, asked: str | None) -> str | None:
    """The province a report is limited to: national roles and admins choose (None: all);
    office staff always get their own province's figures and may not ask for another."""
    if principal.sees_all_provinces:
        return asked
    if not principal.province:
        raise Forbidden("your token carries no province; ask an admin to assign an office")
    if asked is not None and asked != principal.province:
        raise Forbidden(f"you see the figures of your province ({principal.province}) only")
    return principal.province
