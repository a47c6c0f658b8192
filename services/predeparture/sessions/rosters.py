"""Rosters as staff read them: on screen and for the printed sheet, each showing the people the
principal may see, audited per person shown."""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from services.predeparture.audit import service as audit
from services.predeparture.audit.domain import Action
from services.predeparture.curricula.models import CurriculumModule
from services.predeparture.learners.domain import full_name
from services.predeparture.learners.models import Learner
from services.predeparture.scope import roster_basis, visible_people
from services.predeparture.sessions import enrolment_reading
from services.predeparture.sessions import roster_sheet as sheet
from services.predeparture.sessions.domain import EnrolmentStatus
from services.predeparture.sessions.models import Enrolment
from services.predeparture.sessions.service import readable_session

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession

    from services.predeparture.sessions.roster_sheet import RosterSheet
    from services.predeparture.sessions.schemas import Roster
    from shared.auth import Principal


async def roster(session: AsyncSession, session_id: uuid.UUID, principal: Principal) -> Roster:
    """Who holds a place and who waits: everyone for the session's office (and national
    scope), the people they serve for other offices' staff. Audited per person shown."""
    orientation = await readable_session(session, session_id, principal)
    full = await enrolment_reading.roster(session, orientation)
    ids = [e.person_id for e in full.enrolled + full.waitlisted]
    visible = await visible_people(session, principal, orientation.office_code, ids)
    await audit.record(
        session,
        principal,
        Action.ROSTER_READ,
        [i for i in ids if i in visible],
        subject_id=orientation.id,
        basis=roster_basis(principal, orientation.office_code),
    )
    return full.model_copy(
        update={
            "enrolled": [e for e in full.enrolled if e.person_id in visible],
            "waitlisted": [e for e in full.waitlisted if e.person_id in visible],
        }
    )


async def roster_sheet(
    session: AsyncSession, session_id: uuid.UUID, principal: Principal
) -> RosterSheet:
    """What the printed roster shows: the session, and the people holding a place that the
    principal may see, in the order they enrolled, with the modules each must attend."""
    orientation = await readable_session(session, session_id, principal)
    rows = (
        await session.execute(
            select(Enrolment, Learner)
            .outerjoin(Learner, Learner.person_id == Enrolment.person_id)
            .where(
                Enrolment.session_id == orientation.id,
                Enrolment.status == EnrolmentStatus.ENROLLED,
            )
            .order_by(Enrolment.created_at, Enrolment.id)
        )
    ).all()
    visible = await visible_people(
        session, principal, orientation.office_code, [e.person_id for e, _ in rows]
    )
    modules = (
        await session.scalars(
            select(CurriculumModule).where(
                CurriculumModule.curriculum_id == orientation.curriculum_id,
                CurriculumModule.code.in_(orientation.planned_modules),
            )
        )
    ).all()
    by_code = {m.code: m for m in modules}
    people = [
        sheet.Learner(
            reference=learner.reference if learner else None,
            name_lo=full_name(learner.given_name_lo, learner.family_name_lo) if learner else "",
            name_en=full_name(learner.given_name_en, learner.family_name_en) if learner else "",
            sex=learner.sex if learner else None,
            destination_country=enrolment.destination_country
            or (learner.destination_country if learner else None),
        )
        for enrolment, learner in rows
        if enrolment.person_id in visible
    ]
    await audit.record(
        session,
        principal,
        Action.ROSTER_PRINTED,
        [e.person_id for e, _ in rows if e.person_id in visible],
        subject_id=orientation.id,
        basis=roster_basis(principal, orientation.office_code),
    )
    return sheet.RosterSheet(
        session_id=orientation.id,
        office_code=orientation.office_code,
        starts_at=orientation.starts_at,
        ends_at=orientation.ends_at,
        venue=orientation.venue,
        district=orientation.district,
        village=orientation.village,
        language=orientation.language,
        facilitator=orientation.facilitator,
        modules=[_sheet_module(code, by_code.get(code)) for code in orientation.planned_modules],
        people=people,
    )


def _sheet_module(code: str, module: CurriculumModule | None) -> sheet.Module:
    if module is None:  # a code the curriculum no longer has: printed as its code
        return sheet.Module(code=code, title_lo=code, title_en=code)
    return sheet.Module(
        code=code,
        title_lo=module.title_lo,
        title_en=module.title_en,
        destinations=frozenset(module.destinations or []),
    )
