"""The record of processing: which personal data each service holds, why, on what basis, for how
long and for whom; docs/processing.md is generated from it: `python -m labourx.processing`.

The fields come from the marks on the models (shared/personal.py): a column's
`info=personal(...)`, an event field's `Personal(...)`. What is declared here, per service, is
what a mark cannot say: the purposes and their legal bases (or the consent purpose of registry's
consent records they depend on), and per table its purpose, retention and recipients. Events
take their retention from their topic's class (shared/events/topics.py, shared/settings.py) and
their recipients from the services that consume the topic and, for partner streams, from what
each partner scope receives (services/notify/partners/redaction.py).

The document itself is written by labourx/processing_document.py, from these declarations and
the models; tests/unit/test_record_of_processing.py fails when docs/processing.md is not what it
writes, when a table with a marked column has no declaration here, and when a column or event
field whose name suggests personal data is neither marked nor listed as not personal.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

from services.console.sessions.service import KEEP_ENDED
from shared.personal import Category

REPO = Path(__file__).resolve().parents[1]
DOCUMENT = REPO / "docs" / "processing.md"


@dataclass(frozen=True)
class Purpose:
    """Why a service processes personal data, on what legal basis."""

    what: str
    basis: str
    # The purpose of registry's consent records (services/registry/consent/domain.py) it rests
    # on; the service stops processing for it when that consent is not in force.
    consent: str | None = None


@dataclass(frozen=True)
class Holding:
    """A table's purpose, how long its personal data stays, and who reads it."""

    purpose: str
    retention: str
    recipients: str


@dataclass(frozen=True)
class ServiceRecord:
    summary: str
    purposes: dict[str, Purpose]
    tables: dict[str, Holding]
    # The purpose of the events the service publishes (per topic), and of marked fields of a
    # category that serves another purpose than their table's or event's (special categories).
    topics: dict[str, str] = field(default_factory=dict)
    by_category: dict[Category, str] = field(default_factory=dict)


# How long a person's record is kept: until erasure, and, once the setting of issue 20 point 6
# exists, no longer than that many days without activity (docs/operations.md, "Retention of
# records"). Read from the settings when the record is made.
RECORD_RETENTION_SETTING = "record_retention_days"


def record_retention() -> str:
    from shared.settings import Settings

    setting = Settings.model_fields.get(RECORD_RETENTION_SETTING)
    if setting is None:
        return "until erasure"
    return (
        f"until erasure, or anonymised as an erasure does after `{RECORD_RETENTION_SETTING}` "
        f"({setting.default} days) without activity"
    )


RECORD = "{record}"  # replaced by record_retention()
READ_MODEL = "as the person's record in registry: deleted or blanked when PersonErased arrives"
PUBLIC_TASK = "public task: the employment services of the Ministry of Labour and Social Welfare"

RECORDS: dict[str, ServiceRecord] = {
    "registry": ServiceRecord(
        summary="The record of each person registered at an ESC or MRC: the source of the "
        "person's data for every other service.",
        purposes={
            "registration": Purpose(
                "Register a person and keep their record: who they are, how to reach them, what "
                "they can do, their identity documents, and tell them apart from others",
                PUBLIC_TASK,
                consent="registration",
            ),
            "equality_statistics": Purpose(
                "Figures disaggregated by ethnic group and disability, and adjustments for a "
                "person with a disability; asked, never required (null when not answered)",
                "explicit consent (special categories)",
                consent="registration",
            ),
            "migration_protection": Purpose(
                "Follow a worker's stay abroad: travel and work documents, the employer, the "
                "return date and its reminder, services on return",
                f"{PUBLIC_TASK}; labour migration under the bilateral MOUs",
            ),
            "jobseeking": Purpose(
                "A jobseeker's profile and status, moved by officers and referrals",
                PUBLIC_TASK,
                consent="job_matching",
            ),
            "serving_offices": Purpose(
                "Let an office outside the person's province serve them, and say why",
                PUBLIC_TASK,
            ),
            "consent_records": Purpose(
                "Prove each consent decision: who witnessed a thumbprint or a verbal consent",
                "legal obligation: accountability for consent",
            ),
        },
        tables={
            "people": Holding(
                "registration",
                f"{RECORD}: erasure empties every marked field, the education, skills and "
                "experience (services/registry/people/records.py PERSONAL); sex, birth year and "
                "province stay for the counts, and the reference, which then leads to a "
                "tombstone (410 Gone)",
                "registry officers of the person's province and of offices serving them "
                "(services/registry/scope.py); published on registry.people",
            ),
            "identity_documents": Holding(
                "registration",
                f"{RECORD} (the rows are deleted)",
                "registry officers of the person's province and of offices serving them; a "
                "document number is never published",
            ),
            "migration_records": Holding(
                "migration_protection",
                f"{RECORD} (the rows are deleted)",
                "registry officers as for the person; its statuses and dates (no document "
                "numbers, no employer) on registry.people",
            ),
            "jobseeker_profiles": Holding(
                "jobseeking",
                f"{RECORD} (the rows are deleted)",
                "registry officers as for the person",
            ),
            "service_links": Holding(
                "serving_offices",
                f"{RECORD} (the rows are deleted)",
                "registry officers as for the person",
            ),
            "consents": Holding(
                "consent_records",
                f"{RECORD} (the rows are deleted)",
                "registry officers as for the person; decisions (no witness, no note) on "
                "registry.people",
            ),
        },
        topics={"registry.people": "registration"},
        by_category={
            Category.ETHNICITY: "equality_statistics",
            Category.HEALTH: "equality_statistics",
        },
    ),
    "matching": ServiceRecord(
        summary="Vacancies, referrals and placements, licensed agencies; a read model of "
        "candidates built from registry's and predeparture's events.",
        purposes={
            "job_matching": Purpose(
                "Rank candidates for a vacancy, refer and place them",
                PUBLIC_TASK,
                consent="job_matching",
            ),
            "recruitment_oversight": Purpose(
                "Supervise licensed recruitment agencies: complaints, name lists, recruitment "
                "costs against the Employer Pays Principle",
                f"{PUBLIC_TASK}; licensing and supervision of recruitment agencies",
            ),
            "business_contacts": Purpose(
                "Reach an employer or an agency about its vacancies and its licence",
                f"{PUBLIC_TASK}; the contact person's details given by their organisation",
            ),
        },
        tables={
            "candidates": Holding(
                "job_matching",
                READ_MODEL,
                "officers of the person's province and of offices serving them "
                "(services/matching/scope.py); never agents",
            ),
            "candidate_orientations": Holding("job_matching", READ_MODEL, "as candidates"),
            "referrals": Holding(
                "job_matching",
                "the referral stays for the counts; its note is blanked on erasure",
                "officers of the vacancy's and of the person's province; the agency of an "
                "overseas vacancy",
            ),
            "referral_status_changes": Holding(
                "job_matching", "as the referral; reasons blanked on erasure", "as referrals"
            ),
            "placements": Holding(
                "job_matching", "as the referral; its end reason blanked on erasure", "as referrals"
            ),
            "name_list_entries": Holding(
                "recruitment_oversight",
                "with the vacancy; the withdrawal reason blanked on erasure",
                "officers; the agency that submitted the list",
            ),
            "recruitment_costs": Holding(
                "recruitment_oversight",
                "a ledger kept with the agency's file; the note blanked on erasure",
                "officers; supervisors of agencies",
            ),
            "agency_complaints": Holding(
                "recruitment_oversight",
                "with the agency's file: an erasure of the complainant does not clear it",
                "supervisors of agencies",
            ),
            "agencies": Holding(
                "business_contacts", "as the agency's licence record", "officers; the agency"
            ),
            "employers": Holding(
                "business_contacts", "as the employer's record", "officers of its province"
            ),
        },
        topics={
            "matching.referrals": "job_matching",
            "matching.vacancies": "job_matching",
            "matching.agencies": "recruitment_oversight",
        },
    ),
    "predeparture": ServiceRecord(
        summary="Pre-departure orientation: sessions, enrolments, attendance, certificates; a "
        "read model of learners built from registry's events.",
        purposes={
            "orientation": Purpose(
                "Enrol people in orientation, keep the roster they sign and issue their "
                "certificate",
                f"{PUBLIC_TASK}; orientation before work abroad",
            ),
            "session_delivery": Purpose(
                "Say who gives a session or an outreach visit",
                f"{PUBLIC_TASK}; the facilitator's role",
            ),
        },
        tables={
            "learners": Holding(
                "orientation",
                f"{READ_MODEL} (the row is deleted)",
                "officers of the person's province, of offices serving them and of the "
                "session's office (services/predeparture/scope.py)",
            ),
            "completions": Holding(
                "orientation",
                "the certificate stays valid for its period and as history; its withdrawal "
                "reason blanked on erasure",
                "as learners; the certificate's public check shows initials only",
            ),
            "attendance": Holding(
                "orientation", "as the session's roster; notes blanked on erasure", "as learners"
            ),
            "attendance_corrections": Holding(
                "orientation",
                "append-only: an erasure does not clear the reason",
                "as learners",
            ),
            "enrolments": Holding(
                "orientation", "as the session; reasons blanked on erasure", "as learners"
            ),
            "orientation_sessions": Holding(
                "session_delivery", "as the session", "officers; learners on its invitations"
            ),
            "outreach_sessions": Holding(
                "session_delivery",
                "as the outreach record (counts by sex and age band, never who came)",
                "officers",
            ),
        },
        topics={"predeparture.orientations": "orientation"},
    ),
    "notify": ServiceRecord(
        summary="Messages to people (SMS, email) and partner feeds; a read model of contacts "
        "built from registry's events.",
        purposes={
            "contact_sms": Purpose(
                "Send the person SMS about their registration, referrals, orientation and return",
                "consent",
                consent="contact_sms",
            ),
            "contact_email": Purpose(
                "Send the person email about the same", "consent", consent="contact_email"
            ),
            "messaging": Purpose(
                "Write, send and follow each message: its text, its recipient, the replies and "
                "STOP",
                "consent; honouring an objection (STOP) is a legal obligation",
                consent="contact_sms",
            ),
            "partner_sharing": Purpose(
                "Feeds, webhooks and topics for partner organisations, each cut to its scope "
                "and to the person's consent",
                "consent (person-level data); public task (aggregate figures)",
                consent="partner_sharing",
            ),
            "development": Purpose(
                "What the development provider 'sent', instead of a phone or a mailbox",
                "none in production: the development provider is never configured there",
            ),
        },
        tables={
            "contacts": Holding(
                "contact_sms",
                f"{READ_MODEL} (the row is deleted)",
                "notify officers of the person's province and of offices serving them; the "
                "SMS gateway and the mail server (phone number, email address)",
            ),
            "messages": Holding(
                "messaging",
                "recipient, subject and body blanked on erasure; the rest stays for the counts",
                "the SMS gateway or the mail server; notify officers as for the person",
            ),
            "inbound_sms": Holding(
                "messaging", "sender and text blanked on erasure", "notify officers"
            ),
            "sms_opt_outs": Holding(
                "messaging",
                "until the number replies START: kept after an erasure, so that no message "
                "reaches a number that asked for none",
                "no one: the dispatcher reads it",
            ),
            "dev_outbox": Holding(
                "development", "deleted on erasure", "developers (GET /v1/dev/outbox)"
            ),
            "partner_feed_entries": Holding(
                "partner_sharing",
                "data replaced by its aggregate view on erasure; a removal entry on consent "
                "withdrawal",
                "partners, each by its scope and the person's consent (see the events)",
            ),
        },
    ),
    "console": ServiceRecord(
        summary="The officers' web console: it keeps no data about the people served, only "
        "the sessions of the officers signed in.",
        purposes={
            "sign_in": Purpose(
                "Keep an officer signed in and call the services on their behalf",
                f"{PUBLIC_TASK}; security of the system",
            ),
        },
        tables={
            "console_sessions": Holding(
                "sign_in",
                f"purged {KEEP_ENDED.days} days after the session ends",
                "no one: the console reads it for each request",
            ),
            "console_oidc_grants": Holding(
                "sign_in",
                "deleted with its session",
                "the identity provider, when the officer signs out (the ID token as a hint) or"
                " the session is refreshed",
            ),
        },
    ),
}

# The kit's tables, which every service database holds.
SHARED_MODELS = (
    "shared.outbox.models",
    "shared.consumer.models",
    "shared.idempotency",
    "shared.sealing_keys",
)
SHARED_TABLES: dict[str, str] = {
    "outbox": "events not yet relayed, with their payloads (the events' fields listed above): "
    "deleted 7 days after they are sent, and at once for an erased person in registry",
    "idempotency_keys": "the answers to requests, kept to replay them: an answer may hold a "
    "person's record; deleted after LABOURX_IDEMPOTENCY_KEY_RETENTION_DAYS (7 days), and at "
    "once for an erased person in registry",
    "inbox": "ids and types of the events applied: no personal data",
    "person_keys": "each person's key, which opens the personal part of their events on "
    "registry.people (sealed since version 2 of PersonRegistered and PersonUpdated): registry "
    "makes it at registration and destroys it on erasure; matching, predeparture and notify "
    "keep the keys they fetched from registry and destroy each with PersonErased. Once every "
    "copy is gone, no record of the person on any topic or dead-letter topic can be read",
}
STAFF = (
    "Staff account ids (the `*_by` columns, the audit trails' `actor`) are on most tables and "
    "events: the record of official acts, kept as long as the row or event, read by "
    "supervisors and auditors. They are not listed field by field."
)


def main() -> None:
    from labourx.processing_document import render

    DOCUMENT.write_text(render())
    print(f"wrote {DOCUMENT.relative_to(REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()
