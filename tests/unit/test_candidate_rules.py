"""Who can be matched, and why not: the candidate read model's pure rules."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.matching.candidates.domain import (
    display_name,
    exclusion_reasons,
    is_eligible,
    language_codes,
    match_keys,
    migrant_wishes,
    person_fields,
    skill_tags,
)
from shared.events.registry import LanguageSkill, PersonRegistered

TODAY = date(2026, 3, 1)


def state(**changes: Any) -> dict[str, Any]:
    """A jobseeker who can be matched; `changes` replace any field."""
    return {
        "consent_job_matching": True,
        "consent_expires_on": None,
        "record_status": "active",
        "merged_into": None,
        "jobseeker_status": "active",
        "migration_status": None,
        "willing_abroad": False,
    } | changes


def codes(candidate: dict[str, Any], today: date = TODAY) -> list[str]:
    return [r["code"] for r in exclusion_reasons(candidate, today)]


def test_an_active_jobseeker_with_consent_can_be_matched() -> None:
    assert is_eligible(state())
    assert is_eligible(state(jobseeker_status="referred"))
    assert exclusion_reasons(state(), TODAY) == []


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"consent_job_matching": False}, "no_consent"),
        ({"record_status": "merged", "merged_into": uuid.uuid4()}, "merged"),
        ({"jobseeker_status": "placed"}, "jobseeker_placed"),
        ({"jobseeker_status": "inactive"}, "jobseeker_inactive"),
        ({"migration_status": "departed"}, "abroad"),
        ({"migration_status": "abroad"}, "abroad"),
        ({"jobseeker_status": None}, "not_looking"),
        ({"jobseeker_status": None, "migration_status": "ready"}, "not_looking"),
    ],
)
def test_each_hard_filter_excludes_with_its_own_code(changes: dict[str, Any], code: str) -> None:
    candidate = state(**changes)

    assert not is_eligible(candidate)
    assert code in codes(candidate)
    assert all(r["detail"] for r in exclusion_reasons(candidate, TODAY))


def test_a_prospective_migrant_without_a_jobseeker_profile_can_be_matched() -> None:
    migrant = state(jobseeker_status=None, migration_status="prospective", willing_abroad=True)

    assert is_eligible(migrant)
    assert codes(migrant) == []


def test_a_returned_or_cancelled_migration_does_not_exclude_a_jobseeker() -> None:
    assert is_eligible(state(migration_status="returned"))
    assert is_eligible(state(migration_status="cancelled"))
    assert is_eligible(state(migration_status="ready"))


def test_an_expired_consent_excludes_on_the_day_after_its_expiry_not_in_the_stored_flag() -> None:
    consent_until = state(consent_expires_on=TODAY)

    assert is_eligible(consent_until)  # the flag never expires by itself
    assert codes(consent_until, TODAY) == []
    assert codes(consent_until, TODAY + timedelta(days=1)) == ["consent_expired"]


def test_a_merged_record_names_the_survivor() -> None:
    survivor = uuid.uuid4()

    [reason, *_] = exclusion_reasons(state(record_status="merged", merged_into=survivor), TODAY)

    assert reason["code"] == "merged"
    assert str(survivor) in reason["detail"]


def test_reasons_accept_a_row_object_as_well_as_a_mapping() -> None:
    class Row:
        consent_job_matching = False
        consent_expires_on = None
        record_status = "active"
        merged_into = None
        jobseeker_status = "placed"
        migration_status = None

    assert codes(state(consent_job_matching=False, jobseeker_status="placed")) == [
        r["code"] for r in exclusion_reasons(Row(), TODAY)
    ]
    assert not is_eligible(Row())


states = st.fixed_dictionaries(
    {
        "consent_job_matching": st.booleans(),
        "consent_expires_on": st.none() | st.dates(date(2025, 1, 1), date(2027, 1, 1)),
        "record_status": st.sampled_from(["active", "merged"]),
        "merged_into": st.none() | st.uuids(),
        "jobseeker_status": st.none()
        | st.sampled_from(["active", "referred", "placed", "inactive"]),
        "migration_status": st.none()
        | st.sampled_from(["prospective", "ready", "departed", "abroad", "returned", "cancelled"]),
        "willing_abroad": st.booleans(),
    }
)


@given(states, st.dates(date(2025, 1, 1), date(2027, 1, 1)))
def test_the_stored_flag_and_the_reasons_never_disagree(
    candidate: dict[str, Any], today: date
) -> None:
    reasons = codes(candidate, today)
    date_only = [c for c in reasons if c != "consent_expired"]

    assert is_eligible(candidate) == (not date_only)
    assert len(reasons) == len(set(reasons))
    expired = (
        candidate["consent_expires_on"] is not None and candidate["consent_expires_on"] < today
    )
    assert ("consent_expired" in reasons) == (candidate["consent_job_matching"] and expired)


def test_display_name_is_latin_when_there_is_one_else_lao() -> None:
    assert display_name("ສີ", "ພົມ", "Si", "Phom") == "Si Phom"
    assert display_name("ສີ", "ພົມ", None, None) == "ສີ ພົມ"
    assert display_name("ສີ", None, "Si", None) == "Si"


def test_skills_are_trimmed_lower_cased_and_kept_once() -> None:
    assert skill_tags([" Welding ", "welding", "Driving", "  "]) == ["welding", "driving"]


def test_languages_keep_only_their_codes() -> None:
    spoken = [
        LanguageSkill(code="lo", proficiency="native"),
        LanguageSkill(code="th", proficiency="basic"),
    ]

    assert language_codes(spoken) == ["lo", "th"]


def test_the_record_keeps_nothing_sensitive_even_when_the_event_carries_it() -> None:
    event = PersonRegistered(
        person_id=uuid.uuid4(),
        reference="P-UNIT0001",
        given_name_en="Somchai",
        family_name_en="Keo",
        sex="male",
        date_of_birth=date(1990, 1, 1),
        phone="+8562055512345",
        email="somchai@example.la",
        ethnicity="hmong",
        has_disability=True,
        village="Ban Nong",
        province_code="LA-VT",
        registered_by="officer",
        registered_at="2026-01-01T00:00:00Z",
    )

    fields = person_fields(event)

    assert not {"ethnicity", "has_disability", "phone", "email", "village"} & set(fields)
    assert not {"hmong", "+8562055512345", "somchai@example.la"} & {
        v for v in fields.values() if isinstance(v, str)
    }
    assert fields["jobseeker_status"] is None  # no profile


def test_retrieval_keys_cover_occupations_places_and_countries_of_an_active_record() -> None:
    row = state(
        experience=[{"isco08": "7212", "years": 2.0}],
        desired_occupations=["8322"],
        province_code="LA-VT",
        preferred_provinces=["LA-CH"],
        willing_abroad=True,
        abroad_countries=["TH"],
    )

    keys = match_keys(row)

    assert {"e4:7212", "o3:721", "o4:8322", "p:LA-VT", "p:LA-CH", "w:abroad", "a:TH"} <= set(keys)
    assert match_keys(row | {"record_status": "merged"}) == []


def test_a_prospective_migrants_wish_to_go_is_the_destination_of_the_open_record() -> None:
    assert migrant_wishes("prospective", "TH") == (True, ["TH"])
    assert migrant_wishes("ready", "TH") == (False, [])
    assert migrant_wishes("returned", "TH") == (False, [])
