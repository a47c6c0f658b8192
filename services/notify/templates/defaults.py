"""The default templates shipped as data (`default_templates.json`): every message key in Lao
and English, for SMS and email, as the release words them.

The database keeps every version; migrations add the defaults as versions and never change
one (0002 inserted the first release as version 1; 0006 added the messages that name the
person's office, and the migrant's welcome). Better wording is a new version through
`POST /v1/templates`, or a change here together with a migration that adds it."""

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
