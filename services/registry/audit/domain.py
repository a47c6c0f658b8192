"""What the audit trail records: actions on a person's record, by name."""

from __future__ import annotations

import enum


class Action(enum.StrEnum):
    READ = "read"
    LISTED = "listed"  # appeared in a list or search result
    REGISTERED = "registered"
    UPDATED = "updated"
    MERGED = "merged"
    MERGED_INTO = "merged_into"
    ERASED = "erased"
    CONSENT_RECORDED = "consent_recorded"
    CONSENTS_READ = "consents_read"
    MIGRATION_CHANGED = "migration_changed"
    MIGRATION_READ = "migration_read"
    JOBSEEKER_STATUS_CHANGED = "jobseeker_status_changed"
    DUPLICATE_OVERRIDDEN = "duplicate_overridden"
    IMPORTED = "imported"
    CARD_SHOWN = "card_shown"  # an identity card of someone outside the officer's scope
    VISIT_RECORDED = "visit_recorded"
    SERVED_AT = "served_at"  # an office outside the person's province started serving them
    TRANSFERRED = "transferred"  # the record moved to the officer's office and province
    SLIP_PRINTED = "slip_printed"
