"""Report rules: small figures are hidden, and nothing hidden can be worked back from what is
shown. The checks read a report as an outsider would: every figure shown, the knowledge that
each figure is the sum of those below it, and that every listed group holds someone."""

from __future__ import annotations

import itertools
import math
from datetime import date
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.predeparture.reports.domain import (
    Key,
    by_errors,
    check_period,
    layout,
    parse_by,
    protect,
)
from services.predeparture.scope import report_province
from shared.auth import Principal, Role
from shared.problems import Forbidden, InvalidFields

if TYPE_CHECKING:
    from collections.abc import Mapping

Range = tuple[float, float]


# -- an outsider's view of a published report --------------------------------------------------


def figures_of(cells: Mapping[Key, int]) -> tuple[dict[Key, int], dict[Key, list[Key]]]:
    """The true figure of every group (total, subtotals, cells) and the parts of each."""
    values: dict[Key, int] = {(): 0}
    parts: dict[Key, list[Key]] = {(): []}
    for key, people in cells.items():
        if not people:
            continue
        for depth in range(1, len(key) + 1):
            if key[:depth] not in values:
                values[key[:depth]] = 0
                parts[key[:depth]] = []
                parts[key[: depth - 1]].append(key[:depth])
        for depth in range(len(key) + 1):
            values[key[:depth]] += people
    return values, parts


def feasible_ranges(
    parts: Mapping[Key, list[Key]], shown: Mapping[Key, int | None]
) -> dict[Key, Range]:
    """The least and most each figure could hold given only what is shown (integer ranges of a
    tree of sums: added up from below, then narrowed from the figure above)."""
    below: dict[Key, Range] = {}
    for key in sorted(parts, key=len, reverse=True):
        value = shown[key]
        if value is not None:
            below[key] = (value, value)
        elif not parts[key]:
            below[key] = (1, math.inf)
        else:
            below[key] = (
                sum(below[p][0] for p in parts[key]),
                sum(below[p][1] for p in parts[key]),
            )
    final: dict[Key, Range] = {(): below[()]}
    for key in sorted(parts, key=len):
        low, high = final[key]
        for part in parts[key]:
            others = [below[p] for p in parts[key] if p != part]
            final[part] = (
                max(below[part][0], low - sum(o[1] for o in others)),
                min(below[part][1], high - sum(o[0] for o in others)),
            )
    return final


def brute_force_ranges(
    values: Mapping[Key, int], parts: Mapping[Key, list[Key]], shown: Mapping[Key, int | None]
) -> dict[Key, Range]:
    """The same ranges found by trying every assignment of the hidden cells (small tables)."""
    leaves = [key for key in values if not parts[key]]
    hidden = [key for key in leaves if shown[key] is None]

    def cap(leaf: Key) -> int:
        bounds = [shown[leaf[:d]] for d in range(len(leaf)) if shown[leaf[:d]] is not None]
        # With no shown figure above it, a cell is unbounded: one more than its true value is
        # enough to see that it is not pinned.
        return min(bounds) if bounds else values[leaf] + 2  # type: ignore[type-var,return-value]

    seen: dict[Key, list[int]] = {key: [] for key in values if shown[key] is None}
    for guess in itertools.product(*(range(1, cap(leaf) + 1) for leaf in hidden)):
        trial = {leaf: values[leaf] for leaf in leaves} | dict(zip(hidden, guess, strict=True))
        sums = {key: 0 for key in values}
        for leaf, people in trial.items():
            for depth in range(len(leaf) + 1):
                sums[leaf[:depth]] += people
        if all(shown[key] is None or shown[key] == sums[key] for key in values):
            for key in seen:
                seen[key].append(sums[key])
    return {key: (min(found), max(found)) for key, found in seen.items()}


def pinned(cells: Mapping[Key, int], shown: Mapping[Key, int | None]) -> set[Key]:
    """Hidden figures an outsider can work out exactly from the shown ones."""
    _, parts = figures_of(cells)
    ranges = feasible_ranges(parts, shown)
    return {
        key for key, value in shown.items() if value is None and ranges[key][0] == ranges[key][1]
    }


# -- generated reports ------------------------------------------------------------------------

small_counts = st.one_of(st.integers(0, 6), st.integers(0, 40))


@st.composite
def reports(draw: st.DrawFn, max_dimensions: int = 3, max_values: int = 3) -> dict[Key, int]:
    """Counts per combination of up to three dimensions, many of them small."""
    depth = draw(st.integers(0, max_dimensions))
    axes = [
        [f"{chr(97 + d)}{v}" for v in range(draw(st.integers(1, max_values)))] for d in range(depth)
    ]
    return {key: draw(small_counts) for key in itertools.product(*axes)}


thresholds = st.integers(2, 10)


# -- the outsider's view is right -------------------------------------------------------------


@settings(max_examples=80, deadline=None)
@given(cells=reports(max_dimensions=2, max_values=2), data=st.data())
def test_the_range_a_reader_can_infer_is_what_trying_every_value_finds(
    cells: dict[Key, int], data: st.DataObject
) -> None:
    cells = {key: min(people, 3) for key, people in cells.items()}
    values, parts = figures_of(cells)
    hide = data.draw(st.sets(st.sampled_from(sorted(values))))
    shown = {key: None if key in hide else people for key, people in values.items()}
    ranges = feasible_ranges(parts, shown)
    for key, (least, most) in brute_force_ranges(values, parts, shown).items():
        assert ranges[key][0] == least
        assert ranges[key][1] == most if ranges[key][1] != math.inf else most > least


# -- protect --------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(cells=reports(), threshold=thresholds)
def test_every_figure_below_the_threshold_is_hidden_and_the_rest_are_true(
    cells: dict[Key, int], threshold: int
) -> None:
    values, _ = figures_of(cells)
    shown = protect(cells, threshold)
    assert set(shown) == set(values)
    for key, people in values.items():
        if 0 < people < threshold:
            assert shown[key] is None
        assert shown[key] in (None, people)


@settings(max_examples=300, deadline=None)
@given(cells=reports(), threshold=thresholds)
def test_no_shown_figure_minus_its_shown_parts_leaves_one_hidden_part(
    cells: dict[Key, int], threshold: int
) -> None:
    _, parts = figures_of(cells)
    shown = protect(cells, threshold)
    for key, below in parts.items():
        if below and shown[key] is not None:
            assert sum(shown[p] is None for p in below) != 1


@settings(max_examples=300, deadline=None)
@given(cells=reports(), threshold=thresholds)
def test_no_hidden_figure_can_be_worked_out_from_the_shown_ones(
    cells: dict[Key, int], threshold: int
) -> None:
    assert pinned(cells, protect(cells, threshold)) == set()


@settings(max_examples=300, deadline=None)
@given(cells=reports(), threshold=thresholds)
def test_a_figure_at_or_above_the_threshold_is_hidden_only_when_showing_it_gives_one_away(
    cells: dict[Key, int], threshold: int
) -> None:
    values, _ = figures_of(cells)
    shown = protect(cells, threshold)
    for key, value in shown.items():
        if value is None and values[key] >= threshold:
            assert pinned(cells, {**shown, key: values[key]})


@settings(max_examples=100, deadline=None)
@given(cells=reports(), threshold=thresholds)
def test_a_report_without_small_figures_is_shown_in_full(
    cells: dict[Key, int], threshold: int
) -> None:
    cells = {key: people + threshold if people else 0 for key, people in cells.items()}
    values, _ = figures_of(cells)
    assert protect(cells, threshold) == values


def test_a_lone_small_cell_takes_the_next_smallest_with_it() -> None:
    shown = protect({("MRC-BK",): 1, ("MRC-CH",): 8, ("MRC-SV",): 20}, 5)
    assert shown == {(): 29, ("MRC-BK",): None, ("MRC-CH",): None, ("MRC-SV",): 20}


def test_two_small_cells_protect_each_other() -> None:
    shown = protect({("female",): 2, ("male",): 3, ("other",): 30}, 5)
    assert shown == {(): 35, ("female",): None, ("male",): None, ("other",): 30}


def test_two_cells_of_one_are_not_enough_when_the_total_shows_they_hold_two() -> None:
    # 32 - 30 = 2 shared by two listed groups: one each. So 30 is hidden as well.
    shown = protect({("female",): 1, ("male",): 1, ("other",): 30}, 5)
    assert shown == {(): 32, ("female",): None, ("male",): None, ("other",): None}


def test_a_small_total_hides_everything() -> None:
    assert protect({("female",): 1, ("male",): 2}, 5) == {
        (): None,
        ("female",): None,
        ("male",): None,
    }


def test_an_empty_report_shows_a_total_of_nobody() -> None:
    assert protect({}, 5) == {(): 0}
    assert protect({("female",): 0}, 5) == {(): 0}


def test_a_small_subtotal_is_covered_by_a_sibling_subtotal_and_a_cell_inside_it() -> None:
    cells: dict[Key, int] = {
        ("MRC-BK", "female"): 2,
        ("MRC-BK", "male"): 2,
        ("MRC-SV", "female"): 6,
        ("MRC-SV", "male"): 9,
        ("MRC-CH", "female"): 20,
        ("MRC-CH", "male"): 30,
    }
    shown = protect(cells, 5)
    # MRC-BK (4 people) is hidden with its cells; MRC-SV goes too, or 69 - 50 - 15 gives 4;
    # and so that MRC-SV cannot be added up from its cells, its smaller cell goes as well.
    assert shown[("MRC-BK",)] is None
    assert shown[("MRC-SV",)] is None
    assert shown[("MRC-SV", "female")] is None
    assert shown[("MRC-SV", "male")] == 9
    assert shown[("MRC-CH",)] == 50
    assert shown[()] == 69
    assert pinned(cells, shown) == set()


def test_a_cell_hidden_on_anothers_behalf_is_shown_again_once_its_group_is_hidden() -> None:
    cells: dict[Key, int] = {
        ("MRC-BK", "female"): 30,
        ("MRC-BK", "male"): 6,
        ("MRC-BK", "other"): 15,
        ("MRC-CH", "female"): 15,
        ("MRC-CH", "male"): 2,
        ("MRC-CH", "other"): 6,
        ("MRC-SV", "female"): 1,
        ("MRC-SV", "male"): 1,
        ("MRC-SV", "other"): 1,
    }
    shown = protect(cells, 3)
    # MRC-CH's 6 was hidden first to cover its 2; then MRC-CH itself was hidden to cover
    # MRC-SV (three cells of one), and from then on the 6 protects nobody.
    assert shown[("MRC-CH",)] is None
    assert shown[("MRC-CH", "male")] is None
    assert shown[("MRC-CH", "other")] == 6
    assert shown[("MRC-SV",)] is None
    assert pinned(cells, shown) == set()


def test_layout_lists_cells_subtotals_and_the_total_by_dimension() -> None:
    figures = layout(
        ["office", "sex"],
        {(): 20, ("MRC-SV",): 20, ("MRC-SV", "female"): None, ("MRC-SV", "male"): None},
    )
    assert [(f.group, f.count, f.suppressed) for f in figures.cells] == [
        ({"office": "MRC-SV", "sex": "female"}, None, True),
        ({"office": "MRC-SV", "sex": "male"}, None, True),
    ]
    assert [(f.group, f.count) for f in figures.subtotals] == [({"office": "MRC-SV"}, 20)]
    assert (figures.total.group, figures.total.count) == ({}, 20)


def test_protect_refuses_cells_that_name_different_dimensions() -> None:
    with pytest.raises(ValueError, match="every cell must name a value of each dimension"):
        protect({("a",): 3, ("a", "b"): 4}, 5)


# -- what a report may be asked ---------------------------------------------------------------


def test_by_names_dimensions_in_the_order_given() -> None:
    allowed = ("office", "province", "sex", "destination")
    assert parse_by("sex, office", allowed) == ["sex", "office"]
    assert parse_by(None, allowed) == []
    assert parse_by("", allowed) == []


@pytest.mark.parametrize("by", ["religion", "sex,sex", "office,,sex"])
def test_an_unknown_or_repeated_dimension_is_refused_naming_by(by: str) -> None:
    with pytest.raises(InvalidFields) as refused:
        parse_by(by, ("office", "sex"))
    assert refused.value.extensions["errors"][0]["field"] == "by"


def test_every_bad_dimension_is_named_at_once() -> None:
    errors = by_errors("religion, sex, sex, caste", ("office", "sex"))
    assert [e.field for e in errors] == ["by", "by", "by"]
    assert ["religion" in errors[0].message, "twice" in errors[1].message] == [True, True]


def test_a_period_that_ends_before_it_starts_is_refused_naming_to() -> None:
    check_period(date(2026, 1, 1), date(2026, 1, 1))
    with pytest.raises(InvalidFields) as refused:
        check_period(date(2026, 2, 1), date(2026, 1, 31))
    assert refused.value.extensions["errors"][0]["field"] == "to"


def test_national_readers_choose_a_province_and_office_staff_get_their_own() -> None:
    analyst = Principal("analyst-1", frozenset({Role.ANALYST}), national=True)
    admin = Principal("admin-1", frozenset({Role.ADMIN}))
    officer = Principal("mrc-sv-1", frozenset({Role.MRC_STAFF}), "MRC-SV", "LA-SV")
    assert report_province(analyst, None) is None
    assert report_province(admin, "LA-CH") == "LA-CH"
    assert report_province(officer, None) == "LA-SV"
    assert report_province(officer, "LA-SV") == "LA-SV"
    with pytest.raises(Forbidden):
        report_province(officer, "LA-CH")
    with pytest.raises(Forbidden):
        report_province(Principal("esc-x", frozenset({Role.ESC_STAFF})), None)
