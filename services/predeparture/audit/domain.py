"""What predeparture's audit trail records, by name."""

from __future__ import annotations

import enum


class Action(enum.StrEnum):
    LEARNER_READ = "learner_read"
    LISTED = "listed"  # appeared in a list of learners
    ROSTER_READ = "roster_read"  # on a session's roster or attendance grid, as read
    ROSTER_PRINTED = "roster_printed"  # on a printed roster to sign
    ORIENTATION_READ = "orientation_read"
    CERTIFICATE_PRINTED = "certificate_printed"
    ENROLLED = "enrolled"  # by an officer (automatic invitations are the service's own)
    ENROLMENT_CANCELLED = "enrolment_cancelled"
    SESSION_ENTERED_LATE = "session_entered_late"
    OUTREACH_ENTERED_LATE = "outreach_entered_late"


class Basis(enum.StrEnum):
    """On what ground the acting office reached the person (see services/predeparture/scope)."""

    NATIONAL = "national"
    PROVINCE = "province"
    SERVING = "serving"
    SESSION = "session"
