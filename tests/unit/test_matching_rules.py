"""Pure rules of matching: the search plan's bounds, referral lifecycle, placement prerequisites."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.matching.ranking import keys
from services.matching.ranking.domain import (
    ANY_COUNTRY,
    DESIRED_UNIT,
    ELSEWHERE,
    EXPERIENCED_UNIT,
    LIVES_THERE,
    NAMED_COUNTRY,
    OTHER_COUNTRY,
    SHARED_LEVEL,
    WOULD_MOVE_THERE,
    Cell,
    Criterion,
    enough,
    only_ties_left,
    passport_needed_until,
    search_plan,
    total,
    weights_for,
)
from services.matching.referrals.domain import (
    InvalidTransition,
    OverseasPlacement,
    ReferralStatus,
    check_transition,
    overseas_prerequisites,
)

TODAY = date(2026, 11, 23)


@pytest.mark.parametrize("overseas", [False, True])
def test_weights_sum_to_one_and_never_name_protected_characteristics(overseas: bool) -> None:
    weights = weights_for(overseas)
    assert sum(weights.values()) == pytest.approx(1.0)
    assert {c.value for c in weights} <= {c.value for c in Criterion}
    assert not {"sex", "ethnicity", "religion", "disability"} & {c.value for c in Criterion}


def test_the_search_plan_ends_with_a_full_scan_and_its_bounds_only_fall() -> None:
    for plan in (
        search_plan(),
        search_plan(domestic=False, overseas=True),
        search_plan(overseas=True),
    ):
        bounds = [cell.bound for cell in plan]
        assert bounds == sorted(bounds, reverse=True)
        assert plan[0].bound == 100.0
        assert (plan[-1].level, plan[-1].nearby) == (0, False)
        assert len({(c.level, c.nearby) for c in plan}) == 10


_values = st.floats(min_value=0, max_value=1)


@given(
    level=st.sampled_from([4, 3, 2, 1, 0]),
    experienced=st.booleans(),
    location=st.sampled_from([LIVES_THERE, WOULD_MOVE_THERE, ELSEWHERE]),
    rest=st.tuples(_values, _values, _values, _values),
)
def test_no_domestic_candidate_scores_above_the_bound_of_its_cell(
    level: int, experienced: bool, location: float, rest: tuple[float, float, float, float]
) -> None:
    """The search stops early only because this holds: a cell's bound caps everyone in it."""
    occupation = (
        (EXPERIENCED_UNIT if experienced else DESIRED_UNIT) if level == 4 else SHARED_LEVEL[level]
    )
    values = dict(
        zip(
            [Criterion.SKILLS, Criterion.EDUCATION, Criterion.EXPERIENCE, Criterion.LANGUAGES],
            rest,
            strict=True,
        )
    )
    values |= {Criterion.OCCUPATION: occupation, Criterion.LOCATION: location}
    nearby = location != ELSEWHERE
    [cell] = [c for c in search_plan() if (c.level, c.nearby) == (level, nearby)]
    assert total(values, weights_for(False)) <= cell.bound + 1e-9


@given(
    level=st.sampled_from([4, 3, 2, 1, 0]),
    location=st.sampled_from([NAMED_COUNTRY, ANY_COUNTRY, OTHER_COUNTRY]),
    rest=st.tuples(_values, _values, _values, _values, _values),
)
def test_no_overseas_candidate_scores_above_the_bound_of_its_cell(
    level: int, location: float, rest: tuple[float, ...]
) -> None:
    occupation = EXPERIENCED_UNIT if level == 4 else SHARED_LEVEL[level]
    others = [
        Criterion.SKILLS,
        Criterion.EDUCATION,
        Criterion.EXPERIENCE,
        Criterion.LANGUAGES,
        Criterion.READINESS,
    ]
    values = dict(zip(others, rest, strict=True))
    values |= {Criterion.OCCUPATION: occupation, Criterion.LOCATION: location}
    nearby = location != OTHER_COUNTRY
    plan = search_plan(domestic=False, overseas=True)
    [cell] = [c for c in plan if (c.level, c.nearby) == (level, nearby)]
    assert total(values, weights_for(True)) <= cell.bound + 1e-9


@given(
    level=st.sampled_from([4, 3, 2, 1, 0]),
    location=st.sampled_from([NAMED_COUNTRY, ANY_COUNTRY, OTHER_COUNTRY]),
    oriented=st.booleans(),
    passport=st.booleans(),
    asked=st.integers(min_value=1, max_value=3),
    spoken=st.integers(min_value=0, max_value=3),
    rest=st.tuples(_values, _values, _values),
)
def test_splitting_by_orientation_and_language_keeps_every_candidate_under_its_bound(
    level: int,
    location: float,
    oriented: bool,
    passport: bool,
    asked: int,
    spoken: int,
    rest: tuple[float, ...],
) -> None:
    """Without an orientation a row loses its half of readiness; without one of the job's
    languages at least that language's share: the lower bounds of the split cells hold."""
    spoken = min(spoken, asked)
    languages = ["ko", "ja", "en"][:asked]
    values = dict(
        zip([Criterion.SKILLS, Criterion.EDUCATION, Criterion.EXPERIENCE], rest, strict=True)
    )
    values |= {
        Criterion.OCCUPATION: EXPERIENCED_UNIT if level == 4 else SHARED_LEVEL[level],
        Criterion.LOCATION: location,
        Criterion.READINESS: 0.5 * oriented + 0.5 * passport,
        Criterion.LANGUAGES: spoken / asked,
    }
    plan = search_plan(domestic=False, overseas=True, readiness=True, languages=languages)
    [cell] = [
        c
        for c in plan
        if (c.level, c.nearby, c.oriented, c.speaking)
        == (level, location != OTHER_COUNTRY, oriented, spoken == asked)
    ]
    assert total(values, weights_for(True)) <= cell.bound + 1e-9
    assert len(plan) == 40
    assert plan[-1] == Cell(0, False, plan[-1].bound)


def test_no_language_split_when_the_job_asks_for_lao() -> None:
    """Everyone speaks Lao: a cell of its speakers would be the whole cell again."""
    assert len(search_plan(languages=["lo", "th"])) == 10
    assert len(search_plan(languages=["th"])) == 20
    assert len(search_plan(domestic=False, overseas=True, readiness=True)) == 20


def test_the_search_stops_only_with_enough_rows_above_the_next_bound() -> None:
    assert enough([90.0, 80.1], 2, 80.0)
    assert not enough([90.0, 80.0], 2, 80.0)  # a row further down could tie and sort first
    assert not enough([90.0, 79.9], 2, 80.0)
    assert not enough([99.0], 2, 10.0)
    assert enough([5.0], 20, None)  # nothing further: what was found is all there is


def test_only_ties_are_left_when_the_last_of_the_top_equals_the_next_bound() -> None:
    assert only_ties_left([90.0, 80.0], 2, 80.0)
    assert not only_ties_left([90.0, 79.9], 2, 80.0)
    assert not only_ties_left([80.0], 2, 80.0)  # not enough rows yet: everything counts
    assert not only_ties_left([80.0, 80.0], 2, None)


def test_candidate_keys_cover_every_isco_level_and_place() -> None:
    found = keys.candidate_keys(
        experience=["7112"],
        desired=["9313"],
        province_code="LA-SV",
        preferred_provinces=["LA-VT"],
        willing_abroad=True,
        abroad_countries=[],
    )
    assert {"o1:7", "o2:71", "o3:711", "o4:7112", "e4:7112", "o4:9313"} <= set(found)
    assert "e4:9313" not in found  # wished for, not worked in
    assert {"p:LA-SV", "p:LA-VT", "w:abroad", "a:*"} <= set(found)
    overseas = keys.vacancy_keys(isco08="7112", province_code="LA-SV", destination_country="TH")
    assert {"d:TH", "d:*", "o4:7112"} <= set(overseas)
    assert "p:LA-SV" not in overseas


def test_a_referral_moves_only_along_its_lifecycle() -> None:
    check_transition(ReferralStatus.REFERRED, ReferralStatus.INTERVIEWED)
    check_transition(ReferralStatus.OFFERED, ReferralStatus.PLACED)
    with pytest.raises(InvalidTransition) as caught:
        check_transition(ReferralStatus.REFERRED, ReferralStatus.PLACED)
    assert caught.value.extensions["allowed"] == [
        "interviewed",
        "no_show",
        "offered",
        "rejected",
        "withdrawn",
    ]
    for closed in ("placed", "rejected", "withdrawn", "no_show"):
        with pytest.raises(InvalidTransition):
            check_transition(ReferralStatus(closed), ReferralStatus.REFERRED)


def _overseas(**changes: object) -> OverseasPlacement:
    fields: dict[str, object] = {
        "agency_code": "AG-1",
        "agency_status": "active",
        "agency_destinations": frozenset({"TH"}),
        "destination_country": "TH",
        "orientation_valid_until": date(2027, 1, 1),
        "passport_expires_on": date(2030, 1, 1),
        "passport_needed_until": passport_needed_until(None, TODAY),
        "migration_status": "prospective",
        "migration_destination": "TH",
    }
    return OverseasPlacement(**(fields | changes))  # type: ignore[arg-type]


def test_an_overseas_placement_needs_an_active_licence_and_valid_orientation() -> None:
    assert overseas_prerequisites(_overseas(), TODAY) == []
    codes = [m["code"] for m in overseas_prerequisites(_overseas(agency_status="suspended"), TODAY)]
    assert codes == ["agency_licence"]
    codes = [
        m["code"]
        for m in overseas_prerequisites(_overseas(agency_destinations=frozenset({"KR"})), TODAY)
    ]
    assert codes == ["agency_licence"]
    missing = overseas_prerequisites(_overseas(orientation_valid_until=None), TODAY)
    assert [m["code"] for m in missing] == ["predeparture_orientation"]
    expired = overseas_prerequisites(_overseas(orientation_valid_until=date(2026, 1, 1)), TODAY)
    assert "expired" in expired[0]["detail"]


def test_an_overseas_placement_needs_a_passport_valid_six_months_past_the_start() -> None:
    start = date(2027, 3, 1)
    needed = passport_needed_until(start, TODAY)
    assert needed == date(2027, 8, 31)  # 183 days, as ranking scores readiness
    assert passport_needed_until(None, TODAY) == passport_needed_until(date(2020, 1, 1), TODAY)
    enough = _overseas(passport_expires_on=needed, passport_needed_until=needed)
    assert overseas_prerequisites(enough, TODAY) == []
    short = _overseas(passport_expires_on=date(2027, 8, 30), passport_needed_until=needed)
    [missing] = overseas_prerequisites(short, TODAY)
    assert missing["code"] == "passport"
    assert "2027-08-30" in missing["detail"]
    assert "2027-08-31" in missing["detail"]
    [none] = overseas_prerequisites(_overseas(passport_expires_on=None), TODAY)
    assert (none["code"], none["detail"].startswith("no passport")) == ("passport", True)


def test_an_overseas_placement_needs_a_migration_record_open_for_the_destination() -> None:
    assert overseas_prerequisites(_overseas(migration_status="ready"), TODAY) == []
    for status, destination in [
        (None, None),
        ("cancelled", "TH"),
        ("returned", "TH"),
        ("prospective", "KR"),
    ]:
        placement = _overseas(migration_status=status, migration_destination=destination)
        [missing] = overseas_prerequisites(placement, TODAY)
        assert missing["code"] == "migration_record", (status, destination)
        assert "for TH" in missing["detail"]


def test_everything_missing_for_an_overseas_placement_is_named_at_once() -> None:
    nothing = _overseas(
        agency_status="suspended",
        orientation_valid_until=None,
        passport_expires_on=None,
        migration_status=None,
        migration_destination=None,
    )
    codes = [m["code"] for m in overseas_prerequisites(nothing, TODAY)]
    assert codes == ["agency_licence", "predeparture_orientation", "passport", "migration_record"]
