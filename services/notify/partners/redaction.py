"""Redaction: every field of a partner stream classified, and an event cut down to its scope.

What a partner sees of an event depends on its subscription's scope and, for an event about a
person, on that person's consent:

- `aggregate`: no person-level identifier at all. Events about a person keep only fields fit for
  counting (status, sex, age band, province, destination, ...); events about vacancies, agencies
  and sessions keep what `pseudonymised` keeps.
- `pseudonymised`: person ids become a pseudonym of the partner's own (HMAC-SHA256 under a key
  derived per partner), and every other id that belongs to one person (referral, placement,
  migration, enrolment, consent, cost, certificate) a per-partner id too, so that two partners
  cannot join their feeds on them. Names, phone, email, address below the province, free text,
  the person's reference and the staff who acted are dropped; the date of birth becomes an age
  band.
- `personal`: the whole payload.

Person-level data (`pseudonymised` or `personal`) about someone goes only to a partner their
partner-sharing consent in force covers (by the partner's code, or its category). Anyone else's
events reach every partner in the `aggregate` view, whatever its scope: a stable pseudonym with
an age band, sex, office, occupation and permit dates is enough to single out a person in a
small district, and they never agreed to that.

Fields are classified one by one; a field no rule names is dropped from every scope but
`personal`, so that a field added to an event later is never shared by accident."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Any

from services.notify.partners.pseudonyms import linked_id, pseudonym
from services.notify.partners.scopes import Scope

if TYPE_CHECKING:
    from collections.abc import Mapping

# --- field classes -------------------------------------------------------------------------

# Person ids: replaced by the partner's pseudonym under a name that says so.
PERSON_IDS = {"person_id": "person_pseudonym", "survivor_id": "survivor_pseudonym"}
# Ids of records that belong to one person: a per-partner id of the same shape.
LINKED_IDS = frozenset(
    {
        "referral_id",
        "placement_id",
        "migration_id",
        "enrolment_id",
        "consent_id",
        "cost_id",
        "certificate_number",
    }
)
# Who the person is, how to reach them, where they live below the province, free text (which may
# hold any of that) and the staff who acted: shared in `personal` scope only.
IDENTIFYING = frozenset(
    {
        # Registry's sealed personal part (v2 person events): notify opens it into the v1 record
        # before a partner sees the event (shared/sealing_consumer.py); never passed on as is.
        "sealed",
        "given_name_lo",
        "family_name_lo",
        "given_name_en",
        "family_name_en",
        "phone",
        "email",
        "district",
        "village",
        "passport_expires_on",
        "reason",
        "return_reason",
        "registered_by",
        "updated_by",
        "entered_late_by",
        "changed_by",
        "recorded_by",
        "merged_by",
        "erased_by",
        "placed_by",
        "ended_by",
    }
)
BIRTH_DATE = "date_of_birth"
# A person's reference identifies them; a vacancy's reference is the job's own.
REFERENCE = "reference"
# Shared as they are in `pseudonymised` scope.
SHAREABLE = frozenset(
    {
        # people
        "sex",
        "province_code",
        "office_code",
        "preferred_language",
        "ethnicity",
        "has_disability",
        "isced_level",
        "skills",
        "certificates",
        "languages",
        "experience",
        "jobseeker",
        "consents",
        "changed_fields",
        "record_version",
        "registered_at",
        "updated_at",
        "merged_at",
        "erased_at",
        "status",
        "previous_status",
        "purpose",
        "agency",
        "category",
        "expires_on",
        "method",
        "destination_country",
        "channel",
        "agency_code",
        "departed_on",
        "returned_on",
        "permit_expires_on",
        "return_due_on",
        "days_left",
        "skills_gained",
        "changed_at",
        # referrals, placements
        "vacancy_id",
        "overseas",
        "isco08",
        "starts_on",
        "contract_months",
        "placed_at",
        "ended_on",
        "ended_at",
        # vacancies
        "title",
        "employer_id",
        "positions",
        "open_positions",
        # agencies
        "agency_id",
        "name",
        "licence_number",
        "licence_expires_on",
        "destinations",
        "effective_on",
        "item",
        "amount",
        "currency",
        "recorded_at",
        # orientation
        "session_id",
        "automatic",
        "starts_at",
        "ends_at",
        "venue",
        "language",
        "outreach",
        "capacity",
        "completed_on",
        "valid_until",
        "entered_late",
        "entered_late_at",
        # serving offices
        "office_province_code",
        "basis",
    }
)
# What an `aggregate` view of an event about a person keeps: fields to count by, nothing more.
AGGREGATE_FIELDS = frozenset(
    {
        "status",
        "previous_status",
        "sex",
        "age_band",
        "province_code",
        "office_code",
        "destination_country",
        "channel",
        "overseas",
        "isco08",
        "ethnicity",
        "has_disability",
        "isced_level",
        "preferred_language",
        "purpose",
        "agency",
        "category",
        "agency_code",
        "item",
        "currency",
        "automatic",
        "language",
    }
)


def classified(field: str) -> bool:
    """Whether a rule names `field` (every field of every partner stream's events must be)."""
    return (
        field in PERSON_IDS
        or field in LINKED_IDS
        or field in IDENTIFYING
        or field in SHAREABLE
        or field in (BIRTH_DATE, REFERENCE)
    )


def age_band(born: date, on: date) -> str:
    """Five-year age bands (ILO), 15 to 64, and the open ends."""
    age = on.year - born.year - ((on.month, on.day) < (born.month, born.day))
    if age < 15:
        return "0-14"
    if age >= 65:
        return "65+"
    low = age - age % 5
    return f"{low}-{low + 4}"


def _is_about_a_person(data: Mapping[str, Any]) -> bool:
    return any(field in data for field in PERSON_IDS)


def redact(data: Mapping[str, Any], scope: Scope, key: bytes, on: date) -> dict[str, Any]:
    """The event data as `scope` allows (`personal` means the person consented: unchanged)."""
    if scope is Scope.PERSONAL:
        return dict(data)
    about_person = _is_about_a_person(data)
    out: dict[str, Any] = {}
    for field, value in data.items():
        if field in PERSON_IDS:
            if value is not None:
                out[PERSON_IDS[field]] = pseudonym(key, value)
        elif field in LINKED_IDS:
            out[field] = None if value is None else linked_id(key, field, value)
        elif field == BIRTH_DATE:
            if value is not None:
                out["age_band"] = age_band(date.fromisoformat(str(value)), on)
        elif field == REFERENCE:
            if not about_person:
                out[field] = value
        elif field in SHAREABLE:
            out[field] = value
    if scope is Scope.AGGREGATE and about_person:
        out = {field: value for field, value in out.items() if field in AGGREGATE_FIELDS}
    return out


def redact_subject(
    subject_field: str | None, subject: str | None, scope: Scope, key: bytes
) -> str | None:
    """The event's subject (its aggregate id) as `scope` allows."""
    if subject is None or scope is Scope.PERSONAL:
        return subject
    if subject_field in PERSON_IDS:
        return None if scope is Scope.AGGREGATE else pseudonym(key, subject)
    if subject_field in LINKED_IDS:
        return None if scope is Scope.AGGREGATE else linked_id(key, subject_field, subject)
    return subject


def removal_data(data: Mapping[str, Any], key: bytes, personal: bool) -> dict[str, Any]:
    """What a removal tells a partner: whom to delete, by the identifiers it holds."""
    out: dict[str, Any] = {
        "reason": data["reason"],
        "person_pseudonym": pseudonym(key, data["person_id"]),
    }
    if data.get("survivor_id"):
        out["survivor_pseudonym"] = pseudonym(key, data["survivor_id"])
    if personal:
        # Only a partner that was given the person's id (with their consent) is told it again.
        out["person_id"] = str(data["person_id"])
    return out
