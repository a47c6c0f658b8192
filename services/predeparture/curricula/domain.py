"""Rules of a curriculum version: what a new version must satisfy and how versions move from
draft to active to retired. Pure: no I/O."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from shared.problems import Conflict, FieldError

if TYPE_CHECKING:
    from collections.abc import Sequence


class CurriculumStatus(StrEnum):
    DRAFT = "draft"
    ACTIVE = "active"
    RETIRED = "retired"


class CannotActivate(Conflict):
    slug = "curriculum-not-activatable"


@dataclass(frozen=True)
class ModuleDraft:
    code: str
    mandatory: bool
    destinations: Sequence[str]


def check_modules(modules: Sequence[ModuleDraft]) -> list[FieldError]:
    """What is wrong with a new version's modules as a whole (each field alone is checked by
    the request schema): module codes are unique, since attendance and completions match
    modules by code; a module names a destination once; at least one general module is
    mandatory, otherwise a destination module alone would complete orientation."""
    errors: list[FieldError] = []
    first_of: dict[str, int] = {}
    for i, module in enumerate(modules):
        if module.code in first_of:
            errors.append(
                FieldError(
                    f"modules.{i}.code",
                    f"{module.code} is already the code of module {first_of[module.code]}",
                    "duplicate",
                )
            )
        else:
            first_of[module.code] = i
        seen: set[str] = set()
        for j, country in enumerate(module.destinations):
            if country in seen:
                errors.append(
                    FieldError(
                        f"modules.{i}.destinations.{j}", f"{country} is listed twice", "duplicate"
                    )
                )
            seen.add(country)
    if not any(m.mandatory and not m.destinations for m in modules):
        errors.append(
            FieldError("modules", "at least one mandatory module must be for every destination")
        )
    return errors


def check_activation(status: str) -> bool:
    """Whether activating a version in `status` changes anything (False: already active).

    A retired version is not brought back: publish a new version with its modules instead, so
    the active version is always the one activated last."""
    if status == CurriculumStatus.RETIRED:
        raise CannotActivate(
            "a retired version cannot be activated again; create a new version instead"
        )
    return status == CurriculumStatus.DRAFT


def status_order(status: str) -> int:
    """Lists show the active versions first, then drafts, then retired ones."""
    return {"active": 0, "draft": 1, "retired": 2}.get(status, 3)
