"""Pure rules of the job bank: the vacancy lifecycle, the Employer Pays Principle, what a
vacancy must say by kind, and the status of an agency's licence as it stands today."""

from __future__ import annotations

from datetime import date, timedelta
from typing import TYPE_CHECKING

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.matching.agencies.domain import (
    EXPIRED,
    AgencyNotEligible,
    AgencyStatus,
    ComplaintStatus,
    InvalidComplaintTransition,
    LicenceExpired,
    check_complaint_change,
    check_licence,
    check_may_recruit,
    check_status_change,
    effective_status,
)
from services.matching.agencies.domain import InvalidTransition as AgencyTransition
from services.matching.vacancies.domain import (
    BY_REQUEST,
    PAUSED_REVOKED,
    TRANSITIONS,
    FieldFrozen,
    InvalidTransition,
    Kind,
    VacancyStatus,
    WorkerFeesNotAllowed,
    check_ages,
    check_closing,
    check_kind_fields,
    check_open_changes,
    check_transition,
    check_worker_fees,
    closing_errors,
    kind_field_errors,
    min_age_errors,
    min_age_for,
    new_reference,
    normalise_skills,
    pause_reason,
    refuse,
    resumable,
)
from services.matching.wording import a, count
from shared.problems import FieldError, InvalidField, InvalidFields
from shared.versioning import VersionMismatch, check_version, parse_if_match

if TYPE_CHECKING:
    from decimal import Decimal

TODAY = date(2026, 11, 23)
S = VacancyStatus


# -- lifecycle -------------------------------------------------------------------------------


def test_a_draft_is_published_or_closed_and_an_open_vacancy_ends_filled_closed_or_expired() -> None:
    assert TRANSITIONS[S.DRAFT] == {S.PUBLISHED, S.CLOSED}
    assert TRANSITIONS[S.PUBLISHED] == {S.PAUSED, S.FILLED, S.CLOSED, S.EXPIRED}
    assert TRANSITIONS[S.PAUSED] == {S.PUBLISHED, S.FILLED, S.CLOSED, S.EXPIRED}
    for final in (S.FILLED, S.CLOSED, S.EXPIRED):
        assert TRANSITIONS[final] == frozenset()


@given(st.sampled_from(list(S)), st.sampled_from(list(S)))
def test_what_a_person_may_ask_for_is_always_a_change_the_lifecycle_allows(
    current: VacancyStatus, requested: VacancyStatus
) -> None:
    if requested in BY_REQUEST[current]:
        assert requested in TRANSITIONS[current]
        check_transition(current, requested)
    else:
        with pytest.raises(InvalidTransition) as refused:
            check_transition(current, requested)
        assert refused.value.status == 409
        assert refused.value.extensions["current_status"] == current
        assert refused.value.extensions["allowed"] == sorted(BY_REQUEST[current])


def test_pausing_and_resuming_are_never_asked_for_only_follow_the_agency() -> None:
    for current in S:
        assert S.PAUSED not in BY_REQUEST[current]
    with pytest.raises(InvalidTransition):
        check_transition(S.PAUSED, S.PUBLISHED)
    check_transition(S.PAUSED, S.PUBLISHED, by_request=False)
    check_transition(S.PUBLISHED, S.PAUSED, by_request=False)


def test_expiry_is_the_calendars_not_a_persons() -> None:
    with pytest.raises(InvalidTransition):
        check_transition(S.PUBLISHED, S.EXPIRED)
    check_transition(S.PUBLISHED, S.EXPIRED, by_request=False)
    with pytest.raises(InvalidTransition):
        check_transition(S.DRAFT, S.EXPIRED, by_request=False)


# -- the Employer Pays Principle -------------------------------------------------------------


def _fee(item: str, amount: str, currency: str = "THB") -> dict[str, str]:
    return {"item": item, "amount": amount, "currency": currency}


def test_a_statement_of_fees_that_charges_the_worker_nothing_passes() -> None:
    assert check_worker_fees([]) == 0
    assert check_worker_fees([_fee("visa", "0"), _fee("medical_check", "0.00")]) == 0


def test_any_fee_charged_to_the_worker_is_refused_naming_the_field_and_the_rule() -> None:
    with pytest.raises(WorkerFeesNotAllowed) as refused:
        check_worker_fees([_fee("visa", "0"), _fee("placement fee", "1500")])
    problem = refused.value
    assert (problem.status, problem.slug) == (422, "worker-fees-not-allowed")
    assert problem.extensions["field"] == "worker_fees"
    assert "Employer Pays" in problem.extensions["rule"]
    assert problem.extensions["errors"][0]["field"] == "worker_fees"
    assert "placement fee" in problem.detail


@given(st.lists(st.decimals(min_value=0, max_value=10_000, places=2), min_size=1, max_size=6))
def test_fees_are_refused_exactly_when_they_add_up_to_more_than_nothing(
    amounts: list[Decimal],
) -> None:
    fees = [_fee(f"item{i}", str(a)) for i, a in enumerate(amounts)]
    if sum(amounts) == 0:
        assert check_worker_fees(fees) == 0
    else:
        with pytest.raises(WorkerFeesNotAllowed):
            check_worker_fees(fees)


# -- terms -----------------------------------------------------------------------------------

DOMESTIC = {"employer_id": "e", "district": "Sisattanak"}
OVERSEAS = {
    "agency_id": "a",
    "destination_country": "TH",
    "foreign_employer": "Siam Foods Co.",
    "demand_letter_ref": "DL-1",
    "channel": "mou",
}


def _fields(errors: list[FieldError]) -> list[str]:
    return [e.field for e in errors]


def test_each_kind_of_vacancy_names_what_it_needs() -> None:
    assert kind_field_errors(Kind.DOMESTIC, DOMESTIC) == []
    assert kind_field_errors(Kind.OVERSEAS, OVERSEAS) == []
    check_kind_fields(Kind.OVERSEAS, OVERSEAS)
    for field in OVERSEAS:
        assert _fields(kind_field_errors(Kind.OVERSEAS, {**OVERSEAS, field: None})) == [field]
    with pytest.raises(InvalidFields, match="employer_id"):
        check_kind_fields(Kind.DOMESTIC, {"district": "Sisattanak"})


def test_every_missing_field_of_a_kind_is_named_at_once() -> None:
    missing = kind_field_errors(Kind.OVERSEAS, {"employer_id": "e"})
    assert _fields(missing) == [*OVERSEAS, "employer_id"]
    assert all(e.code == "missing" for e in missing[:-1])


def test_a_domestic_vacancy_cannot_carry_a_destination_and_an_overseas_one_no_employer() -> None:
    [wrong] = kind_field_errors(Kind.DOMESTIC, {**DOMESTIC, "destination_country": "TH"})
    assert (wrong.field, wrong.message) == (
        "destination_country",
        "does not apply to a domestic vacancy",
    )
    [wrong] = kind_field_errors(Kind.OVERSEAS, {**OVERSEAS, "employer_id": "e"})
    assert (wrong.field, wrong.message) == ("employer_id", "does not apply to an overseas vacancy")


def test_messages_take_the_article_their_word_needs() -> None:
    missing = kind_field_errors(Kind.OVERSEAS, {**OVERSEAS, "channel": None})
    assert missing[0].message == "is required for an overseas vacancy"
    assert a("overseas") == "an overseas"
    assert a("domestic") == "a domestic"
    assert a("expired") == "an expired"
    assert a("filled") == "a filled"
    assert count(1, "open position") == "1 open position"
    assert count(0, "open position") == "0 open positions"
    with pytest.raises(FieldFrozen, match=r"^an expired vacancy cannot be changed"):
        check_open_changes(S.EXPIRED, {"description": "x"}, positions=5)


def test_minimum_ages_default_to_15_at_home_and_18_abroad_and_abroad_never_below_18() -> None:
    assert min_age_for(Kind.DOMESTIC, None) == 15
    assert min_age_for(Kind.OVERSEAS, None) == 18
    assert min_age_for(Kind.OVERSEAS, 21) == 21
    with pytest.raises(InvalidFields, match="min_age"):
        min_age_for(Kind.OVERSEAS, 17)
    with pytest.raises(InvalidFields, match="min_age"):
        min_age_for(Kind.DOMESTIC, 14)
    with pytest.raises(InvalidFields, match="max_age"):
        check_ages(30, 25)
    check_ages(18, None)
    # A maximum below the default minimum names the field sent, and the age it is below.
    [low] = min_age_errors(Kind.OVERSEAS, None, 16)
    assert (low.field, low.message) == ("max_age", "must not be below the minimum age (18)")
    assert _fields(min_age_errors(Kind.OVERSEAS, 17, 16)) == ["min_age", "max_age"]


def test_a_closing_date_in_the_past_is_refused_and_today_is_still_open() -> None:
    check_closing(TODAY, TODAY)
    check_closing(None, TODAY)
    assert closing_errors(TODAY, TODAY) == []
    with pytest.raises(InvalidFields, match="closes_on"):
        check_closing(TODAY - timedelta(days=1), TODAY)


def test_a_request_is_refused_once_with_every_bad_field() -> None:
    errors = [FieldError("district", "is required"), FieldError("min_age", "too low")]
    with pytest.raises(InvalidFields) as refused:
        refuse(errors)
    assert [e["field"] for e in refused.value.extensions["errors"]] == ["district", "min_age"]
    assert refuse([], [_fee("visa", "0")]) == 0
    # Fees charged to the worker: the Employer Pays problem, the other fields listed after.
    with pytest.raises(WorkerFeesNotAllowed) as charged:
        refuse(errors, [_fee("placement fee", "1500")])
    fields = [e["field"] for e in charged.value.extensions["errors"]]
    assert fields == ["worker_fees", "district", "min_age"]


def test_skills_are_lower_case_trimmed_and_listed_once() -> None:
    assert normalise_skills([" Welding ", "welding", "Forklift  Driving", "", "THAI"]) == [
        "welding",
        "forklift driving",
        "thai",
    ]


def test_once_published_only_description_closing_date_and_more_positions_may_change() -> None:
    check_open_changes(S.DRAFT, {"title": "x", "positions": 1}, positions=5)
    check_open_changes(S.PUBLISHED, {"description": "x", "closes_on": TODAY}, positions=5)
    check_open_changes(S.PAUSED, {"positions": 7}, positions=5)
    with pytest.raises(FieldFrozen) as frozen:
        check_open_changes(S.PUBLISHED, {"wage_amount": 1}, positions=5)
    assert frozen.value.extensions["field"] == "wage_amount"
    with pytest.raises(FieldFrozen) as both:
        check_open_changes(S.PUBLISHED, {"wage_amount": 1, "title": "x"}, positions=5)
    assert both.value.extensions["fields"] == ["title", "wage_amount"]
    assert _fields(check_open_changes(S.PUBLISHED, {"positions": 4}, positions=5)) == ["positions"]
    with pytest.raises(FieldFrozen):
        check_open_changes(S.FILLED, {"description": "x"}, positions=5)


def test_a_vacancy_reference_is_short_and_readable_over_the_phone() -> None:
    reference = new_reference()
    assert reference.startswith("V-")
    assert len(reference) == 10
    assert not set(reference[2:]) & set("01IO")


# -- pauses that follow the agency -----------------------------------------------------------


def test_suspension_and_expiry_pauses_resume_but_a_revocation_never_does() -> None:
    suspended = pause_reason("suspended", "complaints of fees charged")
    expired = pause_reason("expired", "last valid day 2026-11-01")
    assert suspended == "agency suspended: complaints of fees charged"
    assert resumable(suspended, TODAY, TODAY)
    assert resumable(expired, None, TODAY)
    assert not resumable(pause_reason("revoked", "fraud"), None, TODAY)
    assert pause_reason("revoked", None) == PAUSED_REVOKED
    assert not resumable(suspended, TODAY - timedelta(days=1), TODAY)
    assert not resumable(None, None, TODAY)


# -- agencies --------------------------------------------------------------------------------


def test_an_active_agency_is_expired_from_the_day_after_its_licence_ends() -> None:
    assert effective_status("active", TODAY, TODAY) == "active"
    assert effective_status("active", TODAY - timedelta(days=1), TODAY) == EXPIRED
    # A decision stands whatever the date: a suspended agency stays suspended.
    assert effective_status("suspended", TODAY - timedelta(days=9), TODAY) == "suspended"
    assert effective_status("revoked", TODAY + timedelta(days=9), TODAY) == "revoked"


def _change(
    current: AgencyStatus,
    requested: AgencyStatus,
    *,
    reason: str | None = "complaints upheld",
    expires: date = TODAY + timedelta(days=100),
    effective_on: date = TODAY,
) -> None:
    check_status_change(
        current,
        requested,
        reason=reason,
        licence_expires_on=expires,
        effective_on=effective_on,
        today=TODAY,
    )


def test_agency_decisions_follow_the_licence_lifecycle_and_revocation_is_final() -> None:
    A = AgencyStatus
    _change(A.ACTIVE, A.SUSPENDED)
    _change(A.ACTIVE, A.REVOKED)
    _change(A.SUSPENDED, A.ACTIVE, reason=None)
    _change(A.SUSPENDED, A.REVOKED)
    for requested in A:
        with pytest.raises(AgencyTransition) as refused:
            _change(A.REVOKED, requested)
        assert refused.value.extensions["current_status"] == "revoked"
        assert refused.value.extensions["allowed"] == []
    with pytest.raises(AgencyTransition):
        _change(A.ACTIVE, A.ACTIVE)


def test_suspending_or_revoking_needs_a_reason() -> None:
    for requested in (AgencyStatus.SUSPENDED, AgencyStatus.REVOKED):
        with pytest.raises(InvalidFields, match="reason"):
            _change(AgencyStatus.ACTIVE, requested, reason="  ")


def test_an_agency_whose_licence_expired_is_not_reinstated_before_renewal() -> None:
    with pytest.raises(LicenceExpired) as refused:
        _change(AgencyStatus.SUSPENDED, AgencyStatus.ACTIVE, expires=TODAY - timedelta(days=1))
    assert refused.value.status == 409
    with pytest.raises(InvalidFields, match="effective_on"):
        _change(AgencyStatus.ACTIVE, AgencyStatus.SUSPENDED, effective_on=TODAY + timedelta(1))


def test_a_decision_missing_its_reason_and_dated_ahead_names_both() -> None:
    with pytest.raises(InvalidFields) as refused:
        _change(
            AgencyStatus.ACTIVE,
            AgencyStatus.REVOKED,
            reason=None,
            effective_on=TODAY + timedelta(1),
        )
    assert [e["field"] for e in refused.value.extensions["errors"]] == ["reason", "effective_on"]


def test_a_licence_runs_after_its_issue_and_is_still_valid_when_recorded() -> None:
    check_licence(TODAY - timedelta(days=30), TODAY, TODAY)
    with pytest.raises(InvalidFields, match="licence_expires_on"):
        check_licence(TODAY, TODAY, TODAY)
    with pytest.raises(InvalidFields, match="licence_expires_on"):
        check_licence(TODAY - timedelta(days=400), TODAY - timedelta(days=1), TODAY)
    with pytest.raises(InvalidFields) as both:
        check_licence(TODAY + timedelta(days=5), TODAY + timedelta(days=1), TODAY)
    assert [e["field"] for e in both.value.extensions["errors"]] == [
        "licence_expires_on",
        "licence_issued_on",
    ]


def _may_recruit(status: str = "active", expires: date = TODAY, country: str = "TH") -> None:
    check_may_recruit(
        code="AG-1",
        status=status,
        licence_expires_on=expires,
        destinations=["TH", "KR"],
        destination_country=country,
        today=TODAY,
    )


def test_an_overseas_vacancy_needs_an_active_agency_licensed_for_its_destination() -> None:
    _may_recruit()
    cases = [
        ({"status": "suspended"}, "agency_active", "agency_id"),
        ({"expires": TODAY - timedelta(days=1)}, "licence_valid", "agency_id"),
        ({"country": "JP"}, "licensed_destination", "destination_country"),
    ]
    for arguments, rule, field in cases:
        with pytest.raises(AgencyNotEligible) as refused:
            _may_recruit(**arguments)  # type: ignore[arg-type]
        assert refused.value.status == 409
        assert refused.value.extensions["rule"] == rule
        assert refused.value.extensions["field"] == field


def test_complaints_are_investigated_then_upheld_or_dismissed_with_an_outcome() -> None:
    C = ComplaintStatus
    check_complaint_change(C.OPEN, C.INVESTIGATING, None)
    check_complaint_change(C.INVESTIGATING, C.UPHELD, "fees refunded to 12 workers")
    with pytest.raises(InvalidField, match="outcome"):
        check_complaint_change(C.INVESTIGATING, C.DISMISSED, None)
    with pytest.raises(InvalidComplaintTransition):
        check_complaint_change(C.UPHELD, C.OPEN, None)


def test_if_match_names_a_version_and_a_stale_one_is_refused() -> None:
    assert parse_if_match('"3"') == 3
    assert parse_if_match('W/"3"') == 3
    assert parse_if_match(None) is None
    with pytest.raises(InvalidField, match="If-Match"):
        parse_if_match("yesterday")
    check_version(3, None)
    check_version(3, 3)
    with pytest.raises(VersionMismatch) as stale:
        check_version(4, 3)
    assert stale.value.status == 412
