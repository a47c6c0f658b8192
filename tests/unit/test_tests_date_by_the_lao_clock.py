"""Tests ask the services' clock for "today" (shared.clock.today(), the date in Vientiane), as
the services do. The machine's date or UTC's is the day before from 17:00 to 24:00 UTC, so a
test that takes its "today" from them disagrees with the services for seven hours a day (and
across a new year, about the year). Ruff's DTZ rules refuse `date.today()` and a `datetime.now()`
without a zone; this refuses the UTC date, `datetime.now(UTC).date()`, which they let through."""

from __future__ import annotations

import ast
from typing import TYPE_CHECKING

from tests.support import REPO

if TYPE_CHECKING:
    from pathlib import Path


def _dates_of_now(path: Path) -> list[int]:
    """Lines that take `.date()` of `datetime.now(...)` (or `utcnow()`)."""
    lines = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr == "date"
            and isinstance(node.func.value, ast.Call)
            and isinstance(node.func.value.func, ast.Attribute)
            and node.func.value.func.attr in {"now", "utcnow"}
        ):
            lines.append(node.lineno)
    return lines


def test_tests_take_today_from_the_services_clock() -> None:
    found = [
        f"{path.relative_to(REPO)}:{line}"
        for folder in ("tests", "bench")
        for path in sorted((REPO / folder).rglob("*.py"))
        for line in _dates_of_now(path)
    ]
    assert not found, f"use shared.clock.today() for the date the services call today: {found}"
