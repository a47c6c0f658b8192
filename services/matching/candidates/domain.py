"""Pure rules of the candidate read model: what is kept of a person, and who can be matched.

Who can be matched (`is_eligible`, stored as `candidates.eligible` for the partial index):

- a job_matching consent in force (given or renewed; its expiry date is checked when matching,
  since a stored flag cannot turn false by itself at midnight);
- an active record (not merged into another, not erased);
- a jobseeker looking for work (status active or referred), or, with no jobseeker profile at
  all, a prospective migrant: someone registered at an MRC only to go abroad, whose open
  migration record is `prospective`. Such a person's wish to work abroad, and where, comes from
  that record, so overseas vacancies find them;
- not gone: migration status neither departed nor abroad.

`exclusion_reasons` says which of these fail, with stable codes; `is_eligible` is its absence
(apart from the date), so the flag and the explanation can never disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from services.matching.ranking.keys import candidate_keys

if TYPE_CHECKING:
    from datetime import date, datetime

    from shared.events.registry import LanguageSkill, PersonDetails, WorkExperience

CONSENT_IN_FORCE = frozenset({"given", "renewed"})
LOOKING = frozenset({"active", "referred"})
GONE_ABROAD = frozenset({"departed", "abroad"})
# Without a jobseeker profile, only a person still preparing to go abroad is looking for work.
MIGRANT_LOOKING = "prospective"
ACTIVE, MERGED = "active", "merged"
SKILL_MAX = 100  # the column's width


@dataclass(frozen=True)
class Exclusion:
    """Why a person cannot be matched: a stable code for programs, a sentence for officers."""

    code: str
    detail: str

    def as_dict(self) -> dict[str, str]:
        return {"code": self.code, "detail": self.detail}


def _getter(candidate: Mapping[str, Any] | object) -> Any:
    if isinstance(candidate, Mapping):
        return candidate.get
    return lambda key: getattr(candidate, key, None)


def _exclusions(candidate: Mapping[str, Any] | object, today: date | None) -> list[Exclusion]:
    """Every reason that applies; the consent's expiry only when `today` is given."""
    get = _getter(candidate)
    reasons = []
    record_status = get("record_status") or ACTIVE
    if record_status == MERGED:
        survivor = get("merged_into")
        reasons.append(
            Exclusion(
                "merged",
                f"merged into record {survivor}; match that record instead"
                if survivor
                else "merged into another record; match that record instead",
            )
        )
    elif record_status != ACTIVE:
        reasons.append(Exclusion("record_closed", f"the record is {record_status}"))
    expires_on = get("consent_expires_on")
    if not get("consent_job_matching"):
        reasons.append(
            Exclusion("no_consent", "no job_matching consent in force (not given, or withdrawn)")
        )
    elif today is not None and expires_on is not None and expires_on < today:
        reasons.append(
            Exclusion("consent_expired", f"the job_matching consent expired on {expires_on}")
        )
    jobseeker_status = get("jobseeker_status")
    migration_status = get("migration_status")
    if jobseeker_status is None:
        if migration_status != MIGRANT_LOOKING:
            reasons.append(
                Exclusion(
                    "not_looking",
                    "registered without a jobseeker profile and not a prospective migrant",
                )
            )
    elif jobseeker_status not in LOOKING:
        reasons.append(
            Exclusion(f"jobseeker_{jobseeker_status}", f"jobseeker status is {jobseeker_status}")
        )
    if migration_status in GONE_ABROAD:
        reasons.append(
            Exclusion("abroad", f"migration status is {migration_status}: working abroad")
        )
    return reasons


def is_eligible(candidate: Mapping[str, Any] | object) -> bool:
    """Whether the person can be matched, the consent's expiry date apart (see module doc).

    `candidate` is a row or a mapping with consent_job_matching, record_status,
    jobseeker_status and migration_status.
    """
    return not _exclusions(candidate, None)


def exclusion_reasons(
    candidate_fields: Mapping[str, Any] | object, today: date
) -> list[dict[str, str]]:
    """Why the person cannot be matched today, as [{"code", "detail"}]; empty when they can.

    Codes: merged, record_closed, no_consent, consent_expired, not_looking,
    jobseeker_placed, jobseeker_inactive, abroad.
    """
    return [r.as_dict() for r in _exclusions(candidate_fields, today)]


# -- what is kept of a person ----------------------------------------------------------------


def display_name(
    given_lo: str | None, family_lo: str | None, given_en: str | None, family_en: str | None
) -> str:
    """The Latin name when there is one (agencies abroad read it), else the Lao one."""
    latin = " ".join(p for p in (given_en, family_en) if p)
    if given_en and latin:
        return latin
    lao = " ".join(p for p in (given_lo, family_lo) if p)
    return lao or latin


def skill_tags(skills: Iterable[str]) -> list[str]:
    """Skills as ranking compares them: trimmed, lower-cased, once each, in order."""
    tags = (s.strip().lower()[:SKILL_MAX] for s in skills)
    return list(dict.fromkeys(t for t in tags if t))


def language_codes(languages: Iterable[LanguageSkill]) -> list[str]:
    return list(dict.fromkeys(x.code.strip().lower() for x in languages))


def experience_years(experience: Iterable[WorkExperience]) -> list[dict[str, Any]]:
    """[{isco08, years}]: where the work was does not matter to a match."""
    return [{"isco08": x.isco08, "years": x.years} for x in experience]


def person_fields(details: PersonDetails) -> dict[str, Any]:
    """The columns a person's record fills, by a list of what is allowed in.

    Ethnicity, disability, religion, phone, email and village are never copied: they are
    not inputs to a match, and what is not stored cannot leak into one.
    """
    profile = details.jobseeker
    return {
        "reference": details.reference,
        "display_name": display_name(
            details.given_name_lo,
            details.family_name_lo,
            details.given_name_en,
            details.family_name_en,
        )
        or details.reference,
        "sex": details.sex,
        "date_of_birth": details.date_of_birth,
        "province_code": details.province_code,
        "district": details.district,
        "office_code": details.office_code,
        "isced_level": details.isced_level,
        "skills": skill_tags(details.skills),
        "languages": language_codes(details.languages),
        "experience": experience_years(details.experience),
        "desired_occupations": list(profile.desired_occupations) if profile else [],
        "preferred_provinces": list(profile.preferred_provinces) if profile else [],
        "willing_abroad": profile.willing_to_work_abroad if profile else False,
        "abroad_countries": list(profile.abroad_countries) if profile else [],
        "jobseeker_status": profile.status if profile else None,
        "passport_expires_on": details.passport_expires_on,
    }


def migrant_wishes(
    migration_status: str | None, destination_country: str | None
) -> tuple[bool, list[str]]:
    """Where a person without a jobseeker profile would work: the destination of their open
    prospective migration record, or nowhere."""
    if migration_status == MIGRANT_LOOKING and destination_country:
        return True, [destination_country]
    return False, []


def match_keys(candidate: Mapping[str, Any] | object) -> list[str]:
    """The retrieval keys of ranking/keys.py; none for a record that is not active."""
    get = _getter(candidate)
    if (get("record_status") or ACTIVE) != ACTIVE:
        return []
    return candidate_keys(
        experience=[str(x["isco08"]) for x in get("experience") or []],
        desired=get("desired_occupations") or [],
        province_code=get("province_code"),
        preferred_provinces=get("preferred_provinces") or [],
        willing_abroad=bool(get("willing_abroad")),
        abroad_countries=get("abroad_countries") or [],
        oriented_countries=get("oriented_countries") or [],
        languages=get("languages") or [],
    )


def with_offices(held: Iterable[str] | None, added: Iterable[str] | None) -> list[str]:
    """The offices serving a person, with `added`: each once, sorted (stable for comparisons)."""
    return sorted({*(held or ()), *(added or ())})


def not_older(recorded: datetime, stored: datetime | None) -> bool:
    """Whether a decision recorded at `recorded` is at least as recent as the stored one."""
    return stored is None or recorded >= stored
