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
