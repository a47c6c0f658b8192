"""What the offline script says to the officer, in the catalogues like every other string (so
the Lao catalogue test covers them): served as JSON per language, kept by the service worker."""

from __future__ import annotations

from typing import Any

from services.console import i18n
from services.console.offline.forms import FORMS

MESSAGES = {
    "count": i18n.N_("Waiting to send: %(count)s"),
    "count_needs_you": i18n.N_("Needs you: %(count)s"),
    "offline": i18n.N_(
        "You are offline. A registration you send now is kept on this computer and sent"
        " when the connection returns."
    ),
    "sign_in": i18n.N_(
        "Your session has ended. Sign in again to send what is waiting: it stays on this"
        " computer until then."
    ),
    "sign_in_link": i18n.N_("Sign in again"),
    "saved": i18n.N_(
        "Saved on this computer. It will be sent when the connection returns; nothing more to do."
    ),
    "sent": i18n.N_("Sent: %(name)s"),
    "open_person": i18n.N_("Open this person"),
    "no_name": i18n.N_("(no name typed)"),
    "saved_at": i18n.N_("Saved %(when)s"),
    "sent_at": i18n.N_("Sent %(when)s"),
    "state_waiting": i18n.N_("Waiting for the connection"),
    "state_sending": i18n.N_("Sending…"),
    "state_other_officer": i18n.N_(
        "Typed by another officer: it is sent when they sign in on this computer."
    ),
    "needs_you_409": i18n.N_(
        "Needs you: the register may already have this person, or the answer conflicts with"
        " it. Open it to decide."
    ),
    "needs_you_422": i18n.N_("Needs you: something in it was not accepted. Open it to correct it."),
    "needs_you_403": i18n.N_(
        "Needs you: this was refused for your role or office. Open it to see why."
    ),
    "needs_you": i18n.N_("Needs you: it was not accepted. Open it to see why."),
    "next_try": i18n.N_("Not sent yet: the connection or a service failed. Next try at %(time)s."),
    "open": i18n.N_("Open it in the form"),
    "remove": i18n.N_("Remove"),
    "remove_confirm": i18n.N_(
        "Remove this from this computer? It has not been sent, and what was typed will be lost."
    ),
    "removed": i18n.N_("Removed: %(name)s"),
    "nothing": i18n.N_("Nothing is waiting to be sent."),
    "no_storage": i18n.N_(
        "This browser cannot keep forms while offline (its storage is switched off). Send"
        " forms only while connected."
    ),
}


def messages(catalogue: i18n.Catalogue) -> dict[str, Any]:
    """Every message the offline script shows, in one language, and each form kind's name."""
    return {
        "language": catalogue.language,
        "messages": {key: catalogue.gettext(text) for key, text in MESSAGES.items()},
        "forms": {
            kind: {
                "label": catalogue.gettext(form.label),
                "name": [list(group) for group in form.name_fields],
                "page": form.page,
            }
            for kind, form in FORMS.items()
        },
    }
