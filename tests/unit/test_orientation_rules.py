"""When pre-departure orientation is complete, and for where: the completion rule with
destination modules, the window and excused absences; which curriculum version applies; and the
codes that let anyone check a certificate."""

from __future__ import annotations

import uuid
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from services.predeparture.completions.domain import (
    CODE_ALPHABET,
    CODE_LENGTH,
    Attended,
    CurriculumRule,
    Met,
    ModuleRule,
    Shortfall,
    Unmet,
    add_months,
    best,
    certificate_state,
    destinations_to_check,
    display_code,
    evaluate,
    normalise_code,
    valid_until,
    verification_code,
    verification_hash,
)
from services.predeparture.curricula.defaults import (
    DEFAULT_CURRICULUM_ID,
    curriculum_row,
    module_rows,
)

TODAY = date(2026, 12, 1)
GENERAL = ("RIGHTS", "SAFE-MIG", "OSH", "MONEY", "SOC-SEC", "GENDER", "HELP", "HEALTH")


def shipped() -> CurriculumRule:
    """The default curriculum as migration 0002 inserts it."""
    row = curriculum_row()
    return CurriculumRule(
        id=DEFAULT_CURRICULUM_ID,
        code=row["code"],
        version=row["version"],
        window_months=row["completion_window_months"],
        validity_months=row["validity_months"],
        modules=tuple(
            ModuleRule(m["code"], m["mandatory"], frozenset(m["destinations"]))
            for m in module_rows()
        ),
    )


PDO = shipped()


def attended(*codes: str, on: date = date(2026, 11, 2), status: str = "present") -> list[Attended]:
    return [Attended(code, status, on, "PDO") for code in codes]


def test_the_default_curriculum_has_eight_general_modules_and_one_per_destination() -> None:
    assert PDO.window_months == 6
    assert PDO.validity_months == 12
    for country in ("TH", "KR", "JP", "MY"):
        assert PDO.required(country) == (*GENERAL, f"DEST-{country}")
        assert PDO.covers(country)
    topics = " ".join(m["title_en"].lower() for m in module_rows())
    for topic in (
        "rights",
        "contract",
        "safe migration",
        "trafficking",
        "law and culture",
        "safety and health",
        "remittances",
        "social security",
        "gender equality",
        "sexual harassment",
        "complaint",
        "help lines",
        "health",
    ):
        assert topic in topics


def test_every_general_module_and_the_destination_module_complete_orientation() -> None:
    records = attended(*GENERAL, on=date(2026, 11, 2)) + attended("DEST-TH", on=date(2026, 11, 3))
    outcome = evaluate(PDO, "TH", records, today=TODAY)
    assert isinstance(outcome, Met)
    assert outcome.completed_on == date(2026, 11, 3)
    assert set(outcome.used) == {*GENERAL, "DEST-TH"}


def test_a_thailand_module_does_not_complete_korea() -> None:
    records = attended(*GENERAL, "DEST-TH")
    assert evaluate(PDO, "KR", records, today=TODAY) == Unmet(Shortfall.NOT_ATTENDED, ("DEST-KR",))
    assert isinstance(evaluate(PDO, "TH", records, today=TODAY), Met)


def test_general_modules_alone_complete_no_destination() -> None:
    outcome = evaluate(PDO, "TH", attended(*GENERAL), today=TODAY)
    assert outcome == Unmet(Shortfall.NOT_ATTENDED, ("DEST-TH",))


def test_a_destination_without_a_module_of_its_own_is_not_covered() -> None:
    outcome = evaluate(PDO, "SG", attended(*GENERAL), today=TODAY)
    assert isinstance(outcome, Unmet)
    assert outcome.reason == Shortfall.NOT_COVERED


@pytest.mark.parametrize("status", ["excused", "absent"])
def test_an_excused_or_absent_module_is_not_attendance(status: str) -> None:
    records = attended(*GENERAL[1:], "DEST-TH") + attended("RIGHTS", status=status)
    assert evaluate(PDO, "TH", records, today=TODAY) == Unmet(Shortfall.NOT_ATTENDED, ("RIGHTS",))


def test_an_excused_module_made_up_later_completes_on_the_day_it_is_made_up() -> None:
    records = (
        attended(*GENERAL[1:], "DEST-TH", on=date(2026, 9, 1))
        + attended("RIGHTS", on=date(2026, 9, 1), status="excused")
        + attended("RIGHTS", on=date(2026, 10, 15))
    )
    outcome = evaluate(PDO, "TH", records, today=TODAY)
    assert isinstance(outcome, Met)
    assert outcome.completed_on == date(2026, 10, 15)


def test_modules_attended_further_apart_than_the_window_do_not_complete() -> None:
    # Six months from 2026-01-10 end on 2026-07-10: a module on 2026-07-11 is a day too late.
    early = attended(*GENERAL, on=date(2026, 1, 10))
    late = attended("DEST-TH", on=date(2026, 7, 11))
    outcome = evaluate(PDO, "TH", early + late, today=date(2026, 7, 11))
    assert outcome == Unmet(Shortfall.OUTSIDE_WINDOW, GENERAL)
    just_in_time = attended("DEST-TH", on=date(2026, 7, 10))
    assert isinstance(evaluate(PDO, "TH", early + just_in_time, today=TODAY), Met)


def test_modules_made_up_within_a_new_window_complete() -> None:
    records = (
        attended(*GENERAL, on=date(2025, 1, 10))
        + attended("DEST-TH", on=date(2026, 3, 1))
        + attended(*GENERAL, on=date(2026, 4, 2))
    )
    outcome = evaluate(PDO, "TH", records, today=TODAY)
    assert isinstance(outcome, Met)
    assert outcome.completed_on == date(2026, 4, 2)


def test_what_is_missing_is_what_cannot_count_together_with_a_module_attended_today() -> None:
    records = attended(*GENERAL[:4], on=date(2026, 1, 5)) + attended(
        *GENERAL[4:], on=date(2026, 5, 1)
    )
    outcome = evaluate(PDO, "TH", records, today=date(2026, 8, 1))
    # DEST-TH was never attended; the first four modules are older than six months by then.
    assert outcome == Unmet(Shortfall.NOT_ATTENDED, ("DEST-TH",))
    records += attended("DEST-TH", on=date(2026, 8, 1))
    outcome = evaluate(PDO, "TH", records, today=date(2026, 8, 1))
    assert outcome == Unmet(Shortfall.OUTSIDE_WINDOW, GENERAL[:4])


def test_attendance_of_another_curriculum_does_not_count() -> None:
    records = [Attended(code, "present", date(2026, 11, 2), "OTHER") for code in GENERAL]
    records += attended("DEST-TH")
    outcome = evaluate(PDO, "TH", records, today=TODAY)
    assert isinstance(outcome, Unmet)
    assert set(outcome.missing) == set(GENERAL)


def test_a_completion_under_an_older_version_stands_when_a_newer_one_is_attended() -> None:
    v2 = CurriculumRule(
        id=uuid.uuid4(),
        code="PDO",
        version=2,
        window_months=6,
        validity_months=12,
        modules=(*PDO.modules, ModuleRule("DIGITAL", True)),
    )
    records = attended(*GENERAL, "DEST-TH", on=date(2026, 10, 1)) + attended(
        "RIGHTS", on=date(2026, 11, 1)
    )
    chosen = best([PDO, v2], "TH", records, today=TODAY)
    assert chosen is not None
    assert chosen[0] is PDO
    assert chosen[1] == Met(date(2026, 10, 1), {})
    # Nothing met: what the newest version asks.
    chosen = best([PDO, v2], "KR", records, today=TODAY)
    assert chosen is not None
    assert chosen[0] is v2
    assert chosen[1] == Unmet(Shortfall.NOT_ATTENDED, ("DEST-KR", "DIGITAL"))
    # Met under both on the same day: the newest version.
    records += attended("DIGITAL", on=date(2026, 9, 1))
    chosen = best([PDO, v2], "TH", records, today=TODAY)
    assert chosen is not None
    assert chosen[0] is v2


def test_destinations_checked_are_the_persons_own_and_those_whose_module_they_attended() -> None:
    records = attended("DEST-KR") + attended("DEST-JP", status="excused") + attended("RIGHTS")
    assert destinations_to_check("TH", [PDO], records) == {"TH", "KR"}
    assert destinations_to_check(None, [PDO], records) == {"KR"}


def test_months_are_added_by_calendar_with_month_ends_kept() -> None:
    assert add_months(date(2026, 1, 31), 1) == date(2026, 2, 28)
    assert add_months(date(2028, 1, 31), 1) == date(2028, 2, 29)
    assert add_months(date(2026, 8, 15), 6) == date(2027, 2, 15)
    assert add_months(date(2026, 12, 1), 12) == date(2027, 12, 1)
    assert valid_until(date(2026, 11, 3), 12) == date(2027, 11, 3)


def test_a_certificate_is_valid_until_its_last_day_unless_withdrawn() -> None:
    until = date(2027, 11, 3)
    assert certificate_state("valid", until, until) == "valid"
    assert certificate_state("valid", until, until + timedelta(days=1)) == "expired"
    assert certificate_state("withdrawn", until, date(2027, 1, 1)) == "withdrawn"


def test_a_verification_code_is_ten_unambiguous_symbols_and_forgives_how_it_is_typed() -> None:
    key = b"k" * 32
    completion = uuid.uuid4()
    code = verification_code(key, completion)
    assert len(code) == CODE_LENGTH
    assert set(code) <= set(CODE_ALPHABET)
    assert not set(code) & set("01ILOUV")
    assert code == verification_code(key, completion)  # printed again, the same
    assert code != verification_code(b"x" * 32, completion)
    assert normalise_code(display_code(code).lower()) == code
    assert normalise_code(f" {code[:3]} {code[3:]} ") == code
    assert normalise_code(code[:-1]) is None
    assert normalise_code(code[:-1] + "0") is None
    assert verification_hash(code) != code
    assert len(verification_hash(code)) == 64


# -- properties ---------------------------------------------------------------------------------

MODULES = [*GENERAL, "DEST-TH", "DEST-KR", "UNKNOWN"]
START = date(2025, 1, 1)

records_strategy = st.lists(
    st.builds(
        Attended,
        module_code=st.sampled_from(MODULES),
        status=st.sampled_from(["present", "present", "present", "absent", "excused"]),
        on=st.integers(0, 700).map(lambda d: START + timedelta(days=d)),
        curriculum_code=st.just("PDO"),
    ),
    max_size=40,
)
# Records that surely complete Thailand, for properties of completed cases.
complete_strategy = st.integers(0, 150).map(
    lambda d: attended(*GENERAL, "DEST-TH", on=START + timedelta(days=d))
)
destination_strategy = st.sampled_from(["TH", "KR"])


@given(records_strategy, st.randoms(use_true_random=False), destination_strategy)
def test_the_order_of_attendance_records_does_not_matter(
    records: list[Attended], rng: object, destination: str
) -> None:
    shuffled = list(records)
    rng.shuffle(shuffled)  # type: ignore[attr-defined]
    assert evaluate(PDO, destination, records, today=TODAY) == evaluate(
        PDO, destination, shuffled, today=TODAY
    )


@given(records_strategy, records_strategy, destination_strategy)
def test_more_attendance_never_undoes_a_completion_nor_makes_it_later(
    records: list[Attended], more: list[Attended], destination: str
) -> None:
    before = evaluate(PDO, destination, records, today=TODAY)
    after = evaluate(PDO, destination, records + more, today=TODAY)
    if isinstance(before, Met):
        assert isinstance(after, Met)
        assert after.completed_on <= before.completed_on


@given(
    st.one_of(
        records_strategy, complete_strategy.flatmap(lambda c: records_strategy.map(c.__add__))
    )
)
def test_a_completion_is_the_first_day_every_module_was_attended_within_the_window(
    records: list[Attended],
) -> None:
    outcome = evaluate(PDO, "TH", records, today=TODAY)
    required = set(PDO.required("TH"))
    if isinstance(outcome, Met):
        used = outcome.used
        assert set(used) == required
        assert all(a.status == "present" for a in used.values())
        days = [a.on for a in used.values()]
        assert max(days) == outcome.completed_on
        assert add_months(min(days), PDO.window_months) >= max(days)
        # Not met the day before: the completion date is the earliest possible.
        earlier = [r for r in records if r.on < outcome.completed_on]
        assert isinstance(evaluate(PDO, "TH", earlier, today=TODAY), Unmet)
    else:
        assert outcome.missing
        assert set(outcome.missing) <= required


@given(records_strategy, destination_strategy)
def test_only_present_counts(records: list[Attended], destination: str) -> None:
    swapped = [
        Attended(
            r.module_code,
            {"absent": "excused", "excused": "absent"}.get(r.status, r.status),
            r.on,
            r.curriculum_code,
        )
        for r in records
    ]
    without = [r for r in records if r.status == "present"]
    outcome = evaluate(PDO, destination, records, today=TODAY)
    assert outcome == evaluate(PDO, destination, swapped, today=TODAY)
    assert outcome == evaluate(PDO, destination, without, today=TODAY)


@given(st.uuids(), st.binary(min_size=16, max_size=64))
def test_every_code_reads_back_from_its_printed_form(completion: uuid.UUID, key: bytes) -> None:
    code = verification_code(key, completion)
    assert len(code) == CODE_LENGTH
    assert normalise_code(display_code(code)) == code
