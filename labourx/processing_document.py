"""The record of processing as a document: what the models hold (the marks on their columns and
event fields, shared/personal.py), put together with the declarations of labourx/processing.py
into docs/processing.md (`python -m labourx.processing`)."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

from sqlalchemy import Table

from labourx.processing import (
    RECORD,
    RECORDS,
    REPO,
    SHARED_MODELS,
    SHARED_TABLES,
    STAFF,
    Purpose,
    record_retention,
)
from shared.personal import Personal, Subject, column_mark, model_marks

if TYPE_CHECKING:
    from collections.abc import Iterator


# --- what the models hold ------------------------------------------------------------------


def load_models() -> None:
    """Import every table model of every service and of the kit, so that the metadata holds
    them all."""
    for module in SHARED_MODELS:
        importlib.import_module(module)
    # models.py, and the models a feature keeps beside others (console's auth/oidc_models.py):
    # a table whose module nobody imported would be missing from the record.
    for path in sorted((REPO / "services").rglob("*models.py")):
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
        "; partners' Kafka copies `topic_retention_personal_ms` (in `personal` scope sealed"
        " under the partner's key of the person, derived from the person's key, which the"
        " erasure destroys), their feed entries as notify's `partner_feed_entries`"
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
