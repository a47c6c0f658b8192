"""Validated field types that several services' schemas share, each defined once.

A country, a Lao province or a phone number is checked the same way wherever a service accepts
one, with the same error message and the same JSON schema in its OpenAPI document: the checks
live in `shared.reference`, and these aliases attach them to a pydantic field. A type that one
service alone uses, or that a service bounds differently (a registry name part of 1 to 100
characters against an employer's name of 2 to 200), stays in that service's schemas.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, StringConstraints

from shared.reference.currencies import validate_currency
from shared.reference.education import validate_isced_level
from shared.reference.isco08 import validate_isco08
from shared.reference.languages import validate_language
from shared.reference.phones import normalise_phone
from shared.reference.places import validate_country, validate_province

Country = Annotated[str, AfterValidator(validate_country)]
"""ISO 3166-1 alpha-2, upper case (`th` → `TH`)."""

Province = Annotated[str, AfterValidator(validate_province)]
"""A Lao province's ISO 3166-2:LA code, upper case (`la-vt` → `LA-VT`)."""

Phone = Annotated[str, AfterValidator(normalise_phone)]
"""A Lao or Thai number in E.164 form."""

Language = Annotated[str, AfterValidator(validate_language)]
"""ISO 639-1 when the language has a code there, else ISO 639-3 (`lao` → `lo`)."""

Currency = Annotated[str, AfterValidator(validate_currency)]
"""ISO 4217 alphabetic, upper case (LAK, THB)."""

Isco08 = Annotated[str, AfterValidator(validate_isco08)]
"""An ISCO-08 occupation code of any level."""

IscedLevel = Annotated[int, AfterValidator(validate_isced_level)]
"""An ISCED 2011 level of education."""

Place = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100)]
"""A district or village, as written."""

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=200)]
"""A whole name of a person or an organisation (a facilitator, an employer)."""
