"""Keyset pagination: an opaque cursor holding the sort key of the last row of a page.

Lists are ordered by (created_at, id); a cursor survives rows added meanwhile, where an offset
would skip or repeat them, and costs one index seek however deep the page.

A list applies `newest_first` or `oldest_first` to its query (ordering, the condition past the
cursor, one row more than the page) and hands what the query found to `page_of`, which keeps
the page and makes the next cursor when the extra row says there is more: one fetch, no
`COUNT(*)`. A list's optional filters asking for a column's value are `equal_if_given`.
"""

from __future__ import annotations

import base64
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import ColumnElement, Select, SQLColumnExpression, tuple_

from shared.problems import InvalidField

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

Row = TypeVar("Row")
Query = TypeVar("Query", bound=Select[*tuple[Any, ...]])


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


Key = tuple[SQLColumnExpression[datetime], SQLColumnExpression[uuid.UUID]]


def newest_first(
    query: Query, by: Key, *, after: str | None, limit: int, field: str = "cursor"
) -> Query:
    """`query` ordered by the (instant, id) pair `by` descending, past the cursor `after` if
    given (422 naming `field` if it is not one of ours), one row more than the page."""
    return _keyset(query, by, after, limit, field, descending=True)


def oldest_first(
    query: Query, by: Key, *, after: str | None, limit: int, field: str = "cursor"
) -> Query:
    """`query` ordered by the (instant, id) pair `by` ascending, past the cursor `after` if
    given (422 naming `field` if it is not one of ours), one row more than the page."""
    return _keyset(query, by, after, limit, field, descending=False)


def _keyset(
    query: Query, by: Key, after: str | None, limit: int, field: str, *, descending: bool
) -> Query:
    at_column, id_column = by
    if after is not None:
        key, mark = tuple_(at_column, id_column), tuple_(*decode_cursor(after, field))
        # A row comparison, so that rows sharing the cursor's instant are split by id.
        query = query.where(key < mark if descending else key > mark)
    order = (at_column.desc(), id_column.desc()) if descending else (at_column, id_column)
    return query.order_by(*order).limit(limit + 1)


def split_page(rows: Sequence[Row], limit: int) -> tuple[list[Row], Row | None]:
    """The page in rows fetched one beyond `limit`, and its last row when more follow (the
    extra row says a full last page has nothing after it without counting)."""
    page = list(rows[:limit])
    return page, page[-1] if len(rows) > limit and page else None


def page_of(
    rows: Sequence[Row], limit: int, key: Callable[[Row], tuple[datetime, uuid.UUID]]
) -> tuple[list[Row], str | None]:
    """The page in rows a `newest_first` or `oldest_first` query found, and the cursor of the
    next page if there is one; `key` is a row's (instant, id), the columns it was ordered by."""
    page, last = split_page(rows, limit)
    return page, None if last is None else encode_cursor(*key(last))


def equal_if_given(model: type[Any], **values: object) -> list[ColumnElement[bool]]:
    """`model.<name> == value` for each filter given: a value of None is a filter not asked for."""
    return [getattr(model, name) == value for name, value in values.items() if value is not None]
