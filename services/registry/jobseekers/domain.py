"""A jobseeker's status and the moves between states, by officers and by referral events."""

from __future__ import annotations

import enum

from shared.events.matching import OPEN_REFERRAL_STATES
from shared.problems import Conflict


class JobseekerStatus(enum.StrEnum):
    ACTIVE = "active"  # looking for work, may be matched
    REFERRED = "referred"  # at least one referral is open
    PLACED = "placed"  # in a job found through the service
    INACTIVE = "inactive"  # not looking (found work alone, moved away, abroad, asked to pause)


ALLOWED: dict[JobseekerStatus, frozenset[JobseekerStatus]] = {
    JobseekerStatus.ACTIVE: frozenset({JobseekerStatus.REFERRED, JobseekerStatus.INACTIVE}),
    JobseekerStatus.REFERRED: frozenset(
        {JobseekerStatus.ACTIVE, JobseekerStatus.PLACED, JobseekerStatus.INACTIVE}
    ),
    JobseekerStatus.PLACED: frozenset({JobseekerStatus.ACTIVE, JobseekerStatus.INACTIVE}),
    JobseekerStatus.INACTIVE: frozenset({JobseekerStatus.ACTIVE}),
}


class InvalidJobseekerTransition(Conflict):
    slug, title = "invalid-transition", "Transition not allowed"


def check_transition(current: JobseekerStatus, new: JobseekerStatus) -> None:
    """409 naming the current state and the states reachable from it."""
    if new not in ALLOWED[current]:
        raise InvalidJobseekerTransition(
            f"a jobseeker who is {current.value} cannot become {new.value}",
            current_status=current.value,
            allowed=sorted(s.value for s in ALLOWED[current]),
        )


def status_after_referral(
    current: JobseekerStatus, referral_status: str, open_referrals: int
) -> JobseekerStatus | None:
    """Where a referral event moves the jobseeker, or None when it changes nothing.

    `open_referrals` counts the person's open referrals after this event was applied. A placed
    or inactive jobseeker is not pulled back by referral news; an officer decides that.
    """
    if referral_status == "placed":
        return JobseekerStatus.PLACED if current is not JobseekerStatus.PLACED else None
    if referral_status in OPEN_REFERRAL_STATES:
        return JobseekerStatus.REFERRED if current is JobseekerStatus.ACTIVE else None
    # rejected, withdrawn, no-show: back to active once nothing else is open
    if current is JobseekerStatus.REFERRED and open_referrals == 0:
        return JobseekerStatus.ACTIVE
    return None
