"""When an office serves a person of another province (see "Who sees what" in
docs/architecture.md): pure rules, no I/O."""

from __future__ import annotations

import enum

# The enrolment states that bring a person to an office's session: a cancelled place does not.
SERVING_ENROLMENTS = frozenset({"enrolled", "waitlisted"})


class Basis(enum.StrEnum):
    VISIT = "visit"  # an officer there recorded the person's visit
    ENROLMENT = "enrolment"  # the person was enrolled in one of its orientation sessions


def needs_link(person_province: str, office_province: str) -> bool:
    """An office of the person's own province serves them already; any other needs a link."""
    return person_province != office_province
