"""How the fields a request sends are stored on the record, and what is derived from them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from services.registry.people.domain import (
    SCALAR_FIELDS,
    disability_flag,
    occupation_codes,
    search_tokens,
)
from services.registry.people.records import column_values

if TYPE_CHECKING:
    from collections.abc import Collection, Mapping

    from services.registry.people.models import Person
    from services.registry.people.schemas import PersonFields

_SCALARS = SCALAR_FIELDS


def field_values(data: PersonFields, sent: Collection[str]) -> dict[str, Any]:
    """The stored form of the fields of `data` named in `sent`, by column."""
    values: dict[str, Any] = {f: getattr(data, f) for f in _SCALARS if f in sent}
    if "disability" in sent:
        values["disability"] = (
            {d.value: a.value for d, a in data.disability.items()} if data.disability else None
        )
    if "education" in sent:
        values["isced_level"] = data.education.isced_level if data.education else None
    if "skills" in sent:
        values["skills"] = list(dict.fromkeys(data.skills.tags)) if data.skills else []
        values["certificates"] = (
            [c.model_dump(mode="json") for c in data.skills.certificates] if data.skills else []
        )
    if "languages" in sent:
        values["languages"] = [x.model_dump(mode="json") for x in data.languages or []]
    if "experience" in sent:
        values["experience"] = [x.model_dump(mode="json") for x in data.experience or []]
    return values


def derived_values(row: Mapping[str, Any], desired: list[str]) -> dict[str, Any]:
    """What is derived from the record's values: disability flag, search keys, birth year."""
    derived = {
        "has_disability": disability_flag(row["disability"]),
        "name_tokens": search_tokens(
            row["given_name_lo"], row["family_name_lo"], row["given_name_en"], row["family_name_en"]
        ),
        "occupation_codes": occupation_codes(
            [e["isco08"] for e in row["experience"] or []] + desired
        ),
    }
    if row["date_of_birth"] is not None:
        derived["birth_year"] = row["date_of_birth"].year
    return derived


def apply_sent(person: Person, data: PersonFields) -> list[str]:
    """Copy the fields the client sent onto the row; the names of those whose value changed."""
    changed = []
    for field, value in field_values(data, data.model_fields_set).items():
        if getattr(person, field) != value:
            setattr(person, field, value)
            changed.append(field)
    return changed


def derive(person: Person, desired: list[str]) -> None:
    """Recompute what is derived from the record: disability flag, search keys, birth year."""
    for field, value in derived_values(column_values(person), desired).items():
        setattr(person, field, value)
