"""Partners' Kafka copies in `personal` scope (services/notify/partners/sealed_copies.py): what
is sealed and what stays clear, and that a partner opens a record as docs/partners.md tells it
to, with its own key of the person and no other."""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from cryptography.exceptions import InvalidTag

from services.notify.partners.scopes import Scope
from services.notify.partners.sealed_copies import (
    SEALED_FOR,
    SEALING,
    needs_sealing,
    sealed_document,
    sealed_fields,
)
from services.notify.partners.streams import EntryKind, partner_event
from shared.events.predeparture import OrientationCompleted
from shared.events.registry import PersonRegistered, PersonRegisteredV2
from shared.sealing import new_key, partner_person_key

DOC = Path(__file__).parents[2] / "docs" / "partners.md"
REGISTERED = PersonRegistered.event_type()
PERSON = uuid.uuid4()
DATA: dict[str, Any] = {
    "person_id": str(PERSON),
    "reference": "P-ABCDEFGH",
    "given_name_lo": "ສົມສັກ",
    "family_name_en": "Phommachan",
    "date_of_birth": "1990-04-13",
    "phone": "+8562055512345",
    "email": "somsak@example.la",
    "ethnicity": "khmu",
    "has_disability": True,
    "district": "Sisattanak",
    "village": "Ban Phonxay",
    "registered_by": "officer-1",
    "sex": "male",
    "province_code": "LA-VT",
    "skills": ["welding"],
    "a_field_added_later": "whatever it holds",
}
SEALED = {
    "reference",
    "given_name_lo",
    "family_name_en",
    "date_of_birth",
    "phone",
    "email",
    "ethnicity",
    "has_disability",
    "district",
    "village",
    "registered_by",
    "a_field_added_later",
}


def _document(scope: str = "personal", kind: EntryKind = EntryKind.EVENT) -> dict[str, Any]:
    return partner_event(
        item=str(uuid.uuid4()),
        stream="registry.people",
        kind=kind,
        event_type=REGISTERED,
        subject=str(PERSON),
        time=datetime.now(UTC),
        scope=Scope(scope),
        data=DATA,
    )


def _opened_as_documented() -> Any:
    """The `opened` function of docs/partners.md, run as a partner would copy it."""
    [code] = re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)
    namespace: dict[str, Any] = {}
    exec(code, namespace)  # noqa: S102 (the documentation's own example)
    return namespace["opened"]


def test_personal_fields_are_sealed_and_ids_and_what_pseudonymised_scope_shares_stay_clear() -> (
    None
):
    assert set(sealed_fields(REGISTERED, DATA)) == SEALED
    # A sealed v2 type reads the marks of the v1 record notify opened it into.
    assert set(sealed_fields(PersonRegisteredV2.event_type(), DATA)) == SEALED
    # A field a model marks personal is sealed even where pseudonymised scope would pseudonymise
    # it (a certificate number).
    completed = {"person_id": str(PERSON), "certificate_number": "C-1", "completed_on": "x"}
    assert sealed_fields(OrientationCompleted.event_type(), completed) == ["certificate_number"]


def test_only_personal_events_about_a_person_are_sealed() -> None:
    assert needs_sealing(_document(), PERSON)
    assert not needs_sealing(_document(), None)
    assert not needs_sealing(_document("pseudonymised"), PERSON)
    assert not needs_sealing(_document(kind=EntryKind.REMOVAL), PERSON)


def test_a_partner_opens_its_record_as_documented_and_with_no_other_key() -> None:
    person_key = new_key()
    document = sealed_document(_document(), PERSON, "IOM-LA", person_key)
    assert document[SEALING] == "1"
    assert document[SEALED_FOR] == str(PERSON)
    assert set(document["data"]) == set(DATA) - SEALED | {"sealed"}
    opened = _opened_as_documented()
    assert opened(document, partner_person_key(person_key, "IOM-LA")) == DATA
    for other in (partner_person_key(person_key, "ILO-LA"), person_key):
        with pytest.raises(InvalidTag):
            opened(document, other)
    # Moved to another person's record, it does not open.
    moved = {**document, SEALED_FOR: str(uuid.uuid4())}
    with pytest.raises(InvalidTag):
        opened(moved, partner_person_key(person_key, "IOM-LA"))
