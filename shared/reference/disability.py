"""The Washington Group Short Set on Functioning (WG-SS): six questions, four answers each.

The Group's recommended cut-off identifies a person with disability when at least one domain
is answered "a lot of difficulty" or "cannot do at all". Only the answers are stored; the
disability flag is always derived, so it cannot disagree with them.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Mapping


class Domain(enum.StrEnum):
    SEEING = "seeing"  # even if wearing glasses
    HEARING = "hearing"  # even if using a hearing aid
    WALKING = "walking"  # or climbing steps
    COGNITION = "cognition"  # remembering or concentrating
    SELF_CARE = "self_care"  # such as washing all over or dressing
    COMMUNICATION = "communication"  # understanding or being understood, in the usual language


class Answer(enum.StrEnum):
    NO_DIFFICULTY = "no_difficulty"
    SOME_DIFFICULTY = "some_difficulty"
    A_LOT_OF_DIFFICULTY = "a_lot_of_difficulty"
    CANNOT_DO_AT_ALL = "cannot_do_at_all"


DISABILITY_CUTOFF = frozenset({Answer.A_LOT_OF_DIFFICULTY, Answer.CANNOT_DO_AT_ALL})


def has_disability(answers: Mapping[Domain, Answer]) -> bool:
    """The WG-SS disability identifier; unanswered domains count as not answered, not as 'no'."""
    return any(answer in DISABILITY_CUTOFF for answer in answers.values())
