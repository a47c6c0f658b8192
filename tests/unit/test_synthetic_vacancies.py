"""The synthetic job bank of shared.synthetic: reproducible, and every row one the API and the
vacancies table would accept."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

import pytest

from services.matching.vacancies.domain import (
    Kind,
    check_ages,
    check_closing,
    check_kind_fields,
    check_worker_fees,
    min_age_for,
    normalise_skills,
)
from services.matching.vacancies.schemas import VacancyCreate
from shared.synthetic import generate_agencies, generate_employers, generate_vacancies
from shared.synthetic.geography import PROVINCES
from shared.synthetic.people import _TAGS

Row = dict[str, Any]
COUNT = 5_000
TODAY = date(2026, 11, 23)
CREATE_FIELDS = set(VacancyCreate.model_fields)


@pytest.fixture(scope="module")
def vacancies() -> list[Row]:
    return list(generate_vacancies(COUNT, seed=2026, today=TODAY))


def test_the_same_seed_gives_the_same_vacancies() -> None:
    assert list(generate_vacancies(300, seed=3, today=TODAY)) == list(
        generate_vacancies(300, seed=3, today=TODAY)
    )
    assert list(generate_vacancies(300, seed=3, today=TODAY)) != list(
        generate_vacancies(300, seed=4, today=TODAY)
    )
    assert generate_employers(3) == generate_employers(3)


def test_ids_and_references_are_unique(vacancies: list[Row]) -> None:
    assert len({v["id"] for v in vacancies}) == COUNT
    assert len({v["reference"] for v in vacancies}) == COUNT
    assert all(len(v["reference"]) <= 12 for v in vacancies)
    employers = generate_employers(2026)
    assert len({e["id"] for e in employers}) == len(employers)
    assert len({e["registration_number"] for e in employers}) == len(employers)


def test_rows_satisfy_the_tables_rules(vacancies: list[Row]) -> None:
    """The CHECK constraints of matching's vacancies table, row by row."""
    for v in vacancies:
        assert v["kind"] in ("domestic", "overseas")
        assert v["status"] == "published"
        assert v["worker_fee_total"] == 0  # employer_pays
        assert 0 <= v["open_positions"] <= v["positions"]  # open_positions
        assert v["open_positions"] == v["positions"]
        if v["kind"] == "domestic":  # kind_fields
            assert v["employer_id"] is not None
            assert v["agency_id"] is None
            assert v["destination_country"] is None
        else:
            assert v["agency_id"] is not None
            assert v["destination_country"] is not None
            assert v["employer_id"] is None


def test_rows_pass_the_apis_validation_and_rules(vacancies: list[Row]) -> None:
    """What POST /v1/vacancies would check: the schema, the fields by kind, ages, fees, dates."""
    for v in vacancies:
        body = {k: v[k] for k in CREATE_FIELDS if k in v}
        created = VacancyCreate.model_validate(body)
        kind = Kind(v["kind"])
        check_kind_fields(kind, created.model_dump())
        assert min_age_for(kind, v["min_age"]) == v["min_age"]
        check_ages(v["min_age"], v["max_age"])
        check_closing(v["closes_on"], TODAY)
        assert check_worker_fees(v["worker_fees"]) == 0
        assert normalise_skills(v["required_skills"]) == v["required_skills"]


def test_vacancies_refer_to_generated_employers_and_agencies(vacancies: list[Row]) -> None:
    employers = {e["id"]: e for e in generate_employers(2026)}
    agencies = {a["id"]: a for a in generate_agencies()}
    for v in vacancies:
        if v["kind"] == "domestic":
            employer = employers[v["employer_id"]]
            assert employer["province_code"] == v["province_code"]
            assert employer["district"] == v["district"]
        else:
            assert v["destination_country"] in agencies[v["agency_id"]]["destinations"]


def test_the_mix_is_realistic(vacancies: list[Row]) -> None:
    kinds = Counter(v["kind"] for v in vacancies)
    assert kinds["overseas"] / COUNT == pytest.approx(0.25, abs=0.03)
    overseas = [v for v in vacancies if v["kind"] == "overseas"]
    destinations = Counter(v["destination_country"] for v in overseas)
    assert destinations.most_common(1)[0][0] == "TH"
    assert set(destinations) <= {"TH", "KR", "JP", "MY"}
    assert all(v["min_age"] == 18 for v in overseas)
    assert all(v["channel"] == "mou" for v in overseas if v["destination_country"] == "TH")
    domestic = [v for v in vacancies if v["kind"] == "domestic"]
    assert all(v["wage_currency"] == "LAK" for v in domestic)
    assert {v["province_code"] for v in domestic} == {p.code for p in PROVINCES}
    # Factories, building sites and services ahead of subsistence farming.
    codes = Counter(v["isco08"] for v in domestic)
    assert codes["9329"] + codes["8153"] + codes["9313"] > 5 * (codes["6111"] + codes["9211"])
    for v in vacancies:
        assert 0 <= len(v["required_skills"]) <= 2
        assert set(v["required_skills"]) <= set(_TAGS[v["isco08"]])
    some = {
        "min_isced": sum(v["min_isced"] is not None for v in vacancies) / COUNT,
        "min_experience_years": sum(v["min_experience_years"] > 0 for v in vacancies) / COUNT,
        "languages": sum(bool(v["languages"]) for v in vacancies) / COUNT,
    }
    for field, share in some.items():
        assert 0.1 < share < 0.6, field
