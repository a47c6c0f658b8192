"""Pure rules of orientation sessions: the lifecycle, times and places, who gets a place, and
where a prospective migrant is invited."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from shared import transitions
from shared.problems import Conflict, FieldError, InvalidField, InvalidFields
from shared.reference.offices import SEED_MRCS, nearest_first

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"  # planned: people are enrolled and waitlisted
    HELD = "held"  # it is over: attendance is entered and checked before closing
    CLOSED = "closed"  # attendance final, certificates issued; corrections are audited
    CANCELLED = "cancelled"  # called off: every place is cancelled and people are told


class EnrolmentStatus(enum.StrEnum):
    ENROLLED = "enrolled"
    WAITLISTED = "waitlisted"
    CANCELLED = "cancelled"


LIVE = frozenset({EnrolmentStatus.ENROLLED, EnrolmentStatus.WAITLISTED})
# Sessions whose places still count as orientation on its way: not yet held, or held and
# waiting for attendance to make a completion.
UPCOMING_OR_RUNNING = frozenset({SessionStatus.SCHEDULED, SessionStatus.HELD})

TRANSITIONS: dict[SessionStatus, frozenset[SessionStatus]] = {
    SessionStatus.SCHEDULED: frozenset({SessionStatus.HELD, SessionStatus.CANCELLED}),
    SessionStatus.HELD: frozenset({SessionStatus.CLOSED}),
    SessionStatus.CLOSED: frozenset(),
    SessionStatus.CANCELLED: frozenset(),
}

MAX_CAPACITY = 200
# An automatic invitation leaves the person at least this long to arrange the journey.
INVITATION_NOTICE = timedelta(days=1)
# Changes enrolled people are told about (EnrolmentChanged with the change as its reason).
NOTICE_FIELDS = frozenset(
    {"starts_at", "ends_at", "venue", "outreach", "district", "village", "language"}
)
# What PATCH may change; the office and the curriculum make another session.
CHANGEABLE = (
    "starts_at",
    "ends_at",
    "facilitator",
    "language",
    "venue",
    "outreach",
    "district",
    "village",
    "capacity",
    "planned_modules",
)
# Of those, what a session may go without (every other one it always has).
OPTIONAL = frozenset({"district", "village"})


class InvalidTransition(transitions.InvalidTransition):
    """409: the session is not in a state the requested one may follow."""

    record = "a session"


class NotScheduled(Conflict):
    """409: enrolments and changes are only taken while the session is scheduled."""

    slug, title = "session-not-scheduled", "Session no longer scheduled"

    def __init__(self, current: str, what: str) -> None:
        super().__init__(
            f"{what} only while the session is scheduled; it is {current}",
            current_status=current,
        )


def check_transition(current: SessionStatus, requested: SessionStatus) -> None:
    if requested not in TRANSITIONS[current]:
        raise InvalidTransition(current, requested, TRANSITIONS[current])


def check_status_change(
    current: SessionStatus,
    requested: SessionStatus,
    *,
    reason: str | None,
    ends_at: datetime,
    now: datetime,
) -> None:
    """A change the lifecycle allows; a cancellation gives its reason; a session is marked held
    or closed only once it has ended, since closing it is what issues the certificates."""
    check_transition(current, requested)
    if requested is SessionStatus.CANCELLED and not reason:
        raise InvalidField("reason", "is required to cancel a session (people are told why)")
    if requested in (SessionStatus.HELD, SessionStatus.CLOSED) and ends_at > now:
        raise NotEnded(current, requested, ends_at)


class NotEnded(Conflict):
    """409: a session is held, and closed, once it is over."""

    slug, title = "session-not-ended", "Session not over yet"

    def __init__(self, current: SessionStatus, requested: SessionStatus, ends_at: datetime) -> None:
        super().__init__(
            f"the session ends at {ends_at.isoformat()}: it can be marked {requested} once it"
            " has ended (closing it issues the certificates)",
            field="status",
            current_status=str(current),
            requested_status=str(requested),
            ends_at=ends_at.isoformat(),
        )


def check_scheduled(status: str, what: str) -> None:
    if status != SessionStatus.SCHEDULED:
        raise NotScheduled(status, what)


def office_errors(office_code: str) -> list[FieldError]:
    """Sessions are run by the Migrant Resource Centres (and the LFTU skills institute)."""
    if office_code in SEED_MRCS:
        return []
    return [
        FieldError(
            "office_code",
            f"{office_code!r} runs no orientation; one of {', '.join(sorted(SEED_MRCS))}",
        )
    ]


def office_province(office_code: str) -> str:
    if errors := office_errors(office_code):
        raise InvalidFields(errors)
    return SEED_MRCS[office_code].province_code


def late_entry_error(field: str, days: int) -> FieldError:
    return FieldError(
        field,
        f"is more than {days} days ago: what was held without a connection may be entered up"
        f" to {days} days later (LABOURX_PREDEPARTURE_LATE_ENTRY_DAYS)",
        "beyond_late_entry_window",
    )


def time_errors(
    starts_at: datetime,
    ends_at: datetime,
    now: datetime,
    *,
    late_entry_days: int,
    new_start: bool = True,
    past_allowed: bool = True,
) -> list[FieldError]:
    """Ends after it starts; a start being set is in the future or, for a session held on a
    day without a connection and entered from paper, at most `late_entry_days` ago (when
    `past_allowed`)."""
    errors: list[FieldError] = []
    if new_start and starts_at <= now:
        if not past_allowed:
            errors.append(
                FieldError(
                    "starts_at",
                    "is in the past: only a session entered late (held, then entered from"
                    " paper) may be moved to a past date",
                )
            )
        elif starts_at < now - timedelta(days=late_entry_days):
            errors.append(late_entry_error("starts_at", late_entry_days))
    if ends_at <= starts_at:
        errors.append(FieldError("ends_at", "must be after starts_at"))
    return errors


def entered_late(starts_at: datetime, now: datetime) -> bool:
    """A session recorded after it began was held without the system: entered from paper."""
    return starts_at <= now


def place_errors(outreach: bool, district: str | None, village: str | None) -> list[FieldError]:
    """A village outreach session says in which district and village it is held."""
    if not outreach:
        return []
    errors = []
    if not district:
        errors.append(FieldError("district", "is required for an outreach session"))
    if not village:
        errors.append(FieldError("village", "is required for an outreach session"))
    return errors


def planned_modules(
    planned: Sequence[str], known: Iterable[str]
) -> tuple[list[str], list[FieldError]]:
    """The planned modules, each once, all of the session's curriculum; or what is wrong."""
    codes = list(dict.fromkeys(planned))
    if not codes:
        return codes, [FieldError("planned_modules", "at least one module is planned")]
    unknown = [c for c in codes if c not in set(known)]
    if unknown:
        message = f"not modules of the curriculum: {', '.join(unknown)}"
        return codes, [FieldError("planned_modules", message)]
    return codes, []


def capacity_errors(capacity: int, enrolled: int) -> list[FieldError]:
    if capacity >= enrolled:
        return []
    message = f"{enrolled} people are enrolled; cancel places before reducing it"
    return [FieldError("capacity", message)]


def status_for_new(enrolled: int, capacity: int) -> EnrolmentStatus:
    """A place while there is room, else the waiting list."""
    return EnrolmentStatus.ENROLLED if enrolled < capacity else EnrolmentStatus.WAITLISTED


def changed(current: Mapping[str, Any], sent: Mapping[str, Any]) -> dict[str, Any]:
    """The fields sent that differ from the stored values."""
    return {f: v for f, v in sent.items() if current.get(f) != v}


def notice_reason(changes: Iterable[str]) -> str | None:
    """The reason enrolled people are told, when a change concerns them."""
    told = sorted(set(changes) & NOTICE_FIELDS)
    return f"session changed: {', '.join(told)}" if told else None


# -- automatic invitations -------------------------------------------------------------------


@dataclass(frozen=True)
class OpenSession:
    """A scheduled session an invitation may go to."""

    id: Any
    office_code: str
    starts_at: datetime
    capacity: int
    enrolled: int

    @property
    def has_room(self) -> bool:
        return self.enrolled < self.capacity


def invitation_plan(
    province_code: str, sessions: Iterable[OpenSession]
) -> tuple[list[OpenSession], OpenSession | None]:
    """Where to invite a person from `province_code`: the sessions with room to try, best
    first (the nearest office's, earliest first, then the next nearest office's), and the
    session whose waiting list they join when none has room (the nearest office's next)."""
    offices = {code: office.province_code for code, office in SEED_MRCS.items()}
    by_office: dict[str, list[OpenSession]] = {}
    for s in sorted(sessions, key=lambda s: (s.starts_at, str(s.id))):
        by_office.setdefault(s.office_code, []).append(s)
    ordered = [code for code in nearest_first(province_code, offices) if code in by_office]
    with_room = [s for code in ordered for s in by_office[code] if s.has_room]
    return with_room, (by_office[ordered[0]][0] if ordered else None)
