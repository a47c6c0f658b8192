"""Pure registry rules: migration lifecycle, MOU permit dates, consent, reference data."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from services.registry.consent.domain import (
    ConsentStatus,
    Decision,
    Method,
    Purpose,
    Scope,
    check_decision,
    effective_status,
    may_share_with,
)
from services.registry.migration_records.domain import (
    TRANSITIONS,
    Channel,
    InvalidTransition,
    MigrationStatus,
    MouPermit,
    check_requirements,
    check_transition,
)
from shared.problems import Conflict, InvalidFields
from shared.reference.disability import Answer, Domain, has_disability
from shared.reference.education import ISCED_2011, validate_isced_level

TODAY = date(2026, 11, 23)
S = MigrationStatus


@pytest.mark.parametrize(
    ("current", "requested"),
    [
        (S.PROSPECTIVE, S.READY),
        (S.READY, S.DEPARTED),
        (S.DEPARTED, S.ABROAD),
        (S.ABROAD, S.RETURNED),
        (S.DEPARTED, S.RETURNED),  # turned back at the border, or came home at once
        (S.PROSPECTIVE, S.CANCELLED),
        (S.READY, S.CANCELLED),
        (S.READY, S.PROSPECTIVE),  # a document expired before departure
    ],
)
def test_the_migration_lifecycle_allows(current: S, requested: S) -> None:
    check_transition(current, requested)


@pytest.mark.parametrize(
    ("current", "requested"),
    [
        (S.PROSPECTIVE, S.DEPARTED),  # never without being ready
        (S.PROSPECTIVE, S.ABROAD),
        (S.ABROAD, S.CANCELLED),  # someone abroad returns; they are not cancelled
        (S.RETURNED, S.DEPARTED),  # a new stay abroad is a new record
        (S.CANCELLED, S.READY),
        (S.ABROAD, S.ABROAD),
    ],
)
def test_the_migration_lifecycle_refuses_naming_the_current_state(current: S, requested: S) -> None:
    with pytest.raises(InvalidTransition) as refused:
        check_transition(current, requested)
    assert refused.value.status == 409
    assert refused.value.extensions["current_status"] == current
    assert refused.value.extensions["allowed"] == sorted(TRANSITIONS[current])


def test_a_return_missing_everything_names_every_field_at_once() -> None:
    with pytest.raises(InvalidFields) as refused:
        check_requirements(
            S.RETURNED,
            channel=Channel.MOU,
            agency_code=None,
            departed_on=TODAY + timedelta(days=3),
            returned_on=None,
            return_reason=None,
            today=TODAY,
        )
    assert {e["field"] for e in refused.value.extensions["errors"]} == {"on", "return_reason"}
    assert len(refused.value.extensions["errors"]) == 3  # no date, no reason, a future departure


def test_closed_records_allow_nothing() -> None:
    assert TRANSITIONS[S.RETURNED] == TRANSITIONS[S.CANCELLED] == frozenset()
    assert set(TRANSITIONS) == set(S)


def test_an_mou_permit_runs_two_years_and_workers_return_30_days_before_it_ends() -> None:
    permit = MouPermit(issued_on=date(2026, 3, 1))
    assert permit.expires_on == date(2028, 2, 29)  # 2028 is a leap year
    assert permit.return_due_on == date(2028, 1, 30)
    assert permit.reminder_on(timedelta(days=60)) == date(2027, 12, 1)


def test_an_extended_mou_permit_runs_four_years() -> None:
    permit = MouPermit(issued_on=date(2024, 2, 29), extended=True)
    assert permit.expires_on == date(2028, 2, 28)
    assert permit.return_due_on == date(2028, 1, 29)


C = ConsentStatus


def _decide(current: C | None, new: C, **overrides: object) -> None:
    arguments: dict[str, object] = {
        "purpose": Purpose.JOB_MATCHING,
        "scope": Scope(),
        "method": Method.SIGNED,
        "witness": None,
        "expires_on": None,
        "today": TODAY,
    }
    arguments.update(overrides)
    check_decision(current, new, **arguments)  # type: ignore[arg-type]


def test_consent_may_be_given_refused_withdrawn_and_given_again() -> None:
    _decide(None, C.GIVEN)
    _decide(C.GIVEN, C.WITHDRAWN)
    _decide(C.WITHDRAWN, C.GIVEN)
    _decide(None, C.REFUSED)
    _decide(C.REFUSED, C.GIVEN)
    _decide(C.EXPIRED, C.RENEWED)


def test_only_a_consent_in_force_can_be_withdrawn() -> None:
    for current in (None, C.REFUSED, C.WITHDRAWN, C.EXPIRED):
        with pytest.raises(Conflict):
            _decide(current, C.WITHDRAWN)


def test_expired_is_derived_not_recorded() -> None:
    with pytest.raises(InvalidFields) as refused:
        _decide(C.GIVEN, C.EXPIRED)
    assert refused.value.extensions["errors"][0]["field"] == "status"
    assert effective_status(C.GIVEN, TODAY - timedelta(days=1), TODAY) is C.EXPIRED
    assert effective_status(C.GIVEN, TODAY, TODAY) is C.GIVEN
    assert effective_status(C.WITHDRAWN, TODAY - timedelta(days=1), TODAY) is C.WITHDRAWN


@pytest.mark.parametrize("method", [Method.VERBAL, Method.THUMBPRINT])
def test_verbal_and_thumbprint_consent_need_a_witness(method: Method) -> None:
    with pytest.raises(InvalidFields) as refused:
        _decide(None, C.GIVEN, method=method, witness="  ")
    assert refused.value.extensions["errors"][0]["field"] == "witness_name"
    _decide(None, C.GIVEN, method=method, witness="Khamla, village chief")
    _decide(C.GIVEN, C.WITHDRAWN, method=method)  # withdrawing needs no witness


def test_sharing_consent_names_one_agency_or_one_known_category() -> None:
    sharing = {"purpose": Purpose.PARTNER_SHARING}
    _decide(None, C.GIVEN, scope=Scope(agency="IOM-LA"), **sharing)
    _decide(None, C.GIVEN, scope=Scope(category="un_agencies"), **sharing)
    for scope, field in [
        (Scope(), "scope"),
        (Scope(agency="IOM-LA", category="un_agencies"), "scope"),
        (Scope(category="everyone"), "scope.category"),
    ]:
        with pytest.raises(InvalidFields) as refused:
            _decide(None, C.GIVEN, scope=scope, **sharing)
        assert refused.value.extensions["errors"][0]["field"] == field
    with pytest.raises(InvalidFields):
        _decide(None, C.GIVEN, scope=Scope(agency="IOM-LA"))  # not a sharing purpose


def test_an_expiry_date_in_the_past_is_refused() -> None:
    with pytest.raises(InvalidFields) as refused:
        _decide(None, C.GIVEN, expires_on=TODAY - timedelta(days=1))
    assert refused.value.extensions["errors"][0]["field"] == "expires_on"


def test_every_rule_a_decision_breaks_is_named_at_once() -> None:
    with pytest.raises(InvalidFields) as refused:
        _decide(
            None,
            C.GIVEN,
            purpose=Purpose.PARTNER_SHARING,
            scope=Scope(category="everyone"),
            method=Method.VERBAL,
            expires_on=TODAY - timedelta(days=1),
        )
    fields = {e["field"] for e in refused.value.extensions["errors"]}
    assert fields == {"scope.category", "witness_name", "expires_on"}


def test_an_agency_decision_wins_over_its_category() -> None:
    share = Purpose.PARTNER_SHARING
    un = Decision(share, Scope(category="un_agencies"), C.GIVEN)
    assert may_share_with([un], "ILO-LA", ["un_agencies"], TODAY)
    refused_ilo = Decision(share, Scope(agency="ILO-LA"), C.REFUSED)
    assert not may_share_with([un, refused_ilo], "ILO-LA", ["un_agencies"], TODAY)
    assert may_share_with([un, refused_ilo], "IOM-LA", ["un_agencies"], TODAY)
    # Nothing said about an agency or its categories: nothing is shared.
    assert not may_share_with([un], "LWU", ["ngos"], TODAY)
    # A consent past its expiry shares nothing.
    old = Decision(share, Scope(category="un_agencies"), C.GIVEN, TODAY - timedelta(days=1))
    assert not may_share_with([old], "ILO-LA", ["un_agencies"], TODAY)
    # One refusing category is enough to refuse.
    ngos_refused = Decision(share, Scope(category="ngos"), C.WITHDRAWN)
    assert not may_share_with([un, ngos_refused], "X", ["un_agencies", "ngos"], TODAY)
    # Other purposes never count as sharing consent.
    matching = Decision(Purpose.JOB_MATCHING, Scope(), C.GIVEN)
    assert not may_share_with([matching], "ILO-LA", ["un_agencies"], TODAY)


def test_washington_group_cutoff() -> None:
    assert not has_disability({})
    assert not has_disability({d: Answer.SOME_DIFFICULTY for d in Domain})
    assert has_disability(
        {Domain.SEEING: Answer.NO_DIFFICULTY, Domain.WALKING: Answer.A_LOT_OF_DIFFICULTY}
    )
    assert has_disability({Domain.COMMUNICATION: Answer.CANNOT_DO_AT_ALL})
    assert len(Domain) == 6


def test_isced_levels() -> None:
    assert sorted(ISCED_2011) == list(range(9))
    assert validate_isced_level(3) == 3
    with pytest.raises(ValueError, match="ISCED"):
        validate_isced_level(9)
