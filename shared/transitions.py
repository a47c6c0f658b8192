"""The 409 every status lifecycle answers when a record may not move to the status asked for.

Each lifecycle (vacancies, referrals, agencies and their complaints, orientation sessions,
migration records) keeps its own table of the changes it allows; when a change is not in it,
the answer is the same everywhere: the status now, the one asked for, and those allowed from
here, so that a client can offer the right buttons.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from shared.problems import Conflict

if TYPE_CHECKING:
    from collections.abc import Iterable


class InvalidTransition(Conflict):
    """409: the record is not in a status the requested one may follow. A lifecycle subclasses
    it naming its record (`record`, with its article: "a vacancy")."""

    slug, title = "invalid-transition", "Invalid status change"
    record = "a record"

    def __init__(self, current: str, requested: str, allowed: Iterable[str]) -> None:
        super().__init__(
            f"{self.record} that is {current} cannot become {requested}",
            current_status=str(current),
            requested_status=str(requested),
            allowed=sorted(str(s) for s in allowed),
        )
