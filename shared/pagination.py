"""Keyset pagination: an opaque cursor holding the sort key of the last row of a page.

Lists are ordered by (created_at, id); a cursor survives rows added meanwhile, where an offset
would skip or repeat them, and costs one index seek however deep the page.
"""

from __future__ import annotations

import base64
import uuid
from datetime import datetime

from shared.problems import InvalidField


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = f"{created_at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str, field: str = "cursor") -> tuple[datetime, uuid.UUID]:
    """The (created_at, id) a cursor holds; 422 naming `field` when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, row_id = raw.split("|")
        return datetime.fromisoformat(at), uuid.UUID(row_id)
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidField(field, "is not a cursor this API returned") from exc
