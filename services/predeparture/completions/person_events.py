"""How completions react to registry's merge and erasure of a person, on their own table.

Predeparture's app.py runs the merge last (after the learners read model gave the survivor the
duplicate's destination, and attendance moved), and the erasure before the read model deletes
its rows (it still knows which records were merged into the person).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from sqlalchemy import Table, exists, not_, or_
from sqlalchemy.orm import aliased

from services.predeparture.completions import recomputing
from services.predeparture.completions.models import Completion
from services.predeparture.learners.models import Learner
from shared import readmodels

if TYPE_CHECKING:
    import uuid

    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.consumer import Handler
    from shared.events.registry import PersonErased, PersonMerged
    from shared.work import Work

VALID = "valid"

_completions = cast("Table", Completion.__table__)


async def move_completions(work: Work, merge: PersonMerged) -> None:
    """The duplicate's completions follow the survivor (where the survivor already holds a
    valid one for the destination, the duplicate's stays under the retired id, as history);
    the survivor's completions are then recomputed: the two records' attendance together may
    meet the rule."""
    await _move_completions(work.session, merge.person_id, merge.survivor_id)
    await recomputing.recompute(
        work.session,
        [merge.survivor_id],
        settings=work.settings,
        today=work.today,
        by=merge.merged_by,
    )


async def _move_completions(session: AsyncSession, from_id: uuid.UUID, to_id: uuid.UUID) -> None:
    theirs = aliased(_completions)
    held = exists().where(
        theirs.c.person_id == to_id,
        theirs.c.destination_country == _completions.c.destination_country,
        theirs.c.status == VALID,
    )
    await readmodels.move_person_rows(
        session, _completions, from_id, to_id, or_(_completions.c.status != VALID, not_(held))
    )


async def forget_person(work: Work, erasure: PersonErased) -> None:
    """Why a completion was withdrawn (staff's words) goes; the rows stay for the counts."""
    ids = await readmodels.erased_ids(work.session, Learner, erasure.person_id)
    await readmodels.blank_person_rows(work.session, _completions, ids, "withdrawn_reason")


HANDLERS: dict[str, Handler] = readmodels.person_reactions(
    merged=move_completions, erased=forget_person
)
