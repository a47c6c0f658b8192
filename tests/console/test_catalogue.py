"""Lao first: every string the console can show has its Lao, and a Lao page that shows one
without it fails (strict mode, on in every console test)."""

from __future__ import annotations

import re

import pytest

from services.console import i18n
from services.console.web.static import StaticFiles
from services.console.web.templates import environment, gettext_callables

PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def test_every_message_of_the_code_and_templates_has_its_lao() -> None:
    extracted = {str(m.id) for m in i18n.extract() if m.id}
    lao = {str(m.id): m for m in i18n.read_catalog("lo") if m.id}
    english = {str(m.id) for m in i18n.read_catalog("en") if m.id}
    missing = sorted(m for m in extracted if m not in lao or not lao[m].string or lao[m].fuzzy)
    assert not missing, (
        "write the Lao of these (python -m services.console.i18n adds them to the .po files):"
        f" {missing}"
    )
    assert extracted <= english, sorted(extracted - english)
    stale = sorted(set(lao) - extracted)
    assert not stale, f"no longer used: {stale} (python -m services.console.i18n drops them)"


def test_lao_keeps_every_placeholder_of_the_english() -> None:
    for message in i18n.read_catalog("lo"):
        if message.id and isinstance(message.id, str):
            assert sorted(PLACEHOLDER.findall(message.id)) == sorted(
                PLACEHOLDER.findall(str(message.string))
            ), message.id


def test_the_lao_is_written_in_lao_script() -> None:
    for message in i18n.read_catalog("lo"):
        text = PLACEHOLDER.sub("", str(message.string or ""))
        if message.id and re.search(r"[A-Za-z]{4,}", PLACEHOLDER.sub("", str(message.id))):
            if message.id == "labourx":
                continue  # the system's name
            assert re.search("[\u0e80-\u0eff]", text), f"not Lao: {message.id!r} → {text!r}"


def test_strict_mode_fails_a_lao_page_that_shows_a_string_the_catalogue_lacks() -> None:
    env = environment(StaticFiles(), strict=True)
    page = env.from_string('<p>{{ _("Sign in") }}</p><p>{{ _("A string no one translated") }}</p>')
    lao = i18n.load("lo", strict=True)
    with pytest.raises(i18n.MissingTranslation, match="A string no one translated"):
        page.render(gettext_callables(lao), language="lo")
    # English falls back to the id, and a catalogue that is not strict shows it in English.
    english = page.render(gettext_callables(i18n.load("en", strict=True)), language="en")
    assert "A string no one translated" in english
    lenient = page.render(gettext_callables(i18n.load("lo")), language="lo")
    assert "ເຂົ້າສູ່ລະບົບ" in lenient


def test_translated_words_are_escaped_and_variables_filled() -> None:
    env = environment(StaticFiles(), strict=True)
    page = env.from_string('{{ _("born %(date)s", date=when) }}')
    lao = gettext_callables(i18n.load("lo", strict=True))
    assert page.render(lao, when="<b>05/12/2026</b>") == "ເກີດ &lt;b&gt;05/12/2026&lt;/b&gt;"


def test_dates_read_day_month_year_as_in_laos() -> None:
    from datetime import UTC, date, datetime

    assert i18n.numeric_date(date(2026, 12, 5)) == "05/12/2026"
    assert i18n.long_date(date(2026, 12, 5), "lo") == "5 ທັນວາ 2026"
    assert i18n.long_date(date(2026, 12, 5), "en") == "5 December 2026"
    # 20:30 UTC is already the next day in Vientiane.
    assert i18n.date_time(datetime(2026, 12, 5, 20, 30, tzinfo=UTC)) == "06/12/2026 03:30"
