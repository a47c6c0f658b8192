"""Pure rules of orientation sessions and learners: the lifecycle, times and places, who gets
a place, where a prospective migrant is invited, and a learner's initials."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.predeparture.learners.domain import initials
from services.predeparture.sessions.domain import (
    TRANSITIONS,
    EnrolmentStatus,
    InvalidTransition,
    OpenSession,
    SessionStatus,
    check_capacity,
    check_place,
    check_planned_modules,
    check_status_change,
    check_times,
    invitation_plan,
    notice_reason,
    office_province,
    status_for_new,
)
from shared.problems import Conflict, InvalidField

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=3)


def field_of(problem: InvalidField) -> str:
    return str(problem.extensions["errors"][0]["field"])


# -- the lifecycle ---------------------------------------------------------------------------


@given(st.sampled_from(SessionStatus), st.sampled_from(SessionStatus))
def test_only_the_lifecycle_s_changes_are_allowed_and_a_refusal_says_what_is(
    current: SessionStatus, requested: SessionStatus
) -> None:
    allowed = {
        (SessionStatus.SCHEDULED, SessionStatus.HELD),
        (SessionStatus.SCHEDULED, SessionStatus.CANCELLED),
        (SessionStatus.HELD, SessionStatus.CLOSED),
    }
    started = NOW - timedelta(hours=1)
    if (current, requested) in allowed:
        check_status_change(current, requested, reason="rain", starts_at=started, now=NOW)
        return
    with pytest.raises(InvalidTransition) as refused:
        check_status_change(current, requested, reason="rain", starts_at=started, now=NOW)
    assert refused.value.status == 409
    assert refused.value.extensions["current_status"] == current
    assert refused.value.extensions["allowed"] == sorted(TRANSITIONS[current])


def test_closed_and_cancelled_sessions_are_final() -> None:
    assert TRANSITIONS[SessionStatus.CLOSED] == frozenset()
    assert TRANSITIONS[SessionStatus.CANCELLED] == frozenset()


def test_a_session_is_held_only_once_it_has_started() -> None:
    with pytest.raises(Conflict) as early:
        check_status_change(
            SessionStatus.SCHEDULED, SessionStatus.HELD, reason=None, starts_at=LATER, now=NOW
        )
    assert early.value.extensions["field"] == "status"
    check_status_change(
        SessionStatus.SCHEDULED, SessionStatus.HELD, reason=None, starts_at=NOW, now=NOW
    )


def test_cancelling_a_session_needs_a_reason_people_can_be_told() -> None:
    with pytest.raises(InvalidField) as missing:
        check_status_change(
            SessionStatus.SCHEDULED, SessionStatus.CANCELLED, reason=None, starts_at=LATER, now=NOW
        )
    assert field_of(missing.value) == "reason"


# -- times, places, modules, capacity --------------------------------------------------------


def test_a_session_starts_in_the_future_and_ends_after_it_starts() -> None:
    check_times(LATER, LATER + timedelta(hours=4), NOW)
    with pytest.raises(InvalidField) as past:
        check_times(NOW - timedelta(minutes=1), LATER, NOW)
    assert field_of(past.value) == "starts_at"
    with pytest.raises(InvalidField) as backwards:
        check_times(LATER, LATER, NOW)
    assert field_of(backwards.value) == "ends_at"


def test_changing_only_the_end_of_a_started_session_does_not_check_its_start_again() -> None:
    check_times(NOW - timedelta(hours=1), NOW + timedelta(hours=2), NOW, new_start=False)


def test_an_outreach_session_names_its_district_and_village() -> None:
    check_place(False, None, None)
    check_place(True, "Xaybouly", "Ban Nongbua")
    with pytest.raises(InvalidField) as no_district:
        check_place(True, None, "Ban Nongbua")
    assert field_of(no_district.value) == "district"
    with pytest.raises(InvalidField) as no_village:
        check_place(True, "Xaybouly", "")
    assert field_of(no_village.value) == "village"


def test_planned_modules_are_of_the_curriculum_each_once_in_the_order_given() -> None:
    known = ["RIGHTS", "SAFE-MIG", "OSH"]
    assert check_planned_modules(["OSH", "RIGHTS", "OSH"], known) == ["OSH", "RIGHTS"]
    with pytest.raises(InvalidField) as unknown:
        check_planned_modules(["RIGHTS", "COOKING"], known)
    assert field_of(unknown.value) == "planned_modules"
    assert "COOKING" in str(unknown.value.detail)
    with pytest.raises(InvalidField):
        check_planned_modules([], known)


def test_capacity_cannot_drop_below_the_people_already_enrolled() -> None:
    check_capacity(10, 10)
    with pytest.raises(InvalidField) as below:
        check_capacity(9, 10)
    assert field_of(below.value) == "capacity"


@given(st.integers(0, 250), st.integers(1, 200))
def test_a_new_enrolment_gets_a_place_while_there_is_room_else_the_waiting_list(
    enrolled: int, capacity: int
) -> None:
    expected = EnrolmentStatus.ENROLLED if enrolled < capacity else EnrolmentStatus.WAITLISTED
    assert status_for_new(enrolled, capacity) is expected


def test_people_are_told_of_a_new_time_place_or_language_but_not_of_a_new_facilitator() -> None:
    assert notice_reason(["venue", "capacity"]) == "session changed: venue"
    assert notice_reason(["starts_at", "ends_at"]) == "session changed: ends_at, starts_at"
    assert notice_reason(["facilitator", "capacity", "planned_modules"]) is None


def test_sessions_are_run_by_the_migrant_resource_centres_in_their_province() -> None:
    assert office_province("MRC-SV") == "LA-SV"
    assert office_province("MRC-VT") == "LA-VT"
    with pytest.raises(InvalidField) as esc:
        office_province("ESC-SV")
    assert field_of(esc.value) == "office_code"


# -- where an invitation goes ----------------------------------------------------------------


def open_session(office: str, days: int, capacity: int = 20, enrolled: int = 0) -> OpenSession:
    return OpenSession(
        id=uuid.uuid4(),
        office_code=office,
        starts_at=NOW + timedelta(days=days),
        capacity=capacity,
        enrolled=enrolled,
    )


def test_a_person_from_khammouane_is_invited_to_savannakhet_first() -> None:
    savannakhet = open_session("MRC-SV", 10)
    vientiane = open_session("MRC-VT", 2)

    with_room, fallback = invitation_plan("LA-KH", [vientiane, savannakhet])

    assert with_room == [savannakhet, vientiane]
    assert fallback == savannakhet


def test_the_nearest_office_s_earliest_session_with_room_comes_first() -> None:
    full_soon = open_session("MRC-SV", 2, capacity=5, enrolled=5)
    later = open_session("MRC-SV", 9)
    latest = open_session("MRC-SV", 20)

    with_room, fallback = invitation_plan("LA-KH", [latest, full_soon, later])

    assert with_room == [later, latest]
    # Were all full, the waiting list of the nearest office's next session.
    assert fallback == full_soon


def test_when_the_nearest_office_is_full_the_next_nearest_with_room_is_tried() -> None:
    savannakhet = open_session("MRC-SV", 3, capacity=2, enrolled=2)
    champasak = open_session("MRC-CH", 3)
    vientiane = open_session("MRC-VT", 3)

    with_room, fallback = invitation_plan("LA-KH", [champasak, savannakhet, vientiane])

    # From Thakhek, Vientiane (241 km) is nearer than Pakse (275 km).
    assert with_room == [vientiane, champasak]
    assert fallback == savannakhet


def test_with_every_session_full_the_person_waits_at_the_nearest_office_with_a_session() -> None:
    vientiane = open_session("MRC-VT", 5, capacity=1, enrolled=1)
    luang_prabang = open_session("MRC-LP", 4, capacity=1, enrolled=1)

    with_room, fallback = invitation_plan("LA-KH", [luang_prabang, vientiane])

    assert with_room == []
    assert fallback == vientiane


def test_without_any_session_there_is_nowhere_to_invite() -> None:
    assert invitation_plan("LA-KH", []) == ([], None)


# -- learners --------------------------------------------------------------------------------


def test_initials_come_from_the_latin_names_else_the_lao_ones() -> None:
    assert initials("Bounmy", "Sisouvanh", "ບຸນມີ", "ສີສຸວັນ") == "B. S."
    assert initials("bounmy", None, None, None) == "B."
    # A Lao vowel written before its consonant is not the initial: ແກ້ວ starts with ກ.
    assert initials(None, None, "ບຸນມີ", "ແກ້ວ") == "ບ. ກ."
    assert initials(None, None, None, None) == ""


@given(
    st.text(min_size=0, max_size=60),
    st.text(min_size=0, max_size=60),
    st.text(min_size=0, max_size=60),
    st.text(min_size=0, max_size=60),
)
def test_initials_never_reveal_more_than_two_letters(
    given_en: str, family_en: str, given_lo: str, family_lo: str
) -> None:
    kept = initials(given_en, family_en, given_lo, family_lo)
    assert len(kept) <= 10  # the column's width
    assert sum(1 for c in kept if c.isalpha()) <= 2
