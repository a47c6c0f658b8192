"""Pure rules of orientation sessions and learners: the lifecycle, times and places, who gets
a place, where a prospective migrant is invited, and a learner's initials."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.predeparture.learners.domain import full_name, initials, with_office
from services.predeparture.sessions.domain import (
    TRANSITIONS,
    EnrolmentStatus,
    InvalidTransition,
    NotEnded,
    OpenSession,
    SessionStatus,
    capacity_errors,
    check_status_change,
    entered_late,
    invitation_plan,
    notice_reason,
    office_province,
    place_errors,
    planned_modules,
    status_for_new,
    time_errors,
)
from shared.problems import FieldError, InvalidField, InvalidFields

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=3)
WINDOW = 30


def field_of(problem: InvalidField | InvalidFields) -> str:
    return str(problem.extensions["errors"][0]["field"])


def fields(errors: list[FieldError]) -> list[str]:
    return [e.field for e in errors]


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
    ended = NOW - timedelta(hours=1)
    if (current, requested) in allowed:
        check_status_change(current, requested, reason="rain", ends_at=ended, now=NOW)
        return
    with pytest.raises(InvalidTransition) as refused:
        check_status_change(current, requested, reason="rain", ends_at=ended, now=NOW)
    assert refused.value.status == 409
    assert refused.value.extensions["current_status"] == current
    assert refused.value.extensions["allowed"] == sorted(TRANSITIONS[current])


def test_closed_and_cancelled_sessions_are_final() -> None:
    assert TRANSITIONS[SessionStatus.CLOSED] == frozenset()
    assert TRANSITIONS[SessionStatus.CANCELLED] == frozenset()


@pytest.mark.parametrize(
    ("current", "requested"),
    [
        (SessionStatus.SCHEDULED, SessionStatus.HELD),
        (SessionStatus.HELD, SessionStatus.CLOSED),
    ],
)
def test_a_session_is_held_and_closed_only_once_it_has_ended(
    current: SessionStatus, requested: SessionStatus
) -> None:
    """A session ending tomorrow cannot be closed today: closing it issues certificates."""
    with pytest.raises(NotEnded) as early:
        check_status_change(current, requested, reason=None, ends_at=LATER, now=NOW)
    assert early.value.status == 409
    assert early.value.extensions["field"] == "status"
    assert early.value.extensions["ends_at"] == LATER.isoformat()
    assert "ends at" in early.value.detail
    # Under way (started, not ended) is not enough either.
    with pytest.raises(NotEnded):
        check_status_change(
            current, requested, reason=None, ends_at=NOW + timedelta(minutes=1), now=NOW
        )
    check_status_change(current, requested, reason=None, ends_at=NOW, now=NOW)


def test_a_session_is_cancelled_whenever_it_has_not_been_held() -> None:
    check_status_change(
        SessionStatus.SCHEDULED, SessionStatus.CANCELLED, reason="flood", ends_at=LATER, now=NOW
    )


def test_cancelling_a_session_needs_a_reason_people_can_be_told() -> None:
    with pytest.raises(InvalidField) as missing:
        check_status_change(
            SessionStatus.SCHEDULED, SessionStatus.CANCELLED, reason=None, ends_at=LATER, now=NOW
        )
    assert field_of(missing.value) == "reason"


# -- times, places, modules, capacity --------------------------------------------------------


def test_a_session_starts_in_the_future_and_ends_after_it_starts() -> None:
    assert time_errors(LATER, LATER + timedelta(hours=4), NOW, late_entry_days=WINDOW) == []
    assert fields(time_errors(LATER, LATER, NOW, late_entry_days=WINDOW)) == ["ends_at"]


def test_a_session_held_without_a_connection_is_entered_within_the_window_as_late() -> None:
    yesterday = NOW - timedelta(days=1)
    assert time_errors(yesterday, yesterday + timedelta(hours=8), NOW, late_entry_days=WINDOW) == []
    assert entered_late(yesterday, NOW)
    assert not entered_late(LATER, NOW)
    edge = NOW - timedelta(days=WINDOW)
    assert time_errors(edge, edge + timedelta(hours=8), NOW, late_entry_days=WINDOW) == []


def test_a_session_older_than_the_window_is_refused_naming_starts_at_and_the_window() -> None:
    old = NOW - timedelta(days=WINDOW, minutes=1)
    [error] = time_errors(old, old + timedelta(hours=8), NOW, late_entry_days=WINDOW)
    assert error.field == "starts_at"
    assert str(WINDOW) in error.message
    assert "LABOURX_PREDEPARTURE_LATE_ENTRY_DAYS" in error.message


def test_every_bad_time_is_named_at_once() -> None:
    old = NOW - timedelta(days=400)
    errors = time_errors(old, old - timedelta(hours=1), NOW, late_entry_days=WINDOW)
    assert fields(errors) == ["starts_at", "ends_at"]


def test_only_a_session_entered_late_may_be_moved_into_the_past() -> None:
    past = NOW - timedelta(days=2)
    [error] = time_errors(
        past, past + timedelta(hours=3), NOW, late_entry_days=WINDOW, past_allowed=False
    )
    assert error.field == "starts_at"
    assert "entered late" in error.message


def test_changing_only_the_end_of_a_started_session_does_not_check_its_start_again() -> None:
    errors = time_errors(
        NOW - timedelta(days=90),
        NOW + timedelta(hours=2),
        NOW,
        late_entry_days=WINDOW,
        new_start=False,
    )
    assert errors == []


def test_an_outreach_session_names_its_district_and_village() -> None:
    assert place_errors(False, None, None) == []
    assert place_errors(True, "Xaybouly", "Ban Nongbua") == []
    assert fields(place_errors(True, None, "Ban Nongbua")) == ["district"]
    assert fields(place_errors(True, "Xaybouly", "")) == ["village"]
    assert fields(place_errors(True, None, None)) == ["district", "village"]


def test_planned_modules_are_of_the_curriculum_each_once_in_the_order_given() -> None:
    known = ["RIGHTS", "SAFE-MIG", "OSH"]
    assert planned_modules(["OSH", "RIGHTS", "OSH"], known) == (["OSH", "RIGHTS"], [])
    _, [unknown] = planned_modules(["RIGHTS", "COOKING"], known)
    assert unknown.field == "planned_modules"
    assert "COOKING" in unknown.message
    _, [empty] = planned_modules([], known)
    assert empty.field == "planned_modules"


def test_capacity_cannot_drop_below_the_people_already_enrolled() -> None:
    assert capacity_errors(10, 10) == []
    assert fields(capacity_errors(9, 10)) == ["capacity"]


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
    with pytest.raises(InvalidFields) as esc:
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


def test_a_full_name_is_written_given_name_first_in_either_script() -> None:
    assert full_name("ບຸນມີ", "ສີສຸວັນ") == "ບຸນມີ ສີສຸວັນ"
    assert full_name("Bounmy", None) == "Bounmy"
    assert full_name(None, " ") == ""


def test_an_office_serving_a_person_is_kept_once_in_the_order_it_came() -> None:
    assert with_office([], "MRC-SV") == ["MRC-SV"]
    assert with_office(["MRC-SV"], "MRC-SV") == ["MRC-SV"]
    assert with_office(["MRC-SV"], "ESC-VT") == ["MRC-SV", "ESC-VT"]
