"""Sealing the personal part of registry's person events (shared/sealing.py,
shared/sealing_events.py): it opens with the person's key only, for that person and that type."""

from __future__ import annotations

import base64
import hmac
import json
import uuid
from datetime import UTC, date, datetime

import pytest

from shared.events.registry import (
    PersonDetails,
    PersonRegistered,
    PersonRegisteredV2,
    PersonUpdated,
    PersonUpdatedV2,
    SealedPersonDetails,
)
from shared.personal import model_marks
from shared.sealing import (
    KEY_BYTES,
    SealBroken,
    new_key,
    open_sealed,
    partner_person_key,
    seal,
)
from shared.sealing_events import OPENS_INTO, SEALED_FIELDS, opened_event, sealed_event

TYPE = PersonRegisteredV2.event_type()


def _registered(**overrides: object) -> PersonRegistered:
    fields: dict[str, object] = {
        "person_id": uuid.uuid4(),
        "reference": "P-ABCDEFGH",
        "given_name_lo": "ສົມສັກ",
        "family_name_lo": "ພົມມະຈັນ",
        "given_name_en": "Somsak",
        "family_name_en": "Phommachan",
        "sex": "male",
        "date_of_birth": date(1990, 4, 13),
        "phone": "+8562055512345",
        "email": "somsak@example.la",
        "ethnicity": "khmu",
        "has_disability": True,
        "province_code": "LA-VT",
        "district": "Sisattanak",
        "village": "Ban Phonxay",
        "skills": ["welding"],
        "registered_by": "officer",
        "registered_at": datetime.now(UTC),
    }
    fields.update(overrides)
    return PersonRegistered.model_validate(fields)


def test_a_sealed_part_opens_with_the_key_for_the_person_and_type_it_was_sealed_for() -> None:
    key, person = new_key(), uuid.uuid4()
    assert len(key) == KEY_BYTES
    fields = {"given_name_lo": "ນ້ອຍ", "date_of_birth": "2001-05-06"}
    assert open_sealed(key, person, TYPE, seal(key, person, TYPE, fields)) == fields


def test_another_key_does_not_open_it() -> None:
    person = uuid.uuid4()
    sealed = seal(new_key(), person, TYPE, {"phone": "+8562055512345"})
    with pytest.raises(SealBroken):
        open_sealed(new_key(), person, TYPE, sealed)


def test_a_sealed_part_moved_to_another_person_or_type_does_not_open() -> None:
    key, person = new_key(), uuid.uuid4()
    sealed = seal(key, person, TYPE, {"phone": "+8562055512345"})
    with pytest.raises(SealBroken):
        open_sealed(key, uuid.uuid4(), TYPE, sealed)
    with pytest.raises(SealBroken):
        open_sealed(key, person, PersonUpdatedV2.event_type(), sealed)


@pytest.mark.parametrize("position", [0, 5, 20, -1])
def test_an_altered_blob_does_not_open(position: int) -> None:
    key, person = new_key(), uuid.uuid4()
    raw = bytearray(base64.urlsafe_b64decode(seal(key, person, TYPE, {"email": "a@b.la"})))
    raw[position] ^= 0x01
    with pytest.raises(SealBroken):
        open_sealed(key, person, TYPE, base64.urlsafe_b64encode(bytes(raw)).decode())
    with pytest.raises(SealBroken):
        open_sealed(key, person, TYPE, "not base64 at all!")


def test_the_sealed_fields_are_exactly_those_marked_personal() -> None:
    assert set(SEALED_FIELDS) == set(model_marks(PersonDetails))
    assert set(SEALED_FIELDS) == {
        "reference",
        "given_name_lo",
        "family_name_lo",
        "given_name_en",
        "family_name_en",
        "date_of_birth",
        "phone",
        "email",
        "ethnicity",
        "has_disability",
        "district",
        "village",
    }


@pytest.mark.parametrize(("sealed_type", "plain_type"), list(OPENS_INTO.items()))
def test_a_v2_event_carries_every_v1_field_but_the_personal_ones(
    sealed_type: type[SealedPersonDetails], plain_type: type[PersonDetails]
) -> None:
    assert set(sealed_type.model_fields) == (set(plain_type.model_fields) - set(SEALED_FIELDS)) | {
        "sealed"
    }
    assert sealed_type.topic == plain_type.topic
    assert sealed_type.verb == plain_type.verb
    assert sealed_type.version == 2


def test_a_sealed_event_shows_nothing_personal_and_opens_into_the_v1_record() -> None:
    plain = _registered()
    key = new_key()
    sealed = sealed_event(plain, key)
    assert isinstance(sealed, PersonRegisteredV2)
    text = sealed.model_dump_json()
    for value in ("ສົມສັກ", "Somsak", "Phommachan", "1990-04-13", "55512345", "somsak@", "khmu"):
        assert value not in text
        assert value.encode() not in base64.urlsafe_b64decode(sealed.sealed)
    assert json.loads(text)["skills"] == ["welding"]
    assert opened_event(sealed, key) == plain


def test_an_update_opens_into_the_update() -> None:
    plain = PersonUpdated.model_validate(
        {
            **_registered().model_dump(exclude={"registered_by", "registered_at", "consents"}),
            "changed_fields": ["phone"],
            "record_version": 3,
            "updated_by": "officer",
            "updated_at": datetime.now(UTC),
        }
    )
    key = new_key()
    assert opened_event(sealed_event(plain, key), key) == plain


def test_a_registration_sealed_part_moved_into_another_persons_event_does_not_open() -> None:
    key = new_key()
    mine = sealed_event(_registered(), key)
    theirs = sealed_event(_registered(), key)
    forged = theirs.model_copy(update={"sealed": mine.sealed})
    with pytest.raises(SealBroken):
        opened_event(forged, key)


# -- partners' keys of a person (notify's partner topics) ----------------------------------------


def _hkdf_sha256(key: bytes, info: bytes) -> bytes:
    """RFC 5869 by hand (no salt: a zero salt of the hash's length), as a partner would check it."""
    prk = hmac.digest(b"\0" * 32, key, "sha256")
    return hmac.digest(prk, info + b"\x01", "sha256")


def test_a_partners_key_of_a_person_is_hkdf_sha256_of_the_persons_key_with_its_code() -> None:
    key = new_key()
    derived = partner_person_key(key, "IOM-LA")
    assert len(derived) == KEY_BYTES
    assert derived == partner_person_key(key, "IOM-LA")  # derived again, never stored
    assert derived == _hkdf_sha256(key, b"labourx partner IOM-LA")
    assert derived != key


def test_each_partner_and_each_person_make_a_different_key() -> None:
    first, second = new_key(), new_key()
    keys = {
        partner_person_key(first, "IOM-LA"),
        partner_person_key(first, "ILO-LA"),
        partner_person_key(second, "IOM-LA"),
        partner_person_key(second, "ILO-LA"),
    }
    assert len(keys) == 4


def test_a_partners_record_opens_with_neither_another_partners_key_nor_the_persons() -> None:
    key, person = new_key(), uuid.uuid4()
    fields = {"given_name_lo": "ນ້ອຍ", "phone": "+8562055512345"}
    sealed = seal(partner_person_key(key, "IOM-LA"), person, TYPE, fields)
    assert open_sealed(partner_person_key(key, "IOM-LA"), person, TYPE, sealed) == fields
    for other in (partner_person_key(key, "ILO-LA"), key):
        with pytest.raises(SealBroken):
            open_sealed(other, person, TYPE, sealed)
