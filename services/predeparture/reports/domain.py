"""Pure rules of reports: what a report may be grouped by, over which period, for whom, and which
figures it hides so that no one can be singled out.

A report grouped by dimensions d1..dk is a tree of figures: the total, a subtotal for each value
of d1, for each pair of values of d1 and d2, ... down to the cells (one value of every
dimension). Each figure is the sum of the figures just below it. Groups of nobody do not exist
(a cell of zero is not listed), so every figure holds at least one person.

`protect` decides which figures are shown:

1. Primary: every figure of fewer than `threshold` people is hidden, cells, subtotals and the
   total alike (a subtotal of 3 singles people out as much as a cell of 3).
2. A hidden figure always has a hidden figure among its parts; otherwise adding up the parts
   gives it back.
3. Under a shown figure, hidden parts are never alone: the figure minus its shown parts is the
   sum of the hidden ones, so one hidden part would be read off by subtraction. Nor may the
   hidden parts all be at the least they could hold (a hidden cell holds at least 1; two hidden
   cells known to hold 2 between them hold 1 each). When a shown figure breaks this, its
   smallest shown part is hidden as well (secondary suppression); when it has no shown part
   left, the figure itself is hidden.
4. Figures hidden by 2 and 3 that turn out not to be needed (a later step covered for them)
   are shown again, largest first.

Rules 2 and 3 hold together exactly when no hidden figure can be worked out from the shown
ones, even knowing that every group listed holds at least one person: on a tree of sums the
range each hidden figure could take is found by adding ranges up and then narrowing them down
from the shown figures above, and these rules are what keeps every such range wider than one
value. tests/unit/test_report_rules.py checks that against a brute-force search.

Which figure is hidden for which reason is never published: a reader who knew which were
hidden only to protect another would know the others were small.

Known limit: each report is protected on its own. Someone who asks several reports over
overlapping periods, or with different groupings, can subtract one from another (1-31 January
minus 2-31 January is 1 January). The readers are staff who can see the records anyway; the
protection is for figures that leave the building, which should come from one report each.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from shared.problems import FieldError, InvalidFields

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence
    from datetime import date

Key = tuple[str, ...]

UNKNOWN = "unknown"
COMPLETION_DIMENSIONS = ("office", "province", "sex", "destination")
OUTREACH_DIMENSIONS = ("office", "province", "sex", "age_band")
NATIONAL = "national"


def by_errors(value: str | None, allowed: Sequence[str]) -> list[FieldError]:
    """What is wrong with `by=office,sex`: each unknown or repeated dimension, named `by`."""
    errors: list[FieldError] = []
    chosen: set[str] = set()
    for part in (value or "").split(",") if value and value.strip() else []:
        name = part.strip().lower()
        if name not in allowed:
            errors.append(FieldError("by", f"{part.strip()!r} is not one of {', '.join(allowed)}"))
        elif name in chosen:
            errors.append(FieldError("by", f"{name} is named twice"))
        chosen.add(name)
    return errors


def parse_by(value: str | None, allowed: Sequence[str]) -> list[str]:
    """The dimensions `by=office,sex` names, in the order given; 422 naming `by` otherwise."""
    if errors := by_errors(value, allowed):
        raise InvalidFields(errors)
    if value is None or not value.strip():
        return []
    return [part.strip().lower() for part in value.split(",")]


def period_errors(start: date, end: date) -> list[FieldError]:
    """A period runs from `from` to `to`, both days included."""
    if end < start:
        return [FieldError("to", f"is before from ({start.isoformat()})")]
    return []


def check_period(start: date, end: date) -> None:
    if errors := period_errors(start, end):
        raise InvalidFields(errors)


@dataclass
class _Tree:
    """Every figure of a report by its key (the values of the first dimensions it fixes)."""

    values: dict[Key, int] = field(default_factory=lambda: {(): 0})
    parts: dict[Key, list[Key]] = field(default_factory=lambda: {(): []})

    @classmethod
    def of(cls, cells: Mapping[Key, int]) -> _Tree:
        tree = cls()
        for key, people in sorted(cells.items()):
            for depth in range(len(key) + 1):
                prefix = key[:depth]
                if prefix not in tree.values:
                    tree.values[prefix] = 0
                    tree.parts[prefix] = []
                    tree.parts[key[: depth - 1]].append(prefix)
                tree.values[prefix] += people
        return tree

    def top_down(self) -> list[Key]:
        return sorted(self.values, key=lambda key: (len(key), key))

    def smallest(self, keys: Iterable[Key]) -> Key:
        return min(keys, key=lambda key: (self.values[key], key))

    def slack(self, key: Key, hidden: set[Key]) -> int:
        """How much more a hidden figure holds than the least a reader could infer for it."""
        parts = self.parts[key]
        if not parts:
            return self.values[key] - 1
        return sum(self.slack(part, hidden) for part in parts if part in hidden)

    def exposed(self, key: Key, hidden: set[Key]) -> bool:
        """Would a shown figure give away a hidden part by subtraction (rule 3)?"""
        concealed = [part for part in self.parts[key] if part in hidden]
        if not concealed:
            return False
        return len(concealed) < 2 or sum(self.slack(p, hidden) for p in concealed) == 0

    def hide(self, key: Key, hidden: set[Key]) -> None:
        """Hide a figure and, down its tree, the smallest part wherever rule 2 asks for one."""
        while True:
            hidden.add(key)
            parts = self.parts[key]
            if not parts or any(part in hidden for part in parts):
                return
            key = self.smallest(parts)

    def safe(self, hidden: set[Key]) -> bool:
        for key, parts in self.parts.items():
            if not parts:
                continue
            if key in hidden:
                if not any(part in hidden for part in parts):
                    return False
            elif self.exposed(key, hidden):
                return False
        return True


def protect(cells: Mapping[Key, int], threshold: int) -> dict[Key, int | None]:
    """Every figure of the report (cells, subtotals by leading dimensions, the total under
    key `()`), None where it is hidden. `cells` are counts keyed by one value per dimension."""
    tree = _Tree.of(_positive_counts(cells, threshold))
    primary = {key for key, people in tree.values.items() if 0 < people < threshold}
    hidden = set(primary)
    _hide_until_protected(tree, hidden)
    _show_again_what_is_not_needed(tree, hidden, primary)
    return {key: None if key in hidden else people for key, people in tree.values.items()}


def _positive_counts(cells: Mapping[Key, int], threshold: int) -> dict[Key, int]:
    """The cells that count someone, once the arguments are checked."""
    if threshold < 1:
        raise ValueError("threshold must be at least 1")
    if any(people < 0 for people in cells.values()):
        raise ValueError("counts cannot be negative")
    counts = {key: people for key, people in cells.items() if people > 0}
    if len({len(key) for key in counts}) > 1:
        raise ValueError("every cell must name a value of each dimension")
    return counts


def _hide_until_protected(tree: _Tree, hidden: set[Key]) -> None:
    """Rules 2 and 3: hide more (in place) until no hidden figure can be worked out from the
    ones shown. They only ever hide more, so this reaches a fixed point."""
    changed = True
    while changed:
        changed = False
        for key in tree.top_down():
            parts = tree.parts[key]
            if not parts:
                continue
            if key in hidden:
                if not any(part in hidden for part in parts):
                    tree.hide(key, hidden)
                    changed = True
                continue
            while key not in hidden and tree.exposed(key, hidden):
                shown = [part for part in parts if part not in hidden]
                if shown:
                    tree.hide(tree.smallest(shown), hidden)
                else:
                    hidden.add(key)  # its parent is looked at again on the next pass
                changed = True


def _show_again_what_is_not_needed(tree: _Tree, hidden: set[Key], primary: set[Key]) -> None:
    """Rule 4: a figure hidden on another's behalf comes back (in place) when the rest still
    protect."""
    changed = True
    while changed:
        changed = False
        for key in sorted(hidden - primary, key=lambda k: (-tree.values[k], k)):
            hidden.discard(key)
            if tree.safe(hidden):
                changed = True
            else:
                hidden.add(key)


@dataclass(frozen=True)
class Figure:
    """One published figure: the group it counts (dimension → value) and its count, or None."""

    group: dict[str, str]
    count: int | None

    @property
    def suppressed(self) -> bool:
        return self.count is None


@dataclass(frozen=True)
class Layout:
    cells: list[Figure]
    subtotals: list[Figure]
    total: Figure


def layout(dimensions: Sequence[str], figures: Mapping[Key, int | None]) -> Layout:
    """Figures of `protect` as cells (every dimension), subtotals (leading dimensions) and
    the total, each list in the order of its keys."""
    depth = len(dimensions)
    cells: list[Figure] = []
    subtotals: list[Figure] = []
    for key in sorted(figures, key=lambda k: (len(k), k)):
        if not key:
            continue
        figure = Figure(dict(zip(dimensions, key, strict=False)), figures[key])
        (cells if len(key) == depth else subtotals).append(figure)
    return Layout(cells, subtotals, Figure({}, figures.get((), 0)))
