"""Pure rules of overseas recruitment: who a name list submission selects, the quota of a demand
letter, and the cost ledger under the ILO Employer Pays Principle."""

from __future__ import annotations

import uuid
from datetime import date, timedelta
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.matching.recruitment.domain import (
    NameListRowsRefused,
    NotOverseas,
    NotRecruiting,
    PaidBy,
    QuotaExceeded,
    check_overseas,
    check_quota,
    check_recruiting,
    cost_errors,
    flag_rule,
    flagged,
    ledger_totals,
    plan_submission,
)

TODAY = date(2026, 12, 1)


def people(n: int) -> list[uuid.UUID]:
    return [uuid.uuid4() for _ in range(n)]


# -- the name list ---------------------------------------------------------------------------


def test_referred_people_are_added_with_their_referral_and_selected_ones_left_as_they_are() -> None:
    a, b, c = people(3)
    referral_a, referral_b = uuid.uuid4(), uuid.uuid4()
    plan = plan_submission([a, b, c], selected={c}, open_referrals={a: referral_a, b: referral_b})
    assert plan.added == [(a, referral_a), (b, referral_b)]
    assert plan.unchanged == [c]


def test_a_selected_person_needs_no_open_referral_to_be_sent_again() -> None:
    [a] = people(1)
    plan = plan_submission([a], selected={a}, open_referrals={})
    assert (plan.added, plan.unchanged) == ([], [a])


def test_every_bad_row_is_named_at_once() -> None:
    a, b, c = people(3)
    with pytest.raises(NameListRowsRefused) as refused:
        plan_submission([a, b, a, c], selected=set(), open_referrals={a: uuid.uuid4()})
    problem = refused.value
    assert (problem.status, problem.slug) == (422, "name-list-rows-refused")
    assert [(e["field"], e["code"]) for e in problem.extensions["errors"]] == [
        ("entries.1.person_id", "no_open_referral"),
        ("entries.2.person_id", "duplicate"),
        ("entries.3.person_id", "no_open_referral"),
    ]
    assert "repeats entries.0" in problem.extensions["errors"][1]["message"]
    assert str(b) in problem.detail


def test_the_quota_may_be_filled_exactly_and_never_passed() -> None:
    assert check_quota(3, 1, 2) == 0
    assert check_quota(3, 0, 0) == 3
    with pytest.raises(QuotaExceeded) as over:
        check_quota(3, 2, 2)
    problem = over.value
    assert (problem.status, problem.slug) == (409, "name-list-quota-exceeded")
    assert {k: problem.extensions[k] for k in ("quota", "selected", "remaining", "requested")} == {
        "quota": 3,
        "selected": 2,
        "remaining": 1,
        "requested": 2,
    }
    assert "positions" in problem.extensions["rule"]


@given(
    quota=st.integers(min_value=1, max_value=500),
    selected=st.integers(min_value=0, max_value=500),
    requested=st.integers(min_value=0, max_value=500),
)
def test_a_submission_passes_exactly_when_the_selected_stay_within_the_quota(
    quota: int, selected: int, requested: int
) -> None:
    if selected + requested <= quota:
        assert check_quota(quota, selected, requested) == quota - selected - requested
    else:
        with pytest.raises(QuotaExceeded) as over:
            check_quota(quota, selected, requested)
        assert over.value.extensions["remaining"] == max(quota - selected, 0)


def test_only_a_demand_letter_has_a_name_list() -> None:
    check_overseas("overseas")
    with pytest.raises(NotOverseas) as domestic:
        check_overseas("domestic")
    assert (domestic.value.status, domestic.value.extensions["kind"]) == (409, "domestic")


def test_names_are_taken_for_a_published_demand_letter_of_an_agency_that_may_recruit() -> None:
    check_recruiting("published", "active", "AG-1")
    for status in ("draft", "paused", "filled", "closed", "expired"):
        with pytest.raises(NotRecruiting) as refused:
            check_recruiting(status, "active", "AG-1")
        assert refused.value.extensions["current_status"] == status
    for agency_status in ("suspended", "revoked", "expired"):
        with pytest.raises(NotRecruiting) as refused:
            check_recruiting("published", agency_status, "AG-1")
        assert refused.value.extensions["agency_status"] == agency_status
        assert "AG-1" in refused.value.detail


# -- the cost ledger -------------------------------------------------------------------------


def test_only_a_cost_the_worker_paid_is_flagged_under_the_employer_pays_principle() -> None:
    assert flagged(PaidBy.WORKER, Decimal("0.01"))
    assert flag_rule(PaidBy.WORKER, Decimal("1500")) == "ILO Employer Pays Principle"
    for payer in (PaidBy.EMPLOYER, PaidBy.AGENCY):
        assert not flagged(payer, Decimal("1500"))
        assert flag_rule(payer, Decimal("1500")) is None


def test_a_cost_is_paid_today_or_before_and_a_worker_paid_one_is_more_than_nothing() -> None:
    assert cost_errors(PaidBy.EMPLOYER, Decimal(0), TODAY, TODAY) == []
    assert cost_errors(PaidBy.WORKER, Decimal(5), None, TODAY) == []
    future = cost_errors(PaidBy.EMPLOYER, Decimal(5), TODAY + timedelta(days=1), TODAY)
    assert [e.field for e in future] == ["paid_on"]
    nothing = cost_errors(PaidBy.WORKER, Decimal(0), TODAY, TODAY)
    assert [e.field for e in nothing] == ["amount"]


def test_every_wrong_thing_about_a_cost_is_named_at_once() -> None:
    both = cost_errors(PaidBy.WORKER, Decimal(0), TODAY + timedelta(days=1), TODAY)
    assert [e.field for e in both] == ["paid_on", "amount"]


def test_a_domestic_vacancy_is_named_with_its_article() -> None:
    assert "a domestic vacancy has no name list" in str(NotOverseas("domestic"))


def test_totals_are_kept_per_payer_and_currency_and_never_across_currencies() -> None:
    totals = ledger_totals(
        [
            ("worker", "THB", Decimal("3000.00")),
            ("employer", "THB", Decimal("2000.00")),
            ("agency", "LAK", Decimal("450000.00")),
            ("employer", "THB", Decimal("1500.50")),
            ("worker", "LAK", Decimal("100000.00")),
        ]
    )
    assert [(t.paid_by, t.currency, t.amount, t.entries) for t in totals.by_payer] == [
        ("employer", "THB", Decimal("3500.50"), 2),
        ("agency", "LAK", Decimal("450000.00"), 1),
        ("worker", "LAK", Decimal("100000.00"), 1),
        ("worker", "THB", Decimal("3000.00"), 1),
    ]
    assert [(t.currency, t.amount, t.entries) for t in totals.by_currency] == [
        ("LAK", Decimal("550000.00"), 2),
        ("THB", Decimal("6500.50"), 3),
    ]
    assert totals.flagged == 2


def test_an_empty_ledger_has_no_totals() -> None:
    totals = ledger_totals([])
    assert (totals.by_payer, totals.by_currency, totals.flagged) == ([], [], 0)


_lines = st.lists(
    st.tuples(
        st.sampled_from([p.value for p in PaidBy]),
        st.sampled_from(["THB", "LAK", "KRW"]),
        st.decimals(min_value=0, max_value=10**9, places=2, allow_nan=False),
    ),
    max_size=40,
)


@given(_lines)
def test_the_totals_per_payer_add_up_to_the_totals_per_currency(
    lines: list[tuple[str, str, Decimal]],
) -> None:
    totals = ledger_totals(lines)
    for currency_total in totals.by_currency:
        parts = [t for t in totals.by_payer if t.currency == currency_total.currency]
        assert sum((t.amount for t in parts), Decimal(0)) == currency_total.amount
        assert sum(t.entries for t in parts) == currency_total.entries
    assert sum(t.entries for t in totals.by_currency) == len(lines)
    assert totals.flagged == sum(1 for p, _, a in lines if p == "worker" and a > 0)
