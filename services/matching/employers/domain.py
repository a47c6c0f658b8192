"""Pure rules of employers."""

from __future__ import annotations

from shared.problems import InvalidField


def name_pattern(q: str) -> str:
    """An ILIKE pattern for "name contains `q`", with LIKE's wildcards taken literally."""
    escaped = q.strip().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    if not escaped:
        raise InvalidField("q", "has nothing to search for")
    return f"%{escaped}%"
