"""Pure rules of a migration record: its lifecycle and the dates of an MOU work permit."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, timedelta

from shared import transitions
from shared.clock import add_years
from shared.problems import FieldError, InvalidFields


class MigrationStatus(enum.StrEnum):
    PROSPECTIVE = "prospective"  # counselled, thinking of going
    READY = "ready"  # documents and orientation done, waiting to leave
    DEPARTED = "departed"  # left Lao PDR
    ABROAD = "abroad"  # arrived and working at the destination
    RETURNED = "returned"  # back home; the person becomes a jobseeker again
    CANCELLED = "cancelled"  # gave up before leaving


class Channel(enum.StrEnum):
    MOU = "mou"  # Lao-Thailand MOU recruitment through a licensed agency
    OTHER_REGULAR = "other_regular"  # another regular route (other country's scheme, own contract)
    IRREGULAR = "irregular"  # as the person reports it, never a reason to refuse the record


# Who may follow whom. A cancelled or returned record is closed: a new departure is a new record,
# so that the history of each stay abroad stays whole.
TRANSITIONS: dict[MigrationStatus, frozenset[MigrationStatus]] = {
    MigrationStatus.PROSPECTIVE: frozenset({MigrationStatus.READY, MigrationStatus.CANCELLED}),
    MigrationStatus.READY: frozenset(
        {MigrationStatus.PROSPECTIVE, MigrationStatus.DEPARTED, MigrationStatus.CANCELLED}
    ),
    MigrationStatus.DEPARTED: frozenset({MigrationStatus.ABROAD, MigrationStatus.RETURNED}),
    MigrationStatus.ABROAD: frozenset({MigrationStatus.RETURNED}),
    MigrationStatus.RETURNED: frozenset(),
    MigrationStatus.CANCELLED: frozenset(),
}


class InvalidTransition(transitions.InvalidTransition):
    """409: the record is not in a state the requested one may follow."""

    record = "a migration record"


class ReturnReason(enum.StrEnum):
    CONTRACT_COMPLETED = "contract_completed"
    PERMIT_ENDED = "permit_ended"
    DISMISSED = "dismissed"
    ABUSE_OR_EXPLOITATION = "abuse_or_exploitation"  # a case for MRC follow-up and referral
    HEALTH = "health"
    FAMILY = "family"
    DEPORTED = "deported"
    OTHER = "other"


def check_transition(current: MigrationStatus, requested: MigrationStatus) -> None:
    if requested not in TRANSITIONS[current]:
        raise InvalidTransition(current, requested, TRANSITIONS[current])


def check_requirements(
    requested: MigrationStatus,
    *,
    channel: Channel,
    agency_code: str | None,
    departed_on: date | None,
    returned_on: date | None,
    return_reason: ReturnReason | None,
    today: date,
) -> None:
    """What a status needs besides a valid transition; every missing or wrong field is named
    in one answer."""
    errors = []
    if requested is MigrationStatus.READY and channel is Channel.MOU and not agency_code:
        errors.append(FieldError("agency_code", "MOU recruitment goes through a licensed agency"))
    if requested is MigrationStatus.DEPARTED and departed_on is None:
        errors.append(FieldError("on", "the departure date is required"))
    if requested is MigrationStatus.RETURNED:
        if returned_on is None:
            errors.append(FieldError("on", "the return date is required"))
        if return_reason is None:
            errors.append(FieldError("return_reason", "is required when a worker returns"))
        if departed_on is not None and returned_on is not None and returned_on < departed_on:
            errors.append(FieldError("on", "the return cannot be before the departure"))
    if any(day is not None and day > today for day in (departed_on, returned_on)):
        errors.append(FieldError("on", "cannot be in the future"))
    if errors:
        raise InvalidFields(errors)


# Under the Lao-Thailand MOU a work permit runs two years and may be extended once by two more;
# workers must be home 30 days before the permit ends.
MOU_PERMIT_YEARS = 2
MOU_EXTENSION_YEARS = 2
MOU_RETURN_MARGIN = timedelta(days=30)


@dataclass(frozen=True)
class MouPermit:
    issued_on: date
    extended: bool = False

    @property
    def expires_on(self) -> date:
        """The last day of validity: the day before the anniversary."""
        years = MOU_PERMIT_YEARS + (MOU_EXTENSION_YEARS if self.extended else 0)
        return add_years(self.issued_on, years) - timedelta(days=1)

    @property
    def return_due_on(self) -> date:
        """The last day the worker should be back in Lao PDR."""
        return self.expires_on - MOU_RETURN_MARGIN

    def reminder_on(self, lead: timedelta) -> date:
        """When to remind the worker that the return date is coming, `lead` ahead of it."""
        return self.return_due_on - lead
