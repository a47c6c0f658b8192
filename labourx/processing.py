"""The record of processing: which personal data each service holds, why, on what basis, for how
long and for whom; docs/processing.md is generated from it: `python -m labourx.processing`.

The fields come from the marks on the models (shared/personal.py): a column's
`info=personal(...)`, an event field's `Personal(...)`. What is declared here, per service, is
what a mark cannot say: the purposes and their legal bases (or the consent purpose of registry's
consent records they depend on), and per table its purpose, retention and recipients. Events
take their retention from their topic's class (shared/events/topics.py, shared/settings.py) and
their recipients from the services that consume the topic and, for partner streams, from what
each partner scope receives (services/notify/partners/redaction.py).

tests/unit/test_record_of_processing.py fails when docs/processing.md is not what this module
writes, when a table with a marked column has no declaration here, and when a column or event
field whose name suggests personal data is neither marked nor listed as not personal.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Table

from services.console.sessions.service import KEEP_ENDED
from shared.personal import (
    Category,
    Personal,
    Subject,
    column_mark,
    model_marks,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

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
        },
    ),
}

# The kit's tables, which every service database holds.
SHARED_MODELS = ("shared.outbox.models", "shared.consumer.models", "shared.idempotency")
SHARED_TABLES: dict[str, str] = {
    "outbox": "events not yet relayed, with their payloads (the events' fields listed above): "
    "deleted 7 days after they are sent, and at once for an erased person in registry",
    "idempotency_keys": "the answers to requests, kept to replay them: an answer may hold a "
    "person's record; registry deletes an erased person's",
    "inbox": "ids and types of the events applied: no personal data",
}
STAFF = (
    "Staff account ids (the `*_by` columns, the audit trails' `actor`) are on most tables and "
    "events: the record of official acts, kept as long as the row or event, read by "
    "supervisors and auditors. They are not listed field by field."
)


# --- what the models hold ------------------------------------------------------------------


def load_models() -> None:
    """Import every table model of every service and of the kit, so that the metadata holds
    them all."""
    for module in SHARED_MODELS:
        importlib.import_module(module)
    for path in sorted((REPO / "services").rglob("models.py")):
        importlib.import_module(".".join(path.relative_to(REPO).with_suffix("").parts))


def tables_by_service() -> dict[str, list[Table]]:
    """Every table, under the service whose code declares it (`shared` for the kit's)."""
    from shared.db import Base

    load_models()
    found: dict[str, list[Table]] = {}
    owners = {
        m.local_table.name: m.class_.__module__
        for m in Base.registry.mappers
        if isinstance(m.local_table, Table)
    }
    for name, table in sorted(Base.metadata.tables.items()):
        module = owners.get(name, "shared")
        service = module.split(".")[1] if module.startswith("services.") else "shared"
        found.setdefault(service, []).append(table)
    return found


def column_marks(table: Table) -> Iterator[tuple[str, Personal]]:
    for column in table.columns:
        mark = column_mark(column.info)
        if mark is not None:
            yield column.name, mark


# Columns that say nothing about the person a row is about: keys, row bookkeeping, staff.
BOOKKEEPING = frozenset(
    {"id", "person_id", "version", "record_version", "created_at", "updated_at"}
)


def facts(table: Table) -> list[str]:
    """The unmarked columns of a row about one person (a `person_id`, or registry's `people`):
    what else it says about them. Empty for a row about no one person."""
    if "person_id" not in table.columns and table.name != "people":
        return []
    return [
        c.name
        for c in table.columns
        if column_mark(c.info) is None
        and c.name not in BOOKKEEPING
        and not c.name.endswith(("_by", "_id"))
    ]


def _category(mark: Personal) -> str:
    return f"{mark.category}, special category" if mark.special else str(mark.category)


def _field(name: str, mark: Personal) -> str:
    """`name` (category[, of whom]; note)."""
    detail = _category(mark)
    if mark.subject is not Subject.PERSON:
        detail += f" of a {mark.subject}"
    if mark.note:
        detail += f": {mark.note}"
    return f"`{name}` ({detail})"


def _basis(purpose: Purpose) -> str:
    if purpose.consent:
        return f"{purpose.basis}; consent purpose `{purpose.consent}`"
    return purpose.basis


def purpose_of(service: str, default: str, mark: Personal) -> str:
    record = RECORDS[service]
    return mark.purpose or record.by_category.get(mark.category, default)


# --- events --------------------------------------------------------------------------------


def _retention_of_topic(topic: str) -> str:
    from services.notify.partners.streams import STREAMS
    from shared.events.topics import TopicClass, topic_class
    from shared.settings import Settings

    setting = {
        TopicClass.PERSONAL: "topic_retention_personal_ms",
        TopicClass.NON_PERSONAL: "topic_retention_non_personal_ms",
    }[topic_class(topic) or TopicClass.PERSONAL]
    default = Settings.model_fields[setting].default
    days = "for ever" if default == -1 else f"{default // 86_400_000} days"
    partners = (
        "; partners' Kafka copies `topic_retention_personal_ms`, their feed entries as "
        "notify's `partner_feed_entries`"
        if topic in STREAMS
        else ""
    )
    return (
        f"on the topic `{setting}` (default {days}); dead letters "
        f"`topic_retention_dead_letter_ms`{partners}; consumers' copies as their tables say"
    )


def consumers_of(topic: str) -> list[str]:
    from labourx.catalog import SERVICES

    return sorted(
        name
        for name, spec in SERVICES.items()
        if any(topic in consumer.topics for consumer in spec.consumers)
    )


def partner_view(field_name: str, about_person: bool) -> str:
    """Which partner scopes receive a field, and as what (services/notify/partners/redaction.py)."""
    from services.notify.partners import redaction as r

    if field_name in r.PERSON_IDS or field_name in r.LINKED_IDS:
        pseudonymised = "as a per-partner pseudonym"
    elif field_name == r.BIRTH_DATE:
        pseudonymised = "as an age band"
    elif field_name == r.REFERENCE:
        pseudonymised = "" if about_person else "as is"
    elif field_name in r.SHAREABLE:
        pseudonymised = "as is"
    else:
        pseudonymised = ""
    aggregate = pseudonymised
    if about_person and pseudonymised:
        kept = "age_band" if field_name == r.BIRTH_DATE else field_name
        aggregate = pseudonymised if kept in r.AGGREGATE_FIELDS else ""
    views = [f"aggregate {aggregate}"] if aggregate else []
    if pseudonymised:
        views.append(f"pseudonymised {pseudonymised}")
    views.append("personal")
    consent = " (person-level scopes only with the person's `partner_sharing` consent)"
    return "partners: " + ", ".join(views) + (consent if about_person else "")


def event_rows(service: str) -> Iterator[list[str]]:
    """One row per topic and purpose: the events, their marked fields, who receives them."""
    from services.notify.partners.streams import STREAMS
    from shared.events import CATALOGUE

    record = RECORDS[service]
    # (topic, purpose) -> marked field -> (its mark, the events that carry it)
    groups: dict[tuple[str, str], dict[str, tuple[Personal, list[str]]]] = {}
    about_person: dict[str, bool] = {}
    for spec in sorted(CATALOGUE.values(), key=lambda spec: (spec.topic, spec.type)):
        if spec.service != service:
            continue
        for name, mark in model_marks(spec.model).items():
            purpose = purpose_of(service, record.topics[spec.topic], mark)
            group = groups.setdefault((spec.topic, purpose), {})
            group.setdefault(name, (mark, []))[1].append(spec.model.__name__)
        about_person[spec.model.__name__] = "person_id" in spec.model.model_fields
    for (topic, purpose), fields in groups.items():
        events = sorted({event for _, names in fields.values() for event in names})
        recipients = [f"services: {', '.join(consumers_of(topic)) or 'none'}"]
        if topic in STREAMS:
            views: dict[str, list[str]] = {}
            for name, (_, carriers) in fields.items():
                about = any(about_person[event] for event in carriers)
                view = partner_view(name.split(".")[0], about)
                views.setdefault(view, []).append(f"`{name}`")
            recipients += [f"{', '.join(names)} to {view}" for view, names in views.items()]
        yield [
            f"`{topic}`",
            ", ".join(events),
            ", ".join(_field(name, mark) for name, (mark, _) in fields.items()),
            f"`{purpose}`",
            _basis(record.purposes[purpose]),
            _retention_of_topic(topic),
            "; ".join(recipients),
        ]


# --- the document --------------------------------------------------------------------------


def table_rows(
    service: str, tables: list[Table], record_text: str
) -> tuple[list[list[str]], list[str]]:
    """One row per table and purpose of a service's marked columns; and the tables about a
    person that hold nothing marked (pseudonymous)."""
    record = RECORDS[service]
    groups: dict[tuple[str, str], list[str]] = {}
    pseudonymous = []
    by_name = {table.name: table for table in tables}
    for table in tables:
        marks = list(column_marks(table))
        if not marks:
            if "person_id" in table.columns:
                pseudonymous.append(f"`{table.name}`")
            continue
        for name, mark in marks:
            purpose = purpose_of(service, record.tables[table.name].purpose, mark)
            groups.setdefault((table.name, purpose), []).append(_field(name, mark))
    rows: list[list[str]] = []
    for (name, purpose), fields in groups.items():
        holding = record.tables[name]
        first = not rows or rows[-1][0] != f"`{name}`"
        rows.append(
            [
                f"`{name}`",
                ", ".join(fields),
                ", ".join(f"`{c}`" for c in facts(by_name[name])) if first else "as above",
                f"`{purpose}`",
                _basis(record.purposes[purpose]),
                holding.retention.replace(RECORD, record_text),
                holding.recipients,
            ]
        )
    return rows, pseudonymous


def _table(head: list[str], rows: list[list[str]]) -> list[str]:
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return out


def render() -> str:
    from services.registry.consent.domain import Purpose as ConsentPurpose

    record_text = record_retention()
    by_service = tables_by_service()
    lines = [
        "# Record of processing",
        "",
        "<!-- Generated by `python -m labourx.processing` from the marks on the models",
        "(shared/personal.py) and the declarations in labourx/processing.py: do not edit. -->",
        "",
        "Per service: the personal data it holds (each field marked where its table or event "
        "declares it), the purpose, the legal basis or the consent purpose it rests on "
        f"(registry's consent records: {', '.join(f'`{p}`' for p in ConsentPurpose)}), how "
        "long it is kept, and who receives it. Special categories (ethnicity, disability) are "
        "flagged. A subject other than the person registered is named.",
        "",
        STAFF,
        "",
        "Facts kept about a person under their `person_id` alone (skills, statuses, "
        "destinations, attendance, costs) are pseudonymous: only registry, and the read models "
        "that forget the person on erasure, link the id to anyone. The tables holding them are "
        "named under each service. An event's other fields are in its JSON Schema "
        "(shared/schemas).",
    ]
    for service, record in RECORDS.items():
        lines += ["", f"## {service}", "", record.summary, "", "### Purposes", ""]
        lines += _table(
            ["Purpose", "What for", "Legal basis (consent purpose)"],
            [[f"`{k}`", p.what, _basis(p)] for k, p in record.purposes.items()],
        )
        rows, pseudonymous = table_rows(service, by_service.get(service, []), record_text)
        lines += ["", "### Tables", ""]
        head = ["Table", "Personal fields (category)", "With, about the same person"]
        lines += _table([*head, "Purpose", "Legal basis", "Retention", "Recipients"], rows)
        if pseudonymous:
            lines += ["", "Pseudonymous, by `person_id` only: " + ", ".join(pseudonymous) + "."]
        events = list(event_rows(service))
        if events:
            lines += ["", "### Events it publishes", ""]
            head = ["Topic", "Events", "Personal fields (category)", "Purpose", "Legal basis"]
            lines += _table([*head, "Retention", "Recipients"], events)
    lines += ["", "## Every service's database", ""]
    lines += _table(
        ["Table", "What it holds"],
        [[f"`{t.name}`", SHARED_TABLES[t.name]] for t in by_service.get("shared", [])],
    )
    return "\n".join(lines) + "\n"


def main() -> None:
    DOCUMENT.write_text(render())
    print(f"wrote {DOCUMENT.relative_to(REPO)}", file=sys.stderr)


if __name__ == "__main__":
    main()
