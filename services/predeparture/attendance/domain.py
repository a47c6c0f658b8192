"""Rules of a session's roster: which rows may be written, and when. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from services.predeparture.completions.domain import ATTENDANCE_STATUSES
from shared.problems import Conflict, FieldError

if TYPE_CHECKING:
    import uuid
    from collections.abc import Collection, Sequence
    from datetime import datetime

# While a session runs (or waits to be closed) its roster is entered directly; after closing,
# only through corrections, each kept with its reason.
OPEN_STATES = frozenset({"scheduled", "held"})
CLOSED = "closed"


class RosterClosed(Conflict):
    slug = "roster-not-open"


@dataclass(frozen=True)
class RosterRow:
    person_id: uuid.UUID
    module_code: str
    status: str
    note: str | None = None


def check_rows(
    rows: Sequence[RosterRow], *, enrolled: Collection[uuid.UUID], planned: Collection[str]
) -> list[FieldError]:
    """Every problem of a roster at once, each named by row and field: a person not enrolled
    in the session, a module it does not plan, an unknown status, a row given twice."""
    errors: list[FieldError] = []
    first: dict[tuple[uuid.UUID, str], int] = {}
    for i, row in enumerate(rows):
        if row.person_id not in enrolled:
            errors.append(
                FieldError(
                    f"rows.{i}.person_id",
                    f"{row.person_id} is not enrolled in this session",
                    "not_enrolled",
                )
            )
        if row.module_code not in planned:
            errors.append(
                FieldError(
                    f"rows.{i}.module_code",
                    f"{row.module_code} is not a module of this session"
                    f" (planned: {', '.join(sorted(planned))})",
                    "not_planned",
                )
            )
        if row.status not in ATTENDANCE_STATUSES:
            errors.append(
                FieldError(
                    f"rows.{i}.status",
                    f"{row.status!r} is not one of {', '.join(ATTENDANCE_STATUSES)}",
                    "unknown_status",
                )
            )
        key = (row.person_id, row.module_code)
        if key in first:
            errors.append(
                FieldError(
                    f"rows.{i}.module_code",
                    f"row {first[key]} already gives this person's {row.module_code}",
                    "duplicate",
                )
            )
        else:
            first[key] = i
    return errors


def check_entry(status: str, starts_at: datetime, now: datetime) -> None:
    """Attendance is entered once the session has started, until it is closed."""
    if status == CLOSED:
        raise RosterClosed(
            "the session is closed: change its attendance through a correction with a reason"
        )
    if status not in OPEN_STATES:
        raise RosterClosed(f"the session is {status}: it has no attendance")
    if starts_at > now:
        raise RosterClosed(f"the session starts at {starts_at.isoformat()}: attendance opens then")


def check_correction(status: str) -> None:
    """Corrections are for closed sessions; an open one is changed directly."""
    if status in OPEN_STATES:
        raise RosterClosed(
            f"the session is {status}: enter its attendance with PUT until it is closed"
        )
    if status != CLOSED:
        raise RosterClosed(f"the session is {status}: it has no attendance")


def as_rows(
    rows: Sequence[RosterRow],
) -> tuple[list[uuid.UUID], list[str], list[str], list[str | None]]:
    """The roster as columns for one set-based statement (which orders them itself)."""
    return (
        [r.person_id for r in rows],
        [r.module_code for r in rows],
        [r.status for r in rows],
        [r.note for r in rows],
    )
