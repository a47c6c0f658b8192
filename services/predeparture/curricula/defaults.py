"""The default curriculum shipped as data (`default_curriculum.json`); migration 0002 inserts
its frozen copy (`migrations/frozen/curriculum_0002.json`) so that every database starts with
an active curriculum.

The file is version 1 as released: a later default is a new version (a new file and revision,
or `POST /v1/curricula`), never an edit of this one, which would leave it unlike what every
database holds."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any

DOCUMENT = Path(__file__).with_name("default_curriculum.json")
# Fixed, so every database (and a test) can name the shipped version without looking it up.
DEFAULT_CURRICULUM_ID = uuid.uuid5(uuid.NAMESPACE_URL, "https://labourx.la/curricula/PDO/1")


@cache
def default_curriculum() -> dict[str, Any]:
    """The shipped curriculum document, as in the JSON file."""
    return dict(json.loads(DOCUMENT.read_text(encoding="utf-8")))


def curriculum_row() -> dict[str, Any]:
    """The `curricula` row of the shipped version: active, version 1."""
    doc = default_curriculum()
    return {
        "id": DEFAULT_CURRICULUM_ID,
        "code": doc["code"],
        "version": doc["version"],
        "title_lo": doc["title_lo"],
        "title_en": doc["title_en"],
        "completion_window_months": doc["completion_window_months"],
        "validity_months": doc["validity_months"],
        "status": "active",
        "created_by": "migration",
    }


def module_rows() -> list[dict[str, Any]]:
    """The `curriculum_modules` rows of the shipped version, in curriculum order."""
    return [
        {
            "id": uuid.uuid5(DEFAULT_CURRICULUM_ID, module["code"]),
            "curriculum_id": DEFAULT_CURRICULUM_ID,
            "code": module["code"],
            "position": position,
            "title_lo": module["title_lo"],
            "title_en": module["title_en"],
            "description_en": module.get("description_en"),
            "hours": Decimal(module["hours"]),
            "mandatory": module["mandatory"],
            "destinations": module["destinations"],
        }
        for position, module in enumerate(default_curriculum()["modules"])
    ]
