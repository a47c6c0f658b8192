"""The forms that work offline, and the pages the service worker keeps for them."""

from __future__ import annotations

from dataclasses import dataclass

from services.console.i18n import N_


@dataclass(frozen=True)
class OfflineForm:
    """A kind of form the officer may send while offline (`<form data-offline="<kind>">`)."""

    label: str  # what the waiting list calls it (translated where shown)
    # Fields that name what was typed, for the waiting list: the first group with a value wins
    # (the name in Lao script, else in Latin letters).
    name_fields: tuple[tuple[str, ...], ...]
    # The page that shows a blank form of this kind ("register another person").
    page: str | None = None


FORMS: dict[str, OfflineForm] = {
    "registration": OfflineForm(
        N_("Registration of a jobseeker"),
        (("given_name_lo", "family_name_lo"), ("given_name_en", "family_name_en")),
        page="/register",
    ),
}

WAITING_PAGE = "/offline/waiting"
UNAVAILABLE_PAGE = "/offline/unavailable"
SESSION_URL = "/offline/session"


def pages() -> list[str]:
    """Pages the service worker fetches ahead, so they open offline: the waiting list, the
    page shown for any other address while offline, and each offline form's blank page.
    (It keeps only answers that carry an offline form or are one of its own pages.)"""
    return [WAITING_PAGE, UNAVAILABLE_PAGE, *(f.page for f in FORMS.values() if f.page)]
