"""The Jinja2 environment: one base layout, gettext through Babel's catalogues, Lao dates."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined, Undefined, pass_context
from jinja2.runtime import Context
from markupsafe import Markup

from services.console import i18n
from services.console.web.forms import WHOLE_FORM, field_id
from services.console.web.static import StaticFiles
from shared.reference.offices import office_name
from shared.reference.places import province_name

TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def environment(static: StaticFiles, *, strict: bool = False) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        extensions=["jinja2.ext.i18n"],
        # Tests: a variable a template names but was not given fails the page.
        undefined=StrictUndefined if strict else Undefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    # New-style gettext: `_("%(n)s people", n=3)` formats and escapes; the callables
    # themselves are given per page (the officer's language), see `gettext_callables`.
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        static=static.url,
        field_id=field_id,
        WHOLE_FORM=WHOLE_FORM,
        LANGUAGE_NAMES=i18n.LANGUAGE_NAMES,
    )
    env.filters.update(
        numeric_date=i18n.numeric_date,
        date_time=i18n.date_time,
        long_date=_long_date,
        office=_office,
        province=_province,
    )
    return env


@pass_context
def _long_date(context: Context, value: Any) -> str:
    return i18n.long_date(value, context["language"])


@pass_context
def _office(context: Context, code: str | None) -> str:
    return office_name(code, context["language"])


@pass_context
def _province(context: Context, code: str | None) -> str:
    return province_name(code, context["language"]) if code else ""


def gettext_callables(catalogue: i18n.Catalogue) -> dict[str, Any]:
    """`_`, `gettext` and `ngettext` for a template, in one language (Jinja's new style)."""

    @pass_context
    def gettext(context: Context, message: str, /, **variables: Any) -> str:
        text = catalogue.gettext(message)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704  (our own catalogue; the variables are escaped)
        return text % variables

    @pass_context
    def ngettext(context: Context, singular: str, plural: str, n: int, /, **variables: Any) -> str:
        variables.setdefault("num", n)
        text = catalogue.ngettext(singular, plural, n)
        if context.eval_ctx.autoescape:
            text = Markup(text)  # noqa: S704  (our own catalogue; the variables are escaped)
        return text % variables

    return {"_": gettext, "gettext": gettext, "ngettext": ngettext}
