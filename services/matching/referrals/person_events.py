"""How referrals and placements react to registry's merge and erasure of a person.

The duplicate's referrals and placements follow the survivor (`repoint_merged_person`); an
erased person's keep no free text about them (`forget_person`). Matching's app.py runs these
after the candidate read model's own reaction, in the same transaction as the event's inbox
row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.matching.referrals.service import forget_person, repoint_merged_person
from shared.readmodels import person_reactions

if TYPE_CHECKING:
    from shared.consumer import Handler

HANDLERS: dict[str, Handler] = person_reactions(
    merged=lambda work, merge: repoint_merged_person(
        work.session, merge.person_id, merge.survivor_id
    ),
    erased=lambda work, erasure: forget_person(work.session, erasure.person_id),
)
