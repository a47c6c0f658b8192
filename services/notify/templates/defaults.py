"""The default templates shipped as data (`default_templates.json`): every message key in Lao
and English, for SMS and email, inserted as version 1 by migration 0002.

Like the default curriculum, the file is version 1 as released: better wording is a new
version through `POST /v1/templates`, never an edit of this file."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

DOCUMENT = Path(__file__).with_name("default_templates.json")


@cache
def default_templates() -> list[dict[str, Any]]:
    """The shipped templates, as in the JSON file."""
    return list(json.loads(DOCUMENT.read_text(encoding="utf-8"))["templates"])


def template_rows() -> list[dict[str, Any]]:
    """`templates` rows of the shipped defaults, each version 1."""
    return [row | {"version": 1} for row in default_templates()]
