"""Lao first, English second: the console's gettext catalogues, read from the .po files at start.

Message ids are English. `locale/lo/LC_MESSAGES/messages.po` holds the Lao (every id must have
one: tests/console/test_catalogue.py), `locale/en/...` may leave a message empty (the id is the
English). Add strings with `_()` in Python or templates, then run
`python -m services.console.i18n` to bring both catalogues up to date, and write the Lao.
"""

from __future__ import annotations

import gettext as _gettext
import io
import sys
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from babel.dates import format_date
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from shared.clock import LAO_TIME

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

Language = Literal["lo", "en"]
LANGUAGES: tuple[Language, ...] = ("lo", "en")
DEFAULT_LANGUAGE: Language = "lo"
# What the language switch shows: each language in its own script.
LANGUAGE_NAMES: dict[Language, str] = {"lo": "ພາສາລາວ", "en": "English"}

PACKAGE = Path(__file__).resolve().parent
LOCALE_DIR = PACKAGE / "locale"
# Where messages are extracted from, and how (Babel's extractors for Python and Jinja2).
EXTRACT_METHODS = [
    ("**/migrations/**", "ignore"),
    ("**/static/**", "ignore"),
    ("**.py", "python"),
    ("**/templates/**.html", "jinja2"),
]
EXTRACT_OPTIONS = {"**/templates/**.html": {"extensions": "jinja2.ext.i18n"}}


class MissingTranslation(LookupError):
    """Strict mode (tests): a Lao page asked for a string the Lao catalogue lacks."""


def as_language(value: str | None) -> Language | None:
    for language in LANGUAGES:
        if value == language:
            return language
    return None


@dataclass(frozen=True)
class Catalogue:
    """One language's messages."""

    language: Language
    messages: dict[str, str]
    plurals: dict[str, tuple[str, ...]]
    plural: Callable[[int], int]
    strict: bool = False

    def gettext(self, message: str) -> str:
        found = self.messages.get(message)
        if found:
            return found
        self._missing(message)
        return message

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        forms = self.plurals.get(singular)
        if forms and all(forms):
            return forms[min(self.plural(n), len(forms) - 1)]
        self._missing(singular)
        return singular if n == 1 else plural

    def _missing(self, message: str) -> None:
        # English falls back to the id; Lao must never show an English string by accident.
        if self.strict and self.language != "en":
            raise MissingTranslation(f"{self.language}: no translation of {message!r}")


def po_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"


def read_catalog(language: str) -> Catalog:
    with po_path(language).open("rb") as f:
        return read_po(f, locale=language)


def load(language: Language, *, strict: bool = False) -> Catalogue:
    """Read a catalogue from its .po file (no compiled .mo step: the console compiles at start)."""
    catalog = read_catalog(language)
    messages: dict[str, str] = {}
    plurals: dict[str, tuple[str, ...]] = {}
    for message in catalog:
        if not message.id or message.fuzzy:
            continue
        if isinstance(message.id, tuple | list):
            plurals[str(message.id[0])] = tuple(str(s) for s in message.string or ())
        elif message.string:
            messages[str(message.id)] = str(message.string)
    rule = _gettext.c2py(catalog.plural_expr)
    return Catalogue(language, messages, plurals, rule, strict)


def load_all(*, strict: bool = False) -> dict[Language, Catalogue]:
    return {language: load(language, strict=strict) for language in LANGUAGES}


# The catalogue of the request being handled, for `_()` in Python code.
_current: ContextVar[Catalogue | None] = ContextVar("console_catalogue", default=None)


def use(catalogue: Catalogue) -> None:
    """Make `catalogue` the one `_()` uses for the rest of this request."""
    _current.set(catalogue)


def _(message: str) -> str:
    """`message` in the language of the request being handled."""
    catalogue = _current.get()
    return catalogue.gettext(message) if catalogue is not None else message


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated later, where it is shown."""
    return message


# Dates as people in Laos write them, in either language: day/month/year.
NUMERIC_DATE = "dd/MM/y"


def numeric_date(value: date | datetime | None) -> str:
    """05/12/2026."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LAO_TIME).date()
    return format_date(value, NUMERIC_DATE, locale="lo")


def long_date(value: date | datetime | None, language: Language) -> str:
    """5 ທັນວາ 2026 / 5 December 2026 (Babel's `lo` and British English long formats)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(LAO_TIME).date()
    return format_date(value, "long", locale="lo" if language == "lo" else "en_GB")


def date_time(value: datetime | None) -> str:
    """05/12/2026 14:30, in Lao time."""
    if value is None:
        return ""
    local = value.astimezone(LAO_TIME)
    return f"{numeric_date(local)} {local:%H:%M}"


def extract() -> Catalog:
    """Every message of the console's Python code and templates (Babel's extraction)."""
    catalog = Catalog(project="labourx-console", charset="utf-8")
    found: Iterator[tuple[str, int, str | tuple[str, ...], list[str], str | None]]
    found = extract_from_dir(
        str(PACKAGE),
        EXTRACT_METHODS,
        options_map=EXTRACT_OPTIONS,
        keywords={"_": None, "N_": None, "gettext": None, "ngettext": (1, 2)},
    )
    for filename, lineno, message, comments, context in found:
        catalog.add(message, None, [(filename, lineno)], auto_comments=comments, context=context)
    return catalog


def update_catalogues() -> list[str]:
    """Bring each .po file up to date with the code: new ids added (empty), gone ones dropped.
    The Lao of a new message is then written by hand. Returns the ids without Lao."""
    template = extract()
    for language in LANGUAGES:
        catalog = read_catalog(language)
        # Dates and line numbers would change the files on every run: kept out of them.
        template.creation_date = catalog.creation_date
        catalog.update(template, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        buffer = io.BytesIO()
        write_po(buffer, catalog, width=100, no_location=True, sort_output=True)
        po_path(language).write_bytes(buffer.getvalue())
    lao = read_catalog("lo")
    return [str(m.id) for m in lao if m.id and (not m.string or m.fuzzy)]


if __name__ == "__main__":
    untranslated = update_catalogues()
    for message in untranslated:
        print(f"needs Lao: {message}", file=sys.stderr)
    sys.exit(1 if untranslated else 0)
