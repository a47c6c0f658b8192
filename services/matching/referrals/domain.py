"""Pure rules of referrals and placements: the lifecycle, and what a placement needs first."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING

from shared import transitions
from shared.problems import Conflict

if TYPE_CHECKING:
    from datetime import date


class ReferralStatus(enum.StrEnum):
    REFERRED = "referred"  # the officer sent the person to the employer or agency
    INTERVIEWED = "interviewed"
    OFFERED = "offered"
    PLACED = "placed"
    REJECTED = "rejected"  # by the employer, or the person turned the offer down
    WITHDRAWN = "withdrawn"  # the person or the officer withdrew the referral
    NO_SHOW = "no_show"  # the person did not come to the interview


OPEN = frozenset({ReferralStatus.REFERRED, ReferralStatus.INTERVIEWED, ReferralStatus.OFFERED})

TRANSITIONS: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    ReferralStatus.REFERRED: frozenset(
        {
            ReferralStatus.INTERVIEWED,
            ReferralStatus.OFFERED,
            ReferralStatus.REJECTED,
            ReferralStatus.WITHDRAWN,
            ReferralStatus.NO_SHOW,
        }
    ),
    ReferralStatus.INTERVIEWED: frozenset(
        {ReferralStatus.OFFERED, ReferralStatus.REJECTED, ReferralStatus.WITHDRAWN}
    ),
    ReferralStatus.OFFERED: frozenset(
        {ReferralStatus.PLACED, ReferralStatus.REJECTED, ReferralStatus.WITHDRAWN}
    ),
    ReferralStatus.PLACED: frozenset(),
    ReferralStatus.REJECTED: frozenset(),
    ReferralStatus.WITHDRAWN: frozenset(),
    ReferralStatus.NO_SHOW: frozenset(),
}

# What an agency may record about referrals to its own vacancies: the employer's side of it.
AGENCY_MAY_SET = frozenset(
    {
        ReferralStatus.INTERVIEWED,
        ReferralStatus.OFFERED,
        ReferralStatus.REJECTED,
        ReferralStatus.NO_SHOW,
    }
)
NEEDS_REASON = frozenset({ReferralStatus.REJECTED, ReferralStatus.WITHDRAWN})


class InvalidTransition(transitions.InvalidTransition):
    """409: the referral is not in a state the requested one may follow."""

    record = "a referral"


class MissingPrerequisite(Conflict):
    """409: an overseas placement lacks something the law or the MOU requires first."""

    slug, title = "missing-prerequisite", "A prerequisite of the placement is missing"

    def __init__(self, missing: list[dict[str, str]]) -> None:
        super().__init__(
            "; ".join(m["detail"] for m in missing),
            missing=missing,
            field=missing[0]["code"],
        )


class AlreadyPlaced(Conflict):
    slug, title = "already-placed", "The person already holds a placement"


class PlacementEnded(Conflict):
    slug, title = "placement-ended", "The placement has already ended"


class AlreadyReferred(Conflict):
    slug, title = "already-referred", "The person already has an open referral to this vacancy"


class NotReferable(Conflict):
    """409: the vacancy or the person cannot take a referral now; `reasons` says why."""

    slug, title = "not-referable", "The referral cannot be made"

    def __init__(self, detail: str, reasons: list[dict[str, str]]) -> None:
        super().__init__(detail, reasons=reasons)


def check_transition(current: ReferralStatus, requested: ReferralStatus) -> None:
    if requested not in TRANSITIONS[current]:
        raise InvalidTransition(current, requested, TRANSITIONS[current])


# A migration record still open: the person is preparing to leave (registry's lifecycle).
OPEN_MIGRATION = frozenset({"prospective", "ready"})


@dataclass(frozen=True)
class OverseasPlacement:
    """What an overseas placement is checked against, gathered by the service."""

    agency_code: str
    agency_status: str  # effective: active, suspended, revoked or expired
    agency_destinations: frozenset[str]
    destination_country: str
    orientation_valid_until: date | None  # for that destination, none when not completed
    passport_expires_on: date | None  # the person's latest passport, none when not recorded
    passport_needed_until: date  # six months past the start (ranking.domain)
    migration_status: str | None  # of the person's latest migration record
    migration_destination: str | None


def overseas_prerequisites(placement: OverseasPlacement, today: date) -> list[dict[str, str]]:
    """Everything missing before a worker may be placed abroad, all at once (empty when
    nothing is): the agency's licence for the destination, a valid orientation for it, a
    passport valid six months past the start, and an open migration record for it."""
    missing = []
    if placement.agency_status != "active":
        missing.append(
            {
                "code": "agency_licence",
                "detail": f"agency {placement.agency_code} is {placement.agency_status};"
                " an overseas placement needs an active licence",
            }
        )
    elif placement.destination_country not in placement.agency_destinations:
        missing.append(
            {
                "code": "agency_licence",
                "detail": f"agency {placement.agency_code} is not licensed for"
                f" {placement.destination_country}",
            }
        )
    valid = placement.orientation_valid_until
    if valid is None or valid < today:
        missing.append(
            {
                "code": "predeparture_orientation",
                "detail": "pre-departure orientation for"
                f" {placement.destination_country} is not completed"
                + (" (it expired)" if valid is not None else ""),
            }
        )
    passport = placement.passport_expires_on
    needed = placement.passport_needed_until
    if passport is None or passport < needed:
        missing.append(
            {
                "code": "passport",
                "detail": (
                    "no passport is recorded for the person"
                    if passport is None
                    else f"the passport expires on {passport.isoformat()}"
                )
                + f"; it must be valid until at least {needed.isoformat()}, six months past"
                " the start of the job",
            }
        )
    country = placement.destination_country
    status, destination = placement.migration_status, placement.migration_destination
    if status not in OPEN_MIGRATION or destination != country:
        latest = f" (the latest is {status} for {destination})" if status else ""
        missing.append(
            {
                "code": "migration_record",
                "detail": f"no open migration record (prospective or ready) for {country}"
                f"{latest}; open one at registry",
            }
        )
    return missing
