"""The record of processing (docs/processing.md) describes every personal field the models hold:
it is generated from the marks (shared/personal.py) and the declarations (labourx/processing.py),
and a column or event field whose name suggests personal data is either marked or listed here
as not personal, with why. So a model that gains a personal field fails here until it is marked
and the record regenerated (`python -m labourx.processing`)."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from sqlalchemy import Column, MetaData, String, Table

from labourx.processing import DOCUMENT, RECORDS, SHARED_TABLES
from labourx.processing_document import column_marks, render, tables_by_service
from services.registry.consent.domain import Purpose as ConsentPurpose
from shared.events import CATALOGUE
from shared.personal import CONTACT, model_fields, model_marks, personal
from tests.unit.test_topic_classes import NOT_PERSONAL, NOT_PERSONAL_ON

if TYPE_CHECKING:
    from collections.abc import Iterable

# Names that suggest a person's data. Dates, ids and staff ids (`_on`, `_at`, `_id`, `_by`) are
# left out: what they point at is decided where it is held (and staff ids are the record of
# official acts, described once in the record).
SUSPICIOUS = re.compile(
    r"name|phone|email|birth|ethnic|disab|village|district|passport|document|address|note|"
    r"comment|reason|description|text|body|subject|recipient|sender|number|reference|initial|"
    r"facilitator|witness|contact|token|outcome|venue|data$|detail|error"
)
SKIPPED = re.compile(r"_(on|at|id|by)$")

# Columns whose names suggest personal data but which hold none, with why.
NOT_PERSONAL_COLUMNS = {
    # a sign-in under way: the redirect address, the PKCE verifier and the nonce, nobody's data
    "console_oidc_flows.data": "Authlib's state of a sign-in: redirect_uri, code_verifier, nonce",
    # organisations, not natural persons
    "agencies.name": "a licensed recruitment company's name",
    "agencies.licence_number": "the company's licence",
    "agencies.address": "the company's office",
    "employers.name": "an enterprise's name",
    "employers.registration_number": "the enterprise's registration with Industry and Commerce",
    "employers.district": "where the enterprise is",
    "employers.address": "the enterprise's premises",
    "partners.name": "a partner organisation's name (IOM, ILO, ...)",
    "offices.name_lo": "an office's name",
    "offices.name_en": "an office's name",
    "vacancies.foreign_employer": "the company abroad a demand letter is for",
    # jobs, sessions, curricula, templates
    "vacancies.reference": "the vacancy's own reference",
    "vacancies.title": "the job's title",
    "vacancies.description": "the job's description",
    "vacancies.district": "where the job is",
    "known_vacancies.reference": "the vacancy's own reference",
    "known_vacancies.title": "the job's title",
    "orientation_sessions.venue": "where a session is held",
    "orientation_sessions.district": "where a session is held",
    "orientation_sessions.village": "where a session is held",
    "outreach_sessions.district": "where an outreach visit was held (counts only, never who)",
    "outreach_sessions.village": "where an outreach visit was held (counts only, never who)",
    "curricula.title_lo": "a curriculum's title",
    "curricula.title_en": "a curriculum's title",
    "curriculum_modules.title_lo": "a module's title",
    "curriculum_modules.title_en": "a module's title",
    "curriculum_modules.description_en": "a module's description",
    "templates.subject": "a template, placeholders not filled in",
    "templates.body": "a template, placeholders not filled in",
    # reasons about organisations, jobs and sessions, not about one person
    "agencies.status_reason": "why an agency's licence changed",
    "agency_status_changes.reason": "why an agency's licence changed",
    "vacancies.status_reason": "why a vacancy was paused or closed",
    "orientation_sessions.status_reason": "why a session was cancelled or changed",
    "partner_subscriptions.disabled_reason": "why a partner's subscription was disabled",
    "console_sessions.end_reason": "a code: signed_out, idle, expired, revoked, token_rejected",
    "migration_records.return_reason": "a code from a list (contract_end, ...), not free text",
    # the audit trails: names of fields and the officer's stated ground, never values
    "audit_log.reason": "the officer's ground for the access; the trail holds no personal data",
    "predeparture_audit_log.reason": "the officer's ground; the trail holds no personal data",
    "audit_log.actor": "a staff account id: the record of official acts",
    "predeparture_audit_log.actor": "a staff account id: the record of official acts",
    # technical
    "contacts.email_consent": "the status of the person's contact_email consent: a code",
    "console_sessions.csrf_token": "a random value bound to the session, no one's data",
    "dev_outbox.sender": "labourx's own sender id or address",
    "message_statuses.detail": "the provider's status text",
    "messages.last_error": "the provider's error text (a code and a message)",
    "partner_deliveries.last_error": "the partner's webhook answer",
    "partner_delivery_attempts.error": "the partner's webhook answer",
    "partner_feed_entries.subject": "the event's subject: an id, cleared on erasure",
    "import_batches.filename": "the uploaded file's name, as the office's computer named it",
    "imported_rows.row_number": "a row's position in an import file",
    # kept for the counts
    "people.birth_year": "kept after erasure with sex and province, so age bands stay right",
    # the kit's tables, described in the record as a whole (SHARED_TABLES)
    "idempotency_keys.body": "a stored answer: described with the kit's tables",
}


def _unmarked_suspicious_columns(tables: Iterable[Table]) -> set[str]:
    found = set()
    for table in tables:
        marked = dict(column_marks(table))
        for column in table.columns:
            name = column.name
            if SUSPICIOUS.search(name) and not SKIPPED.search(name) and name not in marked:
                found.add(f"{table.name}.{name}")
    return found


def _all_tables() -> list[Table]:
    return [table for tables in tables_by_service().values() for table in tables]


def test_the_record_is_generated_from_the_models() -> None:
    assert DOCUMENT.read_text() == render(), (
        "docs/processing.md is not what the models and labourx/processing.py say: run "
        "`python -m labourx.processing`"
    )


def test_every_column_that_looks_personal_is_marked_or_said_not_to_be() -> None:
    undecided = _unmarked_suspicious_columns(_all_tables()) - set(NOT_PERSONAL_COLUMNS)
    assert not undecided, (
        f"is each of {sorted(undecided)} personal? Mark it where the table declares it "
        "(info=personal(...), shared/personal.py) or add it to NOT_PERSONAL_COLUMNS here"
    )


def test_the_list_of_columns_not_personal_is_current() -> None:
    columns = {f"{t.name}.{c.name}": c for t in _all_tables() for c in t.columns}
    stale = {name for name in NOT_PERSONAL_COLUMNS if name not in columns}
    assert not stale, f"no such column: {sorted(stale)}"
    both = {name for name in NOT_PERSONAL_COLUMNS if "personal" in columns[name].info}
    assert not both, f"marked personal and listed as not: {sorted(both)}"


def test_a_table_that_gains_an_unmarked_personal_column_fails() -> None:
    table = Table(
        "people_like",
        MetaData(),
        Column("home_address", String),
        Column("phone", String, info=personal(CONTACT)),
    )
    assert _unmarked_suspicious_columns([table]) == {"people_like.home_address"}


def test_every_event_field_that_looks_personal_is_marked_or_said_not_to_be() -> None:
    # Every field of every event is decided in test_topic_classes.py; the suspicious ones are
    # held to be marked, or listed there as not personal.
    undecided = set()
    for spec in CATALOGUE.values():
        for path, mark in model_fields(spec.model):
            leaf = path.split(".")[-1]
            allowed = NOT_PERSONAL | NOT_PERSONAL_ON.get(spec.topic, set())
            looks = SUSPICIOUS.search(leaf) and not SKIPPED.search(leaf)
            if looks and mark is None and leaf not in allowed:
                undecided.add(f"{spec.model.__name__}.{path}")
    assert not undecided, sorted(undecided)


def test_every_marked_table_and_topic_is_declared_with_a_known_purpose() -> None:
    for service, tables in tables_by_service().items():
        if service == "shared":
            assert {t.name for t in tables} == set(SHARED_TABLES)
            assert not [m for t in tables for m in column_marks(t)]
            continue
        record = RECORDS[service]
        marked = {t.name for t in tables if any(True for _ in column_marks(t))}
        assert marked == set(record.tables), (
            f"{service}: declare a Holding in labourx/processing.py for each table with personal "
            f"columns; missing {sorted(marked - set(record.tables))}, "
            f"stale {sorted(set(record.tables) - marked)}"
        )
        used = {h.purpose for h in record.tables.values()}
        used |= set(record.topics.values()) | set(record.by_category.values())
        used |= {m.purpose for t in tables for _, m in column_marks(t) if m.purpose}
        assert used <= set(record.purposes), f"{service}: undeclared {used - set(record.purposes)}"
    for spec in CATALOGUE.values():
        marks = model_marks(spec.model)
        if marks:
            record = RECORDS[spec.service]
            assert spec.topic in record.topics, f"{spec.service}: no purpose for {spec.topic}"
            used = {m.purpose for m in marks.values() if m.purpose}
            assert used <= set(record.purposes)


def test_an_erasure_empties_every_marked_field_of_a_persons_record() -> None:
    # What the record says of registry's `people`: registry's own list of what erasure empties
    # holds every column marked personal there but the reference (unique and required: it
    # stays, leading to the tombstone, as the record says).
    from services.registry.people.models import Person
    from services.registry.people.records import PERSONAL

    marked = {name for name, _ in column_marks(Person.__table__)}  # type: ignore[arg-type]
    assert marked - {"reference"} <= set(PERSONAL), marked - set(PERSONAL)


def test_consent_purposes_are_registrys() -> None:
    known = {str(p) for p in ConsentPurpose}
    for service, record in RECORDS.items():
        for key, purpose in record.purposes.items():
            assert purpose.consent is None or purpose.consent in known, (service, key)


def test_every_service_is_in_the_record_the_console_with_its_sessions_only() -> None:
    assert set(RECORDS) == {"registry", "matching", "predeparture", "notify", "console"}
    # The console keeps officers' sign-ins only: its sessions and their OpenID Connect tokens.
    assert set(RECORDS["console"].tables) == {"console_sessions", "console_oidc_grants"}
    text = DOCUMENT.read_text()
    # Rendered message bodies hold names: notify's messages are in the record.
    assert "`messages` | `recipient`" in text
    assert "`body` (message content" in text
