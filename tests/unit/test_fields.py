"""shared.fields: each validated type canonicalises what it accepts and refuses with the
reference check's own message, and no service defines one of them again."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pydantic import TypeAdapter, ValidationError

from shared import fields

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("field", "given", "kept"),
    [
        (fields.Country, " th ", "TH"),
        (fields.Province, "la-vt", "LA-VT"),
        (fields.Phone, "020 5555 1234", "+8562055551234"),
        (fields.Language, "lao", "lo"),
        (fields.Currency, "thb", "THB"),
        (fields.Isco08, " 7112 ", "7112"),
        (fields.IscedLevel, 3, 3),
        (fields.Place, "  Ban Nongbone ", "Ban Nongbone"),
        (fields.Name, " Souk Phommachanh ", "Souk Phommachanh"),
    ],
)
def test_a_valid_value_is_kept_in_its_canonical_form(field: Any, given: Any, kept: Any) -> None:
    assert TypeAdapter(field).validate_python(given) == kept


@pytest.mark.parametrize(
    ("field", "given", "message"),
    [
        (fields.Country, "XX", "is not an ISO 3166-1 alpha-2 country code"),
        (fields.Province, "TH-10", "is not an ISO 3166-2:LA province code"),
        (fields.Phone, "12", "phone"),
        (fields.Language, "zz", "ISO 639"),
        (fields.Currency, "ABC", "is not an ISO 4217 currency code"),
        (fields.Isco08, "99999", "is not an ISCO-08 code"),
        (fields.IscedLevel, 9, "is not an ISCED 2011 level"),
        (fields.Place, "   ", "at least 1 character"),
        (fields.Name, "A", "at least 2 characters"),
    ],
)
def test_an_invalid_value_is_refused_with_the_reason(field: Any, given: Any, message: str) -> None:
    with pytest.raises(ValidationError, match=re.escape(message)):
        TypeAdapter(field).validate_python(given)


def test_no_service_defines_a_shared_validated_type_again() -> None:
    # The checks against reference data, attached to a field anywhere but shared.fields; a
    # service's own Name or Place may be bounded differently (a registry name part is 1 to 100
    # characters) and keeps its own definition.
    checks = "validate_(?:country|province|language|currency|isco08|isced_level)|normalise_phone"
    again = re.compile(rf"AfterValidator\(\s*(?:{checks})\s*\)")
    found = [
        str(path.relative_to(ROOT))
        for path in sorted((ROOT / "services").rglob("*.py"))
        if again.search(path.read_text(encoding="utf-8"))
    ]
    assert found == [], f"import these from shared.fields instead: {found}"
