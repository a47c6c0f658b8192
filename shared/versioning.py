"""Optimistic concurrency over HTTP: a record's version as its ETag, `If-Match` on changes, and
412 when the client changed what it read against a version that is no longer current."""

from __future__ import annotations

from shared.problems import InvalidField, Problem


class VersionMismatch(Problem):
    """412: the record changed since the client read it (its `If-Match` is stale)."""

    status, slug, title = 412, "version-mismatch", "Record changed since you read it"


def etag(version: int) -> str:
    return f'"{version}"'


def parse_if_match(value: str | None) -> int | None:
    """The version an `If-Match` header names (`"3"` or `W/"3"`); None when not sent."""
    if value is None:
        return None
    try:
        return int(value.strip().removeprefix("W/").strip('"'))
    except ValueError as exc:
        raise InvalidField("If-Match", "must be an ETag this API returned") from exc


def check_version(current: int, expected: int | None) -> None:
    """Refuse a change made against a version other than the current one (lost update)."""
    if expected is not None and expected != current:
        raise VersionMismatch(
            f"the record is at version {current}, you sent {expected}", current_version=current
        )
