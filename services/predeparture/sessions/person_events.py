"""How enrolments react to registry's merge and erasure of a person, on sessions' own tables.

Predeparture's app.py runs the merge after the learners read model's (which locks the two
learners' rows before any session here is locked, the order a merge always took) and the
erasure before the read model deletes its rows (it still knows which records were merged into
the person).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, select

from services.predeparture.learners.models import Learner
from services.predeparture.sessions import enrolment as places
from services.predeparture.sessions.domain import LIVE, EnrolmentStatus
from services.predeparture.sessions.invitations import SYSTEM
from services.predeparture.sessions.models import Enrolment
from shared import readmodels

if TYPE_CHECKING:
    from shared.consumer import Handler
    from shared.events.registry import PersonErased, PersonMerged
    from shared.work import Work

MERGED_REASON = "duplicate record merged: the person holds another place in this session"

_enrolments = cast("Table", Enrolment.__table__)


async def move_enrolments(work: Work, merge: PersonMerged) -> None:
    """The duplicate's places and turns follow the survivor. Where both hold a live enrolment
    in one session, one goes (a place is kept over a turn on the waiting list, else the
    survivor's), cancelled and announced like any cancellation."""
    from_id, to_id = merge.person_id, merge.survivor_id
    sessions_held = await work.session.scalars(
        select(Enrolment.session_id)
        .where(Enrolment.person_id == from_id, Enrolment.status.in_(sorted(LIVE)))
        .distinct()
    )
    # Sessions locked in id order, as capacity changes lock them, before either place moves.
    for session_id in sorted(sessions_held.all()):
        orientation = await places.locked_session(work.session, session_id)
        mine = await places.live_enrolment(work.session, session_id, from_id)
        theirs = await places.live_enrolment(work.session, session_id, to_id)
        if mine is None or theirs is None:
            continue
        keep_mine = (
            mine.status == EnrolmentStatus.ENROLLED and theirs.status == EnrolmentStatus.WAITLISTED
        )
        dropped = theirs if keep_mine else mine
        await places.cancel(work.session, orientation, dropped, reason=MERGED_REASON, by=SYSTEM)
    await readmodels.move_person_rows(work.session, _enrolments, from_id, to_id)


async def forget_person(work: Work, erasure: PersonErased) -> None:
    """Free text staff wrote about the person (why a place was cancelled) goes; the rows stay,
    keyed by an id that leads nowhere, for the session's and office's counts."""
    ids = await readmodels.erased_ids(work.session, Learner, erasure.person_id)
    await readmodels.blank_person_rows(work.session, _enrolments, ids, "reason")


HANDLERS: dict[str, Handler] = readmodels.person_reactions(
    merged=move_enrolments, erased=forget_person
)
