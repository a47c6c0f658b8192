"""Pure rules of agency supervision: licence status, its changes, and complaints."""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

from shared import transitions
from shared.problems import Conflict, FieldError, InvalidField, InvalidFields

if TYPE_CHECKING:
    from datetime import date


class AgencyStatus(enum.StrEnum):
    """The supervisor's recorded decision; `expired` is derived from the licence's date."""

    ACTIVE = "active"
    SUSPENDED = "suspended"
    REVOKED = "revoked"


EXPIRED = "expired"

# A revoked licence is final: the agency applies again for a new one.
TRANSITIONS: dict[AgencyStatus, frozenset[AgencyStatus]] = {
    AgencyStatus.ACTIVE: frozenset({AgencyStatus.SUSPENDED, AgencyStatus.REVOKED}),
    AgencyStatus.SUSPENDED: frozenset({AgencyStatus.ACTIVE, AgencyStatus.REVOKED}),
    AgencyStatus.REVOKED: frozenset(),
}
NEEDS_REASON = frozenset({AgencyStatus.SUSPENDED, AgencyStatus.REVOKED})


def licence_expired(licence_expires_on: date, today: date) -> bool:
    """A licence is valid through its last day and expired from the day after."""
    return today > licence_expires_on


def effective_status(status: str, licence_expires_on: date, today: date) -> str:
    """What the agency may do today: its recorded status, or `expired` once an active
    licence has run out (whether or not the expiry job has announced it yet)."""
    if status == AgencyStatus.ACTIVE and licence_expired(licence_expires_on, today):
        return EXPIRED
    return status


class InvalidTransition(transitions.InvalidTransition):
    """409: the agency's status (as it shows today: `expired` once its licence ran out) may not
    become the one asked for."""

    record = "an agency"


class LicenceExpired(Conflict):
    slug, title = "licence-expired", "Licence expired"


def check_status_change(
    current: AgencyStatus,
    requested: AgencyStatus,
    *,
    reason: str | None,
    licence_expires_on: date,
    effective_on: date,
    today: date,
) -> None:
    """Refuse a supervision decision the rules do not allow: 409 when the agency's state
    forbids it, else one 422 naming every bad field."""
    shown = effective_status(current, licence_expires_on, today)
    if requested not in TRANSITIONS[current]:
        raise InvalidTransition(shown, requested, TRANSITIONS[current])
    if requested is AgencyStatus.ACTIVE and licence_expired(licence_expires_on, today):
        raise LicenceExpired(
            f"the licence expired on {licence_expires_on}; renew it before reinstating",
            field="licence_expires_on",
            current_status=shown,
            rule="licence_valid",
        )
    errors = []
    if requested in NEEDS_REASON and not (reason and reason.strip()):
        errors.append(
            FieldError("reason", f"is required to record an agency as {requested}", "missing")
        )
    if effective_on > today:
        errors.append(FieldError("effective_on", "cannot be in the future"))
    if errors:
        raise InvalidFields(errors)


def check_licence(issued_on: date, expires_on: date, today: date) -> None:
    """A licence recorded or renewed must run after its issue date and still be valid; one 422
    names every date that is wrong."""
    errors = []
    if expires_on <= issued_on:
        errors.append(FieldError("licence_expires_on", "must be after licence_issued_on"))
    elif licence_expired(expires_on, today):
        errors.append(FieldError("licence_expires_on", "the licence has already expired"))
    if issued_on > today:
        errors.append(FieldError("licence_issued_on", "cannot be in the future"))
    if errors:
        raise InvalidFields(errors)


class AgencyNotEligible(Conflict):
    """409: the agency may not recruit for this vacancy now (licence status or destination)."""

    slug, title = "agency-not-eligible", "Agency may not recruit for this"


def check_may_recruit(
    *,
    code: str,
    status: str,
    licence_expires_on: date,
    destinations: list[str],
    destination_country: str,
    today: date,
) -> None:
    """An overseas vacancy needs an active agency, a valid licence, and the destination in it."""
    shown = effective_status(status, licence_expires_on, today)
    if shown == EXPIRED:
        raise AgencyNotEligible(
            f"the licence of agency {code} expired on {licence_expires_on}",
            field="agency_id",
            rule="licence_valid",
            agency_status=shown,
        )
    if shown != AgencyStatus.ACTIVE:
        raise AgencyNotEligible(
            f"agency {code} is {shown}",
            field="agency_id",
            rule="agency_active",
            agency_status=shown,
        )
    if destination_country not in destinations:
        raise AgencyNotEligible(
            f"agency {code} is not licensed to recruit for {destination_country}",
            field="destination_country",
            rule="licensed_destination",
            licensed_destinations=sorted(destinations),
        )


class ComplaintCategory(enum.StrEnum):
    FEES_CHARGED = "fees_charged"
    CONTRACT_SUBSTITUTION = "contract_substitution"
    PASSPORT_WITHHELD = "passport_withheld"
    WAGE_THEFT = "wage_theft"
    ABUSE = "abuse"
    DECEPTION = "deception"
    OTHER = "other"


class ComplaintStatus(enum.StrEnum):
    OPEN = "open"
    INVESTIGATING = "investigating"
    UPHELD = "upheld"
    DISMISSED = "dismissed"


# Not yet decided: what supervisors count as a complaint still open against an agency.
OPEN_COMPLAINTS = frozenset({ComplaintStatus.OPEN, ComplaintStatus.INVESTIGATING})
COMPLAINT_TRANSITIONS: dict[ComplaintStatus, frozenset[ComplaintStatus]] = {
    ComplaintStatus.OPEN: frozenset(
        {ComplaintStatus.INVESTIGATING, ComplaintStatus.UPHELD, ComplaintStatus.DISMISSED}
    ),
    ComplaintStatus.INVESTIGATING: frozenset({ComplaintStatus.UPHELD, ComplaintStatus.DISMISSED}),
    ComplaintStatus.UPHELD: frozenset(),
    ComplaintStatus.DISMISSED: frozenset(),
}


class InvalidComplaintTransition(transitions.InvalidTransition):
    record = "a complaint"


def check_complaint_change(
    current: ComplaintStatus, requested: ComplaintStatus, outcome: str | None
) -> None:
    """A complaint is investigated, then upheld or dismissed with its outcome written down."""
    if requested not in COMPLAINT_TRANSITIONS[current]:
        raise InvalidComplaintTransition(current, requested, COMPLAINT_TRANSITIONS[current])
    if requested not in OPEN_COMPLAINTS and not (outcome and outcome.strip()):
        raise InvalidField("outcome", f"is required when a complaint is {requested}")
