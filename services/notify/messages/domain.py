"""Pure rules of messages: which events tell whom what, how urgent each message is, and how
their facts read in a language.

The matrix: registration → welcome (a jobseeker's) or welcome_migrant (anyone registered
without a jobseeker profile, as an MRC registers prospective migrants); a referral made,
interviewed, offered → referral, interview, offer; a placement → placement_confirmed;
orientation required → its notice; an enrolment → invitation, waiting list or cancellation; a
session moved → session_changed to everyone enrolled; a completion → certificate_issued; a
return date near → return_reminder. Each notice goes to every channel the person may be
reached on. Messages name the office that holds the person (`office_name`), never a code.

A welcome is decided when the registration arrives, with the consents answered at the counter.
A channel consented to later (within `LATE_WELCOME_WINDOW` of the registration) still gets the
welcome, once: the officer who registers someone and records their SMS consent a moment later
expects the welcome to reach them; a week on, it is no longer news and is not sent.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

import pycountry

from services.notify.templates.domain import local_text
from shared.events.matching import PlacementMade, ReferralStatusChanged
from shared.events.predeparture import (
    EnrolmentChanged,
    OrientationCompleted,
    OrientationRequired,
    SessionStatusChanged,
)
from shared.events.registry import MigrationReturnDue, PersonRegistered
from shared.reference.offices import SEED_OFFICES

if TYPE_CHECKING:
    import uuid
    from collections.abc import Mapping

    from shared.events import Event

REFERRAL_KEYS = {"referred": "referral", "interviewed": "interview", "offered": "offer"}
ENROLMENT_KEYS = {
    "enrolled": "orientation_invitation",
    "waitlisted": "orientation_waitlisted",
    "cancelled": "orientation_cancelled",
}


# How urgent each message is, beside the matrix. Transactional: the person is waiting for it or
# must act on it (a job, an offer, a place, a session that moved, a certificate). Courtesy:
# good to know, never worth holding one of the others back (greetings, thanks, reminders months
# ahead). The dispatcher claims transactional messages first, and courtesy ones are the first
# to be held back by the hourly limit per number (delivery/dispatcher.py).
Priority = Literal["transactional", "courtesy"]
PRIORITIES: dict[str, Priority] = {
    "welcome": "courtesy",
    "welcome_migrant": "courtesy",
    "referral": "transactional",
    "interview": "courtesy",
    "offer": "transactional",
    "placement_confirmed": "transactional",
    "orientation_required": "transactional",
    "orientation_invitation": "transactional",
    "orientation_waitlisted": "transactional",
    "orientation_cancelled": "transactional",
    "session_changed": "transactional",
    "certificate_issued": "transactional",
    "return_reminder": "courtesy",
}
# Stored as a number so that the dispatcher's index orders by it: lower goes first.
PRIORITY_RANK: dict[Priority, int] = {"transactional": 0, "courtesy": 1}


def priority_rank(key: str) -> int:
    """The rank a message of `key` is claimed in (transactional first)."""
    return PRIORITY_RANK[PRIORITIES[key]]


def priority_of_rank(rank: int) -> Priority:
    """The name of a stored rank."""
    return next(name for name, value in PRIORITY_RANK.items() if value == rank)


WELCOME_KEYS = frozenset({"welcome", "welcome_migrant"})
LATE_WELCOME_WINDOW = timedelta(days=7)


def welcome_key(jobseeker: bool) -> str:
    """Which welcome a new registration gets: the jobseeker's (labour bank, job matching) when
    a jobseeker profile came with it, else the migrant's (counselling, orientation, safe
    migration), as an MRC registers prospective migrants."""
    return "welcome" if jobseeker else "welcome_migrant"


def late_welcome_due(registered_at: datetime | None, consent_at: datetime) -> bool:
    """Whether a channel consented to at `consent_at` still gets the registration's welcome."""
    return registered_at is not None and consent_at - registered_at <= LATE_WELCOME_WINDOW


# When the person's office is not known (none on record, or one an admin added after the seed
# list, whose name notify does not hold): the words still say whom to ask, and never a code.
_SOME_OFFICE = {"lo": "ຫ້ອງການທີ່ທ່ານລົງທະບຽນ", "en": "the office where you registered"}


def office_name(code: str | None, language: str) -> str:
    """The name of the office that holds the person, in the message's language (Lao, else
    English)."""
    office = SEED_OFFICES.get(code) if code else None
    if office is None:
        return _SOME_OFFICE["lo" if language == "lo" else "en"]
    return office.name("lo" if language == "lo" else "en")


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
            key = welcome_key(payload.jobseeker is not None)
            return [Notice(key, payload.person_id, {"reference": payload.reference})]
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
    # up from the waiting list is worth a word, as is any place cancelled. An enrolment entered
    # from paper after the session was held records that the person was there: no invitation.
    return not payload.entered_late and payload.status != payload.previous_status


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
