"""Keyset pagination: an opaque cursor holding the sort key of the last row of a page.

Lists are ordered by (created_at, id); a cursor survives rows added meanwhile, where an offset
would skip or repeat them, and costs one index seek however deep the page.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime

from shared.problems import InvalidField


def encode_cursor(created_at: datetime, row_id: uuid.UUID) -> str:
    raw = f"{created_at.isoformat()}|{row_id}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


# The instants a cursor may hold: any row's created_at is well inside. A made-up cursor outside
# them (year 1, or a date without its offset) used to reach asyncpg, which cannot encode it for
# a timestamptz comparison, and answer 500.
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def decode_cursor(cursor: str, field: str = "cursor") -> tuple[datetime, uuid.UUID]:
    """The (created_at, id) a cursor holds; 422 naming `field` when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at_text, id_text = raw.split("|")
        at, row_id = datetime.fromisoformat(at_text), uuid.UUID(id_text)
        if at.tzinfo is None or not _EARLIEST <= at <= _LATEST:
            raise ValueError(f"{at_text} is not an instant a row was created at")
    except (ValueError, UnicodeDecodeError, OverflowError) as exc:
        raise InvalidField(field, "is not a cursor this API returned") from exc
    return at, row_id
