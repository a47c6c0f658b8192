"""Pure rules of messages: which events tell whom what, and how their facts read in a language.

The matrix: registration → welcome; a referral made, interviewed, offered → referral,
interview, offer; a placement → placement_confirmed; orientation required → its notice; an
enrolment → invitation, waiting list or cancellation; a session moved → session_changed to
everyone enrolled; a completion → certificate_issued; a return date near → return_reminder.
Each notice goes to every channel the person may be reached on.
"""

from __future__ import annotations

import gettext
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import pycountry

from services.notify.templates.domain import local_text
from shared.events import Event
from shared.events.matching import PlacementMade, ReferralStatusChanged
from shared.events.predeparture import (
    EnrolmentChanged,
    OrientationCompleted,
    OrientationRequired,
    SessionStatusChanged,
)
from shared.events.registry import MigrationReturnDue, PersonRegistered

REFERRAL_KEYS = {"referred": "referral", "interviewed": "interview", "offered": "offer"}
ENROLMENT_KEYS = {
    "enrolled": "orientation_invitation",
    "waitlisted": "orientation_waitlisted",
    "cancelled": "orientation_cancelled",
}


@dataclass(frozen=True)
class Notice:
    """One message to send to one person, before it is put in their language and channel.

    `facts` are the template's values the event itself carries (dates as dates, countries as
    ISO codes); `vacancy_id` names a job whose title the read model supplies.
    """

    key: str
    person_id: uuid.UUID
    facts: dict[str, Any] = field(default_factory=dict)
    vacancy_id: uuid.UUID | None = None


def notices_for(payload: Event) -> list[Notice]:
    """What an event tells the person it is about (nothing, for most events)."""
    facts: dict[str, Any]
    match payload:
        case PersonRegistered():
            return [Notice("welcome", payload.person_id, {"reference": payload.reference})]
        case ReferralStatusChanged(status=status) if status in REFERRAL_KEYS:
            return [Notice(REFERRAL_KEYS[status], payload.person_id, vacancy_id=payload.vacancy_id)]
        case PlacementMade():
            facts = {"starts_on": payload.starts_on}
            return [Notice("placement_confirmed", payload.person_id, facts, payload.vacancy_id)]
        case OrientationRequired():
            facts = {"destination": payload.destination_country}
            return [Notice("orientation_required", payload.person_id, facts)]
        case EnrolmentChanged() if _enrolment_news(payload):
            facts = {"starts_at": payload.starts_at, "venue": payload.venue}
            return [Notice(ENROLMENT_KEYS[payload.status], payload.person_id, facts)]
        case OrientationCompleted():
            facts = {
                "certificate_number": payload.certificate_number,
                "valid_until": payload.valid_until,
                "destination": payload.destination_country,
            }
            return [Notice("certificate_issued", payload.person_id, facts)]
        case MigrationReturnDue():
            facts = {
                "destination": payload.destination_country,
                "return_due_on": payload.return_due_on,
                "days_left": payload.days_left,
            }
            return [Notice("return_reminder", payload.person_id, facts)]
    return []


def _enrolment_news(payload: EnrolmentChanged) -> bool:
    # Staying in the same state (a re-sent or corrected enrolment) is not news; a place given
    # up from the waiting list is worth a word, as is any place cancelled.
    return payload.status != payload.previous_status


def session_moved(payload: SessionStatusChanged) -> bool:
    """A scheduled session's time or venue changed: the people enrolled must hear of it."""
    return payload.status == "scheduled" and payload.previous_status == "scheduled"


@cache
def _country_names(language: str) -> gettext.NullTranslations:
    return gettext.translation(
        "iso3166-1", pycountry.LOCALES_DIR, languages=[language], fallback=True
    )


def country_name(code: str, language: str) -> str:
    """A country's common name in the message's language (Lao and Thai from iso-codes)."""
    country = pycountry.countries.get(alpha_2=code)
    if country is None:
        return code
    name = getattr(country, "common_name", None) or country.name
    return _country_names(language).gettext(name) if language != "en" else name


def localised(facts: Mapping[str, Any], language: str) -> dict[str, Any]:
    """The facts as a template shows them in `language`."""
    values = {key: local_text(value) for key, value in facts.items()}
    if "destination" in facts:
        values["destination"] = country_name(facts["destination"], language)
    return values


def display_name(language: str, given_lo: str | None, given_en: str | None) -> str:
    """The name to greet someone by, in the script of the message's language when known."""
    if language == "lo":
        return given_lo or given_en or ""
    return given_en or given_lo or ""
