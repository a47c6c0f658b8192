"""Control characters refused where they enter: every path value, query value and JSON or text
body of every route of every service, before any of it reaches a query.

PostgreSQL cannot store NUL in text (`invalid byte sequence for encoding "UTF8": 0x00`, a 500 on
every route that saved or searched a string), and the other C0 controls are never part of a
name, an address or a note: they come from a copy-paste gone wrong or from someone probing.
Tab, line feed and carriage return stay: notes and CSV files have them.
"""

from __future__ import annotations

import json
import re
from typing import Any

from fastapi import Request

from shared.problems import FieldError, InvalidFields

# C0 controls but tab (U+0009), line feed (U+000A) and carriage return (U+000D).
CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")
# How a JSON text can carry one: strict JSON parsing already refuses them raw in a string, so
# only an escape (\u0000 to \u001f) gets through; cheaper to look for than to parse again.
_JSON_ESCAPE = re.compile(rb"\\u00[01]", re.IGNORECASE)
MESSAGE = "holds a control character ({}); only tab, line feed and carriage return may be sent"
CODE = "control_character"


def control_character(text: str) -> str | None:
    """The first control character of `text` as `U+0000`, None when it has none."""
    found = CONTROL.search(text)
    return f"U+{ord(found.group()):04X}" if found else None


def _printable(name: str) -> str:
    """A name that itself holds control characters, as a log or a client can show it."""
    return name.encode("unicode_escape").decode("ascii") if CONTROL.search(name) else name


def json_errors(value: Any, path: str = "") -> list[FieldError]:
    """Every string of a parsed JSON document holding a control character, named by its path
    (`rows.3.name`, as pydantic names fields); a key holding one is named by itself."""
    errors: list[FieldError] = []
    if isinstance(value, str):
        if found := control_character(value):
            errors.append(FieldError(path or "body", MESSAGE.format(found), CODE))
    elif isinstance(value, dict):
        for key, item in value.items():
            child = f"{path}.{_printable(key)}" if path else _printable(key)
            if found := control_character(key):
                errors.append(FieldError(child, "is a name " + MESSAGE.format(found), CODE))
            errors.extend(json_errors(item, child))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            errors.extend(json_errors(item, f"{path}.{index}" if path else str(index)))
    return errors


def text_errors(text: str) -> list[FieldError]:
    """A text body (a CSV file) holding control characters, named `body` with its lines."""
    lines = [n for n, line in enumerate(text.splitlines(), start=1) if CONTROL.search(line)]
    if not lines:
        return []
    found = control_character(text)
    where = ", ".join(str(n) for n in lines[:10]) + (" ..." if len(lines) > 10 else "")
    return [FieldError("body", f"line {where} " + MESSAGE.format(found), CODE)]


async def body_errors(request: Request) -> list[FieldError]:
    """Control characters of a JSON or text body; nothing for other media types (a PDF or a
    photo is binary by nature) nor for one that does not parse (the route answers that)."""
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    is_json = media == "application/json" or media.endswith("+json")
    if not (is_json or media.startswith("text/")):
        return []
    body = await request.body()  # read already for a JSON route, kept by the request
    if is_json:
        if not _JSON_ESCAPE.search(body):
            return []
        try:
            return json_errors(json.loads(body))
        except ValueError:
            return []
    try:
        return text_errors(body.decode("utf-8"))
    except UnicodeDecodeError:
        return []


async def refuse_control_characters(request: Request) -> None:
    """An app-wide dependency: 422 naming every path value, query value, header and body
    field that holds a control character, all in one answer."""
    errors = [
        FieldError(_printable(name), MESSAGE.format(found), CODE)
        for name, value in request.path_params.items()
        if isinstance(value, str) and (found := control_character(value))
    ]
    for name, value in request.query_params.multi_items():
        if found := control_character(name) or control_character(value):
            errors.append(FieldError(_printable(name), MESSAGE.format(found), CODE))
    # RFC 9110 allows none in a header either; an HTTP server may let them through, an in-process
    # client does, and `Idempotency-Key` or `X-API-Key` would carry one into a query.
    for raw_name, raw_value in request.headers.raw:
        if found := control_character(raw_value.decode("latin-1")):
            errors.append(
                FieldError(_printable(raw_name.decode("latin-1")), MESSAGE.format(found), CODE)
            )
    if request.method not in ("GET", "HEAD", "OPTIONS", "DELETE"):
        errors.extend(await body_errors(request))
    if errors:
        raise InvalidFields(errors)
