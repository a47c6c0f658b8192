"""How attendance reacts to registry's merge and erasure of a person, on its own table.

Predeparture's app.py runs the merge after the learners read model's and enrolments', and
before completions recompute the survivor from the attendance moved here; the erasure before
the read model deletes its rows (it still knows which records were merged into the person).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, exists, not_
from sqlalchemy.orm import aliased

from services.predeparture.attendance.models import Attendance
from services.predeparture.learners.models import Learner
from shared import readmodels

if TYPE_CHECKING:
    from shared.consumer import Handler
    from shared.events.registry import PersonErased, PersonMerged
    from shared.work import Work

_attendance = cast("Table", Attendance.__table__)


async def move_attendance(work: Work, merge: PersonMerged) -> None:
    """The duplicate's attendance follows the survivor, except where the survivor attended the
    same module of the same session: the duplicate's copy stays under the retired id, as
    history."""
    from_id, to_id = merge.person_id, merge.survivor_id
    theirs = aliased(_attendance)
    held = exists().where(
        theirs.c.session_id == _attendance.c.session_id,
        theirs.c.module_code == _attendance.c.module_code,
        theirs.c.person_id == to_id,
    )
    await readmodels.move_person_rows(work.session, _attendance, from_id, to_id, not_(held))


async def forget_person(work: Work, erasure: PersonErased) -> None:
    """An attendance note staff wrote about the person goes; the rows stay for the counts."""
    ids = await readmodels.erased_ids(work.session, Learner, erasure.person_id)
    await readmodels.blank_person_rows(work.session, _attendance, ids, "note")


HANDLERS: dict[str, Handler] = readmodels.person_reactions(
    merged=move_attendance, erased=forget_person
)
