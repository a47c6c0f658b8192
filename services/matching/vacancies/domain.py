"""Pure rules of vacancies: the lifecycle, the Employer Pays Principle, kinds, ages, references."""

from __future__ import annotations

import enum
import secrets
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from services.matching.wording import a
from shared import transitions
from shared.problems import Conflict, FieldError, InvalidFields, Problem

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import date


class VacancyStatus(enum.StrEnum):
    DRAFT = "draft"  # being written; a demand letter waiting for an officer's approval
    PUBLISHED = "published"  # open: matched and referred to
    PAUSED = "paused"  # the agency's licence is suspended or expired; resumes when it is valid
    FILLED = "filled"  # every position taken
    CLOSED = "closed"  # withdrawn
    EXPIRED = "expired"  # its closing date passed


class Kind(enum.StrEnum):
    DOMESTIC = "domestic"  # a job in Lao PDR from a registered employer
    OVERSEAS = "overseas"  # a demand letter recruited through a licensed agency


class Channel(enum.StrEnum):
    MOU = "mou"  # Lao-Thailand (or another bilateral) MOU recruitment
    OTHER_REGULAR = "other_regular"


class WagePeriod(enum.StrEnum):
    HOUR = "hour"
    DAY = "day"
    WEEK = "week"
    MONTH = "month"


OPEN = frozenset({VacancyStatus.PUBLISHED, VacancyStatus.PAUSED})

# Every change the lifecycle allows, whoever or whatever makes it.
TRANSITIONS: dict[VacancyStatus, frozenset[VacancyStatus]] = {
    VacancyStatus.DRAFT: frozenset({VacancyStatus.PUBLISHED, VacancyStatus.CLOSED}),
    VacancyStatus.PUBLISHED: frozenset(
        {VacancyStatus.PAUSED, VacancyStatus.FILLED, VacancyStatus.CLOSED, VacancyStatus.EXPIRED}
    ),
    VacancyStatus.PAUSED: frozenset(
        {VacancyStatus.PUBLISHED, VacancyStatus.FILLED, VacancyStatus.CLOSED, VacancyStatus.EXPIRED}
    ),
    VacancyStatus.FILLED: frozenset(),
    VacancyStatus.CLOSED: frozenset(),
    VacancyStatus.EXPIRED: frozenset(),
}

# What a person may ask for. Pausing and resuming follow the agency's licence, expiry the
# calendar: a paused vacancy is not republished by hand past a suspension.
BY_REQUEST: dict[VacancyStatus, frozenset[VacancyStatus]] = {
    VacancyStatus.DRAFT: frozenset({VacancyStatus.PUBLISHED, VacancyStatus.CLOSED}),
    VacancyStatus.PUBLISHED: frozenset({VacancyStatus.FILLED, VacancyStatus.CLOSED}),
    VacancyStatus.PAUSED: frozenset({VacancyStatus.FILLED, VacancyStatus.CLOSED}),
    VacancyStatus.FILLED: frozenset(),
    VacancyStatus.CLOSED: frozenset(),
    VacancyStatus.EXPIRED: frozenset(),
}


class InvalidTransition(transitions.InvalidTransition):
    """409: the vacancy is not in a state the requested one may follow."""

    record = "a vacancy"


def check_transition(
    current: VacancyStatus, requested: VacancyStatus, *, by_request: bool = True
) -> None:
    """Refuse a change the lifecycle does not allow (`by_request`: one asked for over HTTP)."""
    table = BY_REQUEST if by_request else TRANSITIONS
    if requested not in table[current]:
        raise InvalidTransition(current, requested, table[current])


# -- the Employer Pays Principle -------------------------------------------------------------

EMPLOYER_PAYS_RULE = "ILO Employer Pays Principle"


class WorkerFeesNotAllowed(Problem):
    """422: a vacancy may not charge the worker for being recruited. `errors` lists the fees
    first and every other bad field of the request after them."""

    status, slug, title = 422, "worker-fees-not-allowed", "Fees charged to the worker"

    def __init__(self, total: Decimal, items: list[str], others: Sequence[FieldError] = ()) -> None:
        message = (
            f"the worker would pay {total} ({', '.join(items)}); under the {EMPLOYER_PAYS_RULE} "
            "(ILO General principles and operational guidelines for fair recruitment) no "
            "recruitment fees or related costs are charged to workers"
        )
        fees = FieldError("worker_fees", message, "employer_pays")
        super().__init__(
            message,
            field="worker_fees",
            rule=EMPLOYER_PAYS_RULE,
            worker_fee_total=str(total),
            errors=[e.as_dict() for e in (fees, *others)],
        )


def worker_fee_total(fees: Iterable[Mapping[str, Any]]) -> Decimal:
    """The sum of what the statement of fees charges the worker (any currency)."""
    return sum((Decimal(str(f["amount"])) for f in fees), Decimal(0))


def check_worker_fees(
    fees: Iterable[Mapping[str, Any]], others: Sequence[FieldError] = ()
) -> Decimal:
    """The total charged to the worker, which must be zero; 422 naming `worker_fees` if not
    (with `others`, the request's other bad fields, in the same answer)."""
    listed = list(fees)
    total = worker_fee_total(listed)
    if total != 0:
        items = [f"{f['item']} {f['amount']} {f['currency']}" for f in listed if f["amount"]]
        raise WorkerFeesNotAllowed(total, items, others)
    return total


def refuse(errors: Sequence[FieldError], fees: Iterable[Mapping[str, Any]] = ()) -> Decimal:
    """One 422 naming every bad field of a request at once, or the fees' total when there is
    none. Fees charged to the worker make it the Employer Pays problem, listing the rest too."""
    total = check_worker_fees(fees, errors)
    if errors:
        raise InvalidFields(errors)
    return total


# -- terms ----------------------------------------------------------------------------------

# Minimum working age: 15 at home unless the vacancy says more; 18 for work abroad.
DEFAULT_MIN_AGE = {Kind.DOMESTIC: 15, Kind.OVERSEAS: 18}
MIN_AGE_FLOOR = {Kind.DOMESTIC: 15, Kind.OVERSEAS: 18}

DOMESTIC_ONLY = ("employer_id",)
OVERSEAS_ONLY = (
    "agency_id",
    "destination_country",
    "foreign_employer",
    "demand_letter_ref",
    "channel",
)
REQUIRED = {
    Kind.DOMESTIC: ("employer_id", "district"),
    Kind.OVERSEAS: (
        "agency_id",
        "destination_country",
        "foreign_employer",
        "demand_letter_ref",
        "channel",
    ),
}


def kind_field_errors(kind: Kind, values: Mapping[str, Any]) -> list[FieldError]:
    """A domestic vacancy names its employer and district; an overseas one its agency,
    destination, foreign employer, demand letter and channel; neither the other's fields."""
    errors = [
        FieldError(field, f"is required for {a(kind)} vacancy", "missing")
        for field in REQUIRED[kind]
        if values.get(field) in (None, "")
    ]
    foreign = OVERSEAS_ONLY if kind is Kind.DOMESTIC else DOMESTIC_ONLY
    errors += [
        FieldError(field, f"does not apply to {a(kind)} vacancy")
        for field in foreign
        if values.get(field) is not None
    ]
    return errors


def min_age_errors(kind: Kind, min_age: int | None, max_age: int | None) -> list[FieldError]:
    """The minimum age asked for is never below the legal floor, the maximum never below the
    minimum (the default of the kind when none is asked for)."""
    errors = []
    if min_age is not None and min_age < MIN_AGE_FLOOR[kind]:
        where = "abroad" if kind is Kind.OVERSEAS else "in Lao PDR"
        errors.append(
            FieldError("min_age", f"work {where} cannot be offered below age {MIN_AGE_FLOOR[kind]}")
        )
    floor = DEFAULT_MIN_AGE[kind] if min_age is None else min_age
    if max_age is not None and max_age < floor:
        errors.append(FieldError("max_age", f"must not be below the minimum age ({floor})"))
    return errors


def closing_errors(closes_on: date | None, today: date) -> list[FieldError]:
    """A vacancy being opened or extended must still be open on its closing date."""
    if closes_on is not None and closes_on < today:
        return [FieldError("closes_on", f"has passed (today is {today.isoformat()})")]
    return []


# Each rule alone, raising its 422: for callers that check one thing (the synthetic job bank
# checks what it generates against them). A request is checked with the *_errors functions
# above and refused once with everything wrong (`refuse`).


def _raise(errors: Sequence[FieldError]) -> None:
    if errors:
        raise InvalidFields(errors)


def check_kind_fields(kind: Kind, values: Mapping[str, Any]) -> None:
    _raise(kind_field_errors(kind, values))


def min_age_for(kind: Kind, requested: int | None) -> int:
    """The vacancy's minimum age: the default of its kind, never below the legal floor."""
    _raise(min_age_errors(kind, requested, None))
    return DEFAULT_MIN_AGE[kind] if requested is None else requested


def check_ages(min_age: int, max_age: int | None) -> None:
    if max_age is not None and max_age < min_age:
        _raise([FieldError("max_age", f"must not be below the minimum age ({min_age})")])


def check_closing(closes_on: date | None, today: date) -> None:
    _raise(closing_errors(closes_on, today))


def normalise_skills(skills: Iterable[str]) -> list[str]:
    """Lower-case, trimmed, inner spaces collapsed, each once, in the order given."""
    cleaned = (" ".join(s.split()).lower() for s in skills)
    return list(dict.fromkeys(s for s in cleaned if s))


# -- changes to an open vacancy -------------------------------------------------------------

# Once published, the terms candidates were matched on are fixed; these may still change.
CHANGEABLE_WHEN_OPEN = frozenset({"description", "closes_on", "positions"})


class FieldFrozen(Conflict):
    slug, title = "field-frozen", "Field cannot be changed now"


def check_open_changes(
    status: VacancyStatus, changes: Mapping[str, Any], positions: int
) -> list[FieldError]:
    """What may change after publication: the description, the closing date, more positions.

    Fields that may not change now answer 409 naming all of them (`fields`); what is returned
    are the changes that are allowed but wrong (fewer positions), for the request's 422.
    """
    if status is VacancyStatus.DRAFT:
        return []
    if status not in OPEN:
        raise FieldFrozen(f"{a(status)} vacancy cannot be changed", current_status=str(status))
    frozen = sorted(f for f in changes if f not in CHANGEABLE_WHEN_OPEN)
    if frozen:
        raise FieldFrozen(
            f"{', '.join(frozen)} cannot be changed once the vacancy is {status}",
            field=frozen[0],
            fields=frozen,
            current_status=str(status),
            changeable=sorted(CHANGEABLE_WHEN_OPEN),
        )
    if "positions" in changes and changes["positions"] < positions:
        return [FieldError("positions", f"can only grow once published (now {positions})")]
    return []


# -- pauses that follow the agency's licence ------------------------------------------------

# Prefixes of `status_reason`: what paused a vacancy says what may resume it.
PAUSED_SUSPENDED = "agency suspended"
PAUSED_REVOKED = "agency licence revoked"
PAUSED_EXPIRED = "agency licence expired"
# A valid licence again (reinstated or renewed) resumes these; a revocation is final.
RESUMABLE_PAUSES = (PAUSED_SUSPENDED, PAUSED_EXPIRED)


def pause_reason(agency_status: str, detail: str | None) -> str:
    """The `status_reason` of a vacancy paused because its agency became `agency_status`."""
    prefix = {
        "suspended": PAUSED_SUSPENDED,
        "revoked": PAUSED_REVOKED,
        "expired": PAUSED_EXPIRED,
    }[agency_status]
    return f"{prefix}: {detail}" if detail else prefix


def resumable(status_reason: str | None, closes_on: date | None, today: date) -> bool:
    """A paused vacancy resumes when its agency's licence is valid again, if still open."""
    return (
        status_reason is not None
        and status_reason.startswith(RESUMABLE_PAUSES)
        and (closes_on is None or closes_on >= today)
    )


# No 0/O or 1/I: the reference is read out over the phone.
_REFERENCE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"


def new_reference() -> str:
    """A short, unambiguous code for a vacancy (e.g. `V-7KQ2MX9A`)."""
    return "V-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _ in range(8))
