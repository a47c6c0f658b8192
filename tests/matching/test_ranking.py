"""Explainable ranked matching: candidates for a vacancy and vacancies for a person, each score
broken down by criterion, hard filters explained on request, protected characteristics never
an input. Candidates reach matching through the broker as registry's events, as in production.
"""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import text

from services.matching.ranking.domain import DOMESTIC_WEIGHTS, OVERSEAS_WEIGHTS, Cell
from services.matching.ranking.service import vacancy_terms
from services.matching.ranking.sql import candidates_for
from services.matching.vacancies.models import Vacancy
from shared.db import create_engine, session_factory
from shared.events.predeparture import OrientationCompleted
from shared.events.registry import PersonRegistered
from tests.matching.conftest import candidate, consent, person_fields, send, updated
from tests.matching.test_agencies import TODAY, agent, new_agency, published_overseas, set_status
from tests.matching.test_employers import officer
from tests.matching.test_vacancies import domestic_draft
from tests.support import bearer, fetch

if TYPE_CHECKING:
    import httpx
    from aiokafka import AIOKafkaProducer

    from shared.settings import Settings

pytestmark = pytest.mark.usefixtures("matching_consumer")

# Electricians (ISCO-08 minor group 741) in Champasak: no other test ranks these.
ELECTRICIAN, ELECTRONICS_MECHANIC, LINE_WORKER = "7411", "7421", "7413"
PROVINCE = "LA-CH"


def looking(**profile: Any) -> dict[str, Any]:
    return {"status": "active", **profile}


async def electrician_vacancy(
    client: httpx.AsyncClient, settings: Settings, **overrides: Any
) -> dict[str, Any]:
    """A published electrician's job in Champasak asking for wiring and solar skills."""
    body: dict[str, Any] = {
        "title": "Building electrician",
        "isco08": ELECTRICIAN,
        "required_skills": ["house wiring", "solar panels"],
        "min_isced": 3,
        "min_experience_years": "2",
        "languages": ["lo"],
        "district": "Pakse",
        **overrides,
    }
    draft = await domestic_draft(client, settings, province=PROVINCE, **body)
    return await set_status(client, officer(settings, PROVINCE), draft, "published")


def national(settings: Settings) -> dict[str, str]:
    """A national officer of the ministry, who sees every province."""
    return bearer(settings, "national-officer-1", ["esc_staff"], national=True)


async def ranked(
    client: httpx.AsyncClient,
    settings: Settings,
    vacancy_id: str,
    headers: dict[str, str] | None = None,
    **params: Any,
) -> dict[str, Any]:
    """The vacancy's candidates as `headers` sees them: by default a national officer, who
    serves everyone (a provincial officer's list holds only the people they serve)."""
    response = await client.get(
        f"/v1/vacancies/{vacancy_id}/candidates",
        params={"limit": 100, **params},
        headers=headers or national(settings),
    )
    assert response.status_code == 200, response.text
    return dict(response.json())


def only(items: list[dict[str, Any]], people: list[uuid.UUID], key: str = "person_id") -> list:
    """The items about `people`, in the order the API gave them."""
    wanted = {str(p) for p in people}
    return [item for item in items if item[key] in wanted]


async def test_candidates_are_ranked_with_the_score_broken_down_by_criterion(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    vacancy = await electrician_vacancy(matching_client, migrated)
    best = await candidate(
        producer,
        migrated,
        province_code=PROVINCE,
        isced_level=4,
        skills=["House wiring", "solar panels", "welding"],
        languages=[{"code": "lo", "proficiency": "native"}],
        experience=[{"isco08": ELECTRICIAN, "years": 3}],
        jobseeker=looking(),
    )
    wishes = await candidate(
        producer,
        migrated,
        province_code="LA-VT",
        isced_level=3,
        skills=["house wiring"],
        languages=[{"code": "lo", "proficiency": "native"}],
        jobseeker=looking(desired_occupations=[ELECTRICIAN], preferred_provinces=[PROVINCE]),
    )
    related = await candidate(
        producer,
        migrated,
        province_code="LA-SV",
        isced_level=2,
        experience=[{"isco08": LINE_WORKER, "years": 1}],
        jobseeker=looking(),
    )

    answer = await ranked(matching_client, migrated, vacancy["id"])
    mine = only(answer["items"], [best, wishes, related])

    assert [item["person_id"] for item in mine] == [str(best), str(wishes), str(related)]
    assert answer["search"]["exact"] is True
    assert answer["excluded"] is None
    ranks = [item["rank"] for item in answer["items"]]
    assert ranks == list(range(1, len(ranks) + 1))
    scores = [item["score"] for item in answer["items"]]
    assert scores == sorted(scores, reverse=True)
    top = {b["criterion"]: b for b in mine[0]["breakdown"]}
    assert set(top) == {str(c) for c in DOMESTIC_WEIGHTS}  # no readiness for a job at home
    assert all(b["value"] == 1.0 for b in top.values())
    assert mine[0]["score"] == 100.0
    for item in mine:
        assert item["score"] == pytest.approx(sum(b["points"] for b in item["breakdown"]), abs=0.05)
    second = {b["criterion"]: b["value"] for b in mine[1]["breakdown"]}
    assert second["occupation"] == 0.9  # wished for, not worked in
    assert second["location"] == 0.8  # would move to Champasak
    assert second["skills"] == 0.5  # one of the two skills asked
    assert second["experience"] == 0.0
    third = {b["criterion"]: b["value"] for b in mine[2]["breakdown"]}
    assert third["occupation"] == 0.6  # same minor group, 741
    assert third["education"] == 0.5  # one ISCED level below the minimum
    assert third["experience"] == 0.5  # one year of the two asked, in the minor group


async def test_the_ranked_list_is_the_top_of_a_full_scan(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    """The indexed search stops early; what it returns must equal scoring everyone."""
    vacancy = await electrician_vacancy(matching_client, migrated, required_skills=["meters"])
    for n in range(6):
        await candidate(
            producer,
            migrated,
            province_code=PROVINCE if n % 2 else "LA-VT",
            skills=["meters"] if n % 3 else [],
            experience=[
                {"isco08": (ELECTRICIAN, LINE_WORKER, ELECTRONICS_MECHANIC)[n % 3], "years": n}
            ],
            jobseeker=looking(),
        )
    await same_as_full_scan(matching_client, migrated, vacancy)


async def test_an_overseas_ranking_split_by_orientation_and_language_is_a_full_scans_top(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    """Korean speakers and people oriented for Korea are searched first; the list must still
    be what scoring everyone gives."""
    agency = await new_agency(matching_client, migrated)
    vacancy = await published_overseas(
        matching_client, migrated, agency, isco08="6111", destination_country="KR",
        languages=["ko"], required_skills=["rice farming"],
    )  # fmt: skip
    for n in range(8):
        person = await candidate(
            producer,
            migrated,
            skills=["rice farming"] if n % 2 else [],
            languages=[{"code": "ko", "proficiency": "basic"}] if n % 3 == 0 else [],
            experience=[{"isco08": ("6111", "6112", "6121")[n % 3], "years": 2}],
            jobseeker=looking(willing_to_work_abroad=True, abroad_countries=["KR"][: n % 2]),
        )
        if n % 4 == 1:
            await send(producer, migrated, orientation(person, "KR"))

    answer = await same_as_full_scan(matching_client, migrated, vacancy)

    assert answer["search"]["groups_searched"] >= 1


async def test_ties_at_the_cut_off_are_ordered_as_a_full_scan_orders_them(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    """People oriented without a passport and people with a passport but no orientation score
    the same (90); the cut-off falls among them, across two cells of the search."""
    agency = await new_agency(matching_client, migrated)
    vacancy = await published_overseas(
        matching_client, migrated, agency, isco08="6122", destination_country="KR",
        required_skills=[], starts_on=(TODAY + timedelta(days=30)).isoformat(),
    )  # fmt: skip
    abroad = looking(willing_to_work_abroad=True, abroad_countries=["KR"])
    for n in range(6):
        person = await candidate(
            producer,
            migrated,
            experience=[{"isco08": "6122", "years": 3}],
            jobseeker=abroad,
            passport_expires_on=None if n % 2 else TODAY + timedelta(days=1000),
        )
        if n % 2:
            await send(producer, migrated, orientation(person, "KR"))

    answer = await same_as_full_scan(matching_client, migrated, vacancy, limit=3)

    assert [item["score"] for item in answer["items"]] == [90.0, 90.0, 90.0]


def orientation(person: uuid.UUID, country: str) -> OrientationCompleted:
    return OrientationCompleted(
        person_id=person,
        certificate_number=f"PDO-{uuid.uuid4().hex[:8]}",
        destination_country=country,
        completed_on=TODAY,
        valid_until=TODAY + timedelta(days=365),
        recorded_at=datetime.now(UTC),
    )


async def same_as_full_scan(
    client: httpx.AsyncClient, settings: Settings, vacancy: dict[str, Any], limit: int = 15
) -> dict[str, Any]:
    """The API's top `limit` for the vacancy, checked against scoring every candidate at once."""
    answer = await client.get(
        f"/v1/vacancies/{vacancy['id']}/candidates",
        params={"limit": limit},
        headers=national(settings),
    )
    assert answer.status_code == 200, answer.text
    engine = create_engine(settings, "matching")
    try:
        async with session_factory(engine)() as session:
            row = await session.get(Vacancy, uuid.UUID(vacancy["id"]))
            assert row is not None
            scan = candidates_for(vacancy_terms(row), Cell(0, False, 0.0), limit=limit, today=TODAY)
            full = (await session.execute(text(scan.sql), scan.params)).mappings().all()
    finally:
        await engine.dispose()

    items = answer.json()["items"]
    assert len(items) == len(full) > 0
    assert [(i["person_id"], i["score"]) for i in items] == [
        (str(r["person_id"]), round(float(r["score"]), 2)) for r in full
    ]
    return dict(answer.json())


async def test_changing_sex_ethnicity_or_disability_changes_no_result(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    """Fairness: the same people with other protected characteristics rank exactly the same,
    for a vacancy and for each person's own list of jobs."""
    vacancy = await electrician_vacancy(matching_client, migrated, languages=["lo", "th"])
    people = []
    for n, sex in enumerate(("female", "male", "female", "male", "other")):
        fields = person_fields(
            sex=sex,
            ethnicity=("lao", "khmu", "hmong", "akha", "phouthay")[n],
            has_disability=n % 2 == 0,
            province_code=(PROVINCE, "LA-VT")[n % 2],
            isced_level=2 + n % 3,
            skills=["house wiring"] if n % 2 else ["solar panels", "house wiring"],
            languages=[{"code": "lo", "proficiency": "native"}],
            experience=[{"isco08": (ELECTRICIAN, LINE_WORKER)[n % 2], "years": n}],
            jobseeker=looking(desired_occupations=[ELECTRICIAN]),
        )
        await send(producer, migrated, PersonRegistered(**fields))
        await send(producer, migrated, consent(fields["person_id"]))
        people.append(fields)
    ids = [p["person_id"] for p in people]

    async def results() -> tuple[list[Any], list[Any]]:
        for_vacancy = only((await ranked(matching_client, migrated, vacancy["id"]))["items"], ids)
        for_people = []
        for person_id in ids:
            jobs = await matching_client.get(
                f"/v1/people/{person_id}/vacancies",
                params={"limit": 100},
                headers=national(migrated),
            )
            assert jobs.status_code == 200, jobs.text
            for_people.append(
                [(v["vacancy_id"], v["score"], v["breakdown"]) for v in jobs.json()["items"]]
            )
        return for_vacancy, for_people

    before = await results()
    assert len(before[0]) == len(people)
    flip = {"female": "male", "male": "female", "other": "female"}
    for person in people:
        change = updated(
            person,
            2,
            sex=flip[person["sex"]],
            ethnicity="hmong" if person["ethnicity"] != "hmong" else "lao",
            has_disability=not person["has_disability"],
        )
        await send(producer, migrated, change)
    sexes = await fetch(
        migrated, "matching", "SELECT sex FROM candidates WHERE person_id = ANY($1)", ids
    )
    assert sorted(r["sex"] for r in sexes) != sorted(p["sex"] for p in people)  # applied
    after = await results()

    assert after == before


async def test_hard_filters_are_stated_for_excluded_candidates_on_request(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    vacancy = await electrician_vacancy(matching_client, migrated, min_age=21, max_age=40)
    experienced: dict[str, Any] = {
        "province_code": PROVINCE,
        "experience": [{"isco08": ELECTRICIAN, "years": 5}],
    }
    no_consent = await candidate(
        producer, migrated, consented=False, jobseeker=looking(), **experienced
    )
    too_young = await candidate(
        producer,
        migrated,
        date_of_birth=TODAY - timedelta(days=365 * 19),
        jobseeker=looking(),
        **experienced,
    )
    too_old = await candidate(
        producer, migrated, date_of_birth=date(1960, 1, 1), jobseeker=looking(), **experienced
    )
    resting = await candidate(
        producer, migrated, jobseeker=looking(status="inactive"), **experienced
    )
    fine = await candidate(producer, migrated, jobseeker=looking(), **experienced)

    plain = await ranked(matching_client, migrated, vacancy["id"])
    explained = await ranked(matching_client, migrated, vacancy["id"], include_excluded="true")

    listed = {item["person_id"] for item in plain["items"]}
    assert str(fine) in listed
    assert not listed & {str(p) for p in (no_consent, too_young, too_old, resting)}
    assert plain["excluded"] is None
    reasons = {
        item["person_id"]: {r["code"] for r in item["reasons"]} for item in explained["excluded"]
    }
    assert reasons[str(no_consent)] == {"no_consent"}
    assert reasons[str(too_young)] == {"too_young"}
    assert reasons[str(too_old)] == {"too_old"}
    assert reasons[str(resting)] == {"jobseeker_inactive"}
    assert str(fine) not in reasons
    assert all(r["detail"] for item in explained["excluded"] for r in item["reasons"])


async def test_excluded_candidates_are_found_beyond_the_unit_group_and_ranked_like_the_rest(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    """`include_excluded` once listed only people of the job's very unit group: an officer
    whose jobseeker had related experience but no consent got nothing back."""
    vacancy = await electrician_vacancy(matching_client, migrated, title="Substation electrician")
    related = await candidate(
        producer,
        migrated,
        consented=False,
        province_code=PROVINCE,
        experience=[{"isco08": LINE_WORKER, "years": 3}],
        jobseeker=looking(),
    )
    wishing = await candidate(
        producer,
        migrated,
        consented=False,
        province_code=PROVINCE,
        jobseeker=looking(desired_occupations=[ELECTRONICS_MECHANIC]),
    )

    answer = await ranked(matching_client, migrated, vacancy["id"], include_excluded="true")

    excluded = {e["person_id"]: e for e in answer["excluded"]}
    assert [r["code"] for r in excluded[str(related)]["reasons"]] == ["no_consent"]
    assert [r["code"] for r in excluded[str(wishing)]["reasons"]] == ["no_consent"]
    assert excluded[str(related)]["score"] > excluded[str(wishing)]["score"] > 0
    scores = [e["score"] for e in answer["excluded"]]
    assert scores == sorted(scores, reverse=True)
    assert not {str(related), str(wishing)} & {i["person_id"] for i in answer["items"]}


async def test_the_api_documents_which_candidates_are_considered(
    matching_client: httpx.AsyncClient,
) -> None:
    document = (await matching_client.get("/openapi.json")).json()
    route = document["paths"]["/v1/vacancies/{vacancy_id}/candidates"]["get"]
    said = route["description"]
    for rule in (
        "job-matching consent",
        "active record",
        "looking for work",
        "not abroad",
        "age",
        "willing to work abroad",
        "serves",
    ):
        assert rule in said, rule
    [flag] = [p for p in route["parameters"] if p["name"] == "include_excluded"]
    assert "every filter" in flag["description"]


async def test_a_provincial_officer_ranks_the_people_they_serve_and_national_staff_everyone(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    vacancy = await electrician_vacancy(matching_client, migrated, title="Rural electrician")
    experienced: dict[str, Any] = {
        "experience": [{"isco08": ELECTRICIAN, "years": 4}],
        "jobseeker": looking(),
    }
    here = await candidate(producer, migrated, province_code=PROVINCE, **experienced)
    elsewhere = await candidate(producer, migrated, province_code="LA-SL", **experienced)

    champasak = await ranked(matching_client, migrated, vacancy["id"], officer(migrated, PROVINCE))
    salavan = await ranked(matching_client, migrated, vacancy["id"], officer(migrated, "LA-SL"))
    everyone = await ranked(matching_client, migrated, vacancy["id"])

    def listed(answer: dict[str, Any]) -> set[str]:
        return {i["person_id"] for i in answer["items"]} & {str(here), str(elsewhere)}

    assert listed(champasak) == {str(here)}
    assert listed(salavan) == {str(elsewhere)}  # a Champasak job, for Salavan's jobseeker
    assert listed(everyone) == {str(here), str(elsewhere)}


async def test_withdrawing_consent_removes_a_candidate_from_the_next_ranking(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    vacancy = await electrician_vacancy(matching_client, migrated)
    person = await candidate(
        producer,
        migrated,
        province_code=PROVINCE,
        experience=[{"isco08": ELECTRICIAN, "years": 4}],
        jobseeker=looking(),
    )
    before = await ranked(matching_client, migrated, vacancy["id"])
    await send(producer, migrated, consent(person, "withdrawn"))
    after = await ranked(matching_client, migrated, vacancy["id"], include_excluded="true")
    jobs = await matching_client.get(
        f"/v1/people/{person}/vacancies", headers=officer(migrated, PROVINCE)
    )

    assert str(person) in {i["person_id"] for i in before["items"]}
    assert str(person) not in {i["person_id"] for i in after["items"]}
    [excluded] = [e for e in after["excluded"] if e["person_id"] == str(person)]
    assert [r["code"] for r in excluded["reasons"]] == ["no_consent"]
    assert jobs.json()["items"] == []
    assert [e["code"] for e in jobs.json()["exclusions"]] == ["no_consent"]


async def test_overseas_candidates_are_ranked_on_orientation_and_passport_readiness(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    agency = await new_agency(matching_client, migrated)
    vacancy = await published_overseas(
        matching_client,
        migrated,
        agency,
        isco08="7413",
        destination_country="KR",
        required_skills=[],
        starts_on=(TODAY + timedelta(days=60)).isoformat(),
    )
    abroad = looking(willing_to_work_abroad=True, abroad_countries=["KR"])
    common: dict[str, Any] = {"experience": [{"isco08": "7413", "years": 2}], "jobseeker": abroad}
    ready = await candidate(
        producer, migrated, passport_expires_on=TODAY + timedelta(days=900), **common
    )
    unprepared = await candidate(producer, migrated, **common)
    homebody = await candidate(
        producer,
        migrated,
        experience=[{"isco08": "7413", "years": 2}],
        jobseeker=looking(),
    )
    await send(producer, migrated, orientation(ready, "KR"))

    response = await matching_client.get(
        f"/v1/vacancies/{vacancy['id']}/candidates",
        params={"limit": 100, "include_excluded": "true"},
        headers=officer(migrated),
    )
    answer = response.json()
    mine = only(answer["items"], [ready, unprepared])

    assert answer["overseas"] is True
    assert [i["person_id"] for i in mine] == [str(ready), str(unprepared)]
    readiness = [
        {b["criterion"]: b for b in item["breakdown"]}["readiness"]["value"] for item in mine
    ]
    assert readiness == [1.0, 0.0]
    assert {b["criterion"] for b in mine[0]["breakdown"]} == {str(c) for c in OVERSEAS_WEIGHTS}
    assert str(homebody) not in {i["person_id"] for i in answer["items"]}
    [excluded] = [e for e in answer["excluded"] if e["person_id"] == str(homebody)]
    assert [r["code"] for r in excluded["reasons"]] == ["not_willing_abroad"]
    # The agency that owns the demand letter does not browse the labour bank.
    as_agency = await matching_client.get(
        f"/v1/vacancies/{vacancy['id']}/candidates", headers=agent(migrated, agency)
    )
    assert as_agency.status_code == 403


async def test_jobs_for_a_person_are_ranked_with_the_score_broken_down(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    here = await electrician_vacancy(matching_client, migrated, title="Electrician, Pakse")
    related = await electrician_vacancy(
        matching_client, migrated, title="Line worker, Pakse", isco08=LINE_WORKER
    )
    elsewhere_draft = await domestic_draft(
        matching_client,
        migrated,
        province="LA-LP",
        isco08=ELECTRICIAN,
        district="Luang Prabang",
        required_skills=["house wiring", "solar panels"],
    )
    elsewhere = await set_status(
        matching_client, officer(migrated, "LA-LP"), elsewhere_draft, "published"
    )
    person = await candidate(
        producer,
        migrated,
        province_code=PROVINCE,
        isced_level=3,
        skills=["house wiring", "solar panels"],
        languages=[{"code": "lo", "proficiency": "native"}],
        experience=[{"isco08": ELECTRICIAN, "years": 6}],
        jobseeker=looking(),
    )

    response = await matching_client.get(
        f"/v1/people/{person}/vacancies", params={"limit": 100}, headers=officer(migrated, PROVINCE)
    )
    answer = response.json()
    mine = only(answer["items"], [here["id"], elsewhere["id"], related["id"]], key="vacancy_id")

    assert response.status_code == 200, response.text
    assert [v["vacancy_id"] for v in mine] == [here["id"], elsewhere["id"], related["id"]]
    assert mine[0]["score"] == 100.0
    location = [{b["criterion"]: b["value"] for b in v["breakdown"]}["location"] for v in mine]
    assert location == [1.0, 0.2, 1.0]
    assert answer["exclusions"] == []
    scores = [v["score"] for v in answer["items"]]
    assert scores == sorted(scores, reverse=True)
    # Officers of another province do not browse this person's matches.
    other = await matching_client.get(
        f"/v1/people/{person}/vacancies", headers=officer(migrated, "LA-LP")
    )
    assert other.status_code == 403


async def test_ranking_needs_a_vacancy_and_a_person_matching_knows(
    matching_client: httpx.AsyncClient, migrated: Settings
) -> None:
    missing = await matching_client.get(
        f"/v1/vacancies/{uuid.uuid4()}/candidates", headers=officer(migrated)
    )
    nobody = await matching_client.get(
        f"/v1/people/{uuid.uuid4()}/vacancies", headers=officer(migrated)
    )
    too_many = await matching_client.get(
        f"/v1/people/{uuid.uuid4()}/vacancies", params={"limit": 1000}, headers=officer(migrated)
    )

    assert (missing.status_code, nobody.status_code) == (404, 404)
    assert too_many.status_code == 422
    assert too_many.headers["content-type"].startswith("application/problem+json")
    assert "limit" in too_many.text
