"""The template sandbox's bounds (services/notify/templates/sandbox.py): what a template may do,
and that no template, however written, makes more than the bounds allow. Work is measured as
memory (tracemalloc), which a loaded machine does not change, never as time."""

from __future__ import annotations

import tracemalloc
from contextlib import contextmanager
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from services.notify.templates.domain import SAMPLES, template_problems
from services.notify.templates.sandbox import MAX_MADE, MAX_TEXT, RenderError, render

if TYPE_CHECKING:
    from collections.abc import Iterator

VALUES = SAMPLES["welcome"]


@contextmanager
def peak_memory() -> Iterator[list[int]]:
    """The peak of memory allocated inside the block, in bytes (in the list once it ends)."""
    found: list[int] = []
    tracemalloc.start()
    try:
        yield found
    finally:
        found.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()


def test_the_shipped_templates_render_within_the_bounds() -> None:
    from services.notify.templates.defaults import default_templates

    for template in default_templates():
        for field in ("body", "subject"):
            if template.get(field):
                assert template_problems(template["key"], template[field]) == [], template


@pytest.mark.parametrize(
    "text",
    [
        "{{ 'x' * 10000000 }}",
        "{{ name * 10000000 }}",
        "{{ 10000000 * 'x' }}",
        "{{ [name] * 10000000 }}",
        "{{ 9 ** (9 ** 9) }}",
        "{{ (2 ** 4000) * (2 ** 4000) }}",
        "{{ ('x' * 15000) ~ ('x' * 15000) }}",
        "{{ ('x' * 15000) + ('x' * 15000) }}",
        "{{ '%0999999999d' % 1 }}",
        "{{ '%*d' % (999999999, 1) }}",
        "{{ name.center(1000000000) }}",
        "{{ name.ljust(1000000000) }}",
        "{{ name.replace('', name * 1000) }}",
        "{{ '{:>999999999}'.format(1) }}",
        "{{ ('x' * 20000) }}{{ ('x' * 20000) }}",
        # Each within the bounds, together past what one render may make.
        "{{ ('x' * 15000)|length }}" * 10,
        "{{ (name * 3000 ~ name)|length }}" * 10,
    ],
)
def test_an_operation_that_would_make_too_much_is_refused_before_it_is_made(text: str) -> None:
    with peak_memory() as peak, pytest.raises(RenderError):
        render(text, VALUES)
    assert peak[0] < 2_000_000, peak  # what the refused text would be is far larger


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("{% for i in range(10) %}{{ i }}{% endfor %}", "'for' is not allowed"),
        ("{% set x = name ~ name %}{{ x }}", "'assign' is not allowed"),
        ("{% with x = name %}{{ x }}{% endwith %}", "'with' is not allowed"),
        ("{% macro m() %}{{ name }}{% endmacro %}{{ m() }}", "'macro' is not allowed"),
        ("{% include 'other' %}", "'include' is not allowed"),
        ("{{ name|wordcount }}", "No filter named 'wordcount'"),
        ("{{ range(10) }}", "unknown variable(s) range"),
        ("{{ lipsum(1000) }}", "unknown variable(s) lipsum"),
        ("{{ ''.__class__ }}", "unsafe"),
        ("{{ name.format(1) }}", "'format' may not be called"),
        ("{{ 1 / 0 }}", "ZeroDivisionError"),
        ("{{ " + "(" * 300 + "1" + ")" * 300 + " }}", "nests too deeply"),
        ("{{ " + "1 + " * 1500 + "1 }}", "nests too deeply"),
        ("{{ " + "9" * 4400 + " }}", "line 1"),
    ],
)
def test_what_a_template_may_not_do_is_named_when_it_is_saved(text: str, why: str) -> None:
    [problem] = template_problems("welcome", text)
    assert why in problem, problem


def test_conditions_filters_and_text_methods_render() -> None:
    text = (
        "{% if name %}{{ name|upper }}{% else %}-{% endif %} {{ reference|lower|truncate(20) }}"
        " {{ office_name.strip() ~ '!' }} {{ '%05d' % 42 }} {{ name * 2 }}"
    )
    assert template_problems("welcome", text) == []
    assert render(text, VALUES).startswith("ສົມສັກ p-7k3m9q2x ສູນ")


_LEAVES = st.sampled_from(
    ["name", "reference", "'x'", "'ສ'", "7", "9999", "4096", "1000000", "[1, 2]", "(name,)"]
)
_BINARY = st.sampled_from(["*", "**", "+", "~", "%", "//", "-"])
_FILTERS = st.sampled_from(["upper", "length", "string", "e", "trim", "first", "int", "abs"])


def _expressions() -> st.SearchStrategy[str]:
    return st.recursive(
        _LEAVES,
        lambda inner: st.one_of(
            st.tuples(inner, _BINARY, inner).map(lambda t: f"({t[0]} {t[1]} {t[2]})"),
            st.tuples(inner, _FILTERS).map(lambda t: f"({t[0]}|{t[1]})"),
        ),
        max_leaves=12,
    )


@settings(max_examples=150, deadline=None)
@given(st.lists(_expressions(), min_size=1, max_size=8))
def test_no_template_makes_more_than_the_bounds_whatever_it_combines(parts: list[str]) -> None:
    """Any combination of the allowed operators and filters either renders within `MAX_TEXT`
    or is a `RenderError`; memory stays within a small multiple of what one render may make
    (`MAX_MADE` characters of up to 4 bytes, and compiling the template)."""
    text = "".join("{{ %s }}" % part for part in parts)  # noqa: UP031
    with peak_memory() as peak:
        try:
            out = render(text, VALUES)
        except RenderError:
            out = ""
    assert len(out) <= MAX_TEXT
    assert peak[0] < 3 * MAX_MADE * 4 + 2_000_000, (text, peak)
