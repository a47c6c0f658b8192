"""The scope model of docs/architecture.md ("Who sees what"), walked as a matrix: a vacancy is
national once published, a draft stays with its province; people are ranked, referred and
placed by those who serve them (their province, an office serving them, national scope);
referrals are seen by the person's side and the vacancy's side; changes stay with the
vacancy's province; agencies see their own; analysts read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest

from shared.events.registry import PersonServedAt
from tests.matching.conftest import candidate, send
from tests.matching.test_agencies import agent, new_agency, published_overseas, set_status
from tests.matching.test_employers import analyst, officer
from tests.matching.test_vacancies import domestic_draft

if TYPE_CHECKING:
    import uuid

    import httpx
    from aiokafka import AIOKafkaProducer

    from shared.settings import Settings

pytestmark = pytest.mark.usefixtures("matching_consumer")

# Plumbers (ISCO-08 7126) are ranked by no other test, so each ranking holds only ours.
PLUMBER = "7126"
VACANCY_PROVINCE, PERSON_PROVINCE = "LA-SV", "LA-VT"
# Columns of the matrix, in this order.
WHO = ("vacancy's province", "another province", "serving the person", "agency", "analyst")


def served_at(person_id: uuid.UUID, office: str, province: str) -> PersonServedAt:
    return PersonServedAt(
        person_id=person_id,
        office_code=office,
        office_province_code=province,
        basis="visit",
        recorded_by="officer-ch-1",
        recorded_at=datetime.now(UTC),
    )


def row(*answers: Any) -> dict[str, Any]:
    return dict(zip(WHO, answers, strict=True))


async def test_who_may_open_list_rank_refer_place_and_change_a_vacancy_and_its_referral(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    """A Savannakhet vacancy; a Vientiane jobseeker whom the Champasak ESC serves too."""
    agency = await new_agency(matching_client, migrated)
    actors = row(
        officer(migrated, VACANCY_PROVINCE),
        officer(migrated, "LA-LP"),
        officer(migrated, "LA-CH"),
        agent(migrated, agency),
        analyst(migrated),
    )
    draft = await domestic_draft(
        matching_client, migrated, province=VACANCY_PROVINCE, isco08=PLUMBER
    )
    other = await domestic_draft(
        matching_client, migrated, province=VACANCY_PROVINCE, isco08=PLUMBER
    )
    vacancy = await set_status(
        matching_client, officer(migrated, VACANCY_PROVINCE), other, "published"
    )
    person = await candidate(
        producer,
        migrated,
        province_code=PERSON_PROVINCE,
        experience=[{"isco08": PLUMBER, "years": 3}],
    )
    await send(producer, migrated, served_at(person, "ESC-CH", "LA-CH"))

    async def each(call: Any) -> dict[str, Any]:
        return {who: await call(headers) for who, headers in actors.items()}

    async def status(method: str, url: str, **kwargs: Any) -> dict[str, Any]:
        async def one(headers: dict[str, str]) -> int:
            response = await matching_client.request(method, url, headers=headers, **kwargs)
            return response.status_code

        return await each(one)

    async def listed(vacancy_id: str) -> dict[str, Any]:
        async def one(headers: dict[str, str]) -> bool:
            response = await matching_client.get(
                "/v1/vacancies", params={"employer_id": vacancy["employer_id"]}, headers=headers
            )
            other_page = await matching_client.get(
                "/v1/vacancies", params={"employer_id": draft["employer_id"]}, headers=headers
            )
            items = [*response.json()["items"], *other_page.json()["items"]]
            return vacancy_id in {v["id"] for v in items}

        return await each(one)

    async def ranks_person(headers: dict[str, str]) -> bool | int:
        response = await matching_client.get(
            f"/v1/vacancies/{vacancy['id']}/candidates",
            params={"limit": 100, "include_excluded": "true"},
            headers=headers,
        )
        if response.status_code != 200:
            return response.status_code
        body = response.json()
        return str(person) in {c["person_id"] for c in [*body["items"], *body["excluded"]]}

    referral_url = "/v1/referrals"
    refer = {"vacancy_id": vacancy["id"], "person_id": str(person)}

    assert await status("GET", f"/v1/vacancies/{vacancy['id']}") == row(200, 200, 200, 403, 200)
    assert await status("GET", f"/v1/vacancies/{draft['id']}") == row(200, 403, 403, 403, 200)
    assert await listed(vacancy["id"]) == row(True, True, True, False, True)
    assert await listed(draft["id"]) == row(True, False, False, False, True)
    # Ranking lists only the people the officer serves: the person's province's, or the
    # serving office's; the vacancy's own province does not browse Vientiane's jobseekers.
    assert await each(ranks_person) == row(False, False, True, 403, 403)
    # A person's own list of jobs (national) is for those who serve them.
    jobs = await status("GET", f"/v1/people/{person}/vacancies")
    assert jobs == row(403, 403, 200, 403, 403)

    refused = {
        who: (await matching_client.post(referral_url, json=refer, headers=h)).status_code
        for who, h in actors.items()
        if who != "serving the person"
    }
    assert refused == {w: 403 for w in WHO if w != "serving the person"}
    made = await matching_client.post(
        referral_url, json=refer, headers=actors["serving the person"]
    )
    assert made.status_code == 201, made.text
    referral = made.json()
    assert (referral["province_code"], referral["person_province_code"]) == (
        VACANCY_PROVINCE,
        PERSON_PROVINCE,
    )

    # A referral is seen by the vacancy's side and the person's side.
    assert await status("GET", f"/v1/referrals/{referral['id']}") == row(200, 403, 200, 403, 200)
    listed_referrals = await each(
        lambda h: matching_client.get(referral_url, params={"person_id": str(person)}, headers=h)
    )
    assert {w: [r["id"] for r in a.json()["items"]] for w, a in listed_referrals.items()} == row(
        [referral["id"]], [], [referral["id"]], [], [referral["id"]]
    )
    own_province = officer(migrated, PERSON_PROVINCE)
    own = await matching_client.get(f"/v1/referrals/{referral['id']}", headers=own_province)
    assert own.status_code == 200

    for step in ("interviewed", "offered"):
        moved = await matching_client.post(
            f"/v1/referrals/{referral['id']}/status",
            json={"status": step},
            headers=actors["vacancy's province"],
        )
        assert moved.status_code == 200, moved.text
    place_url = f"/v1/referrals/{referral['id']}/placement"
    refused = {
        who: (await matching_client.post(place_url, json={}, headers=h)).status_code
        for who, h in actors.items()
        if who != "serving the person"
    }
    # Placing is for those who serve the person, not the vacancy's province alone.
    assert refused == {w: 403 for w in WHO if w != "serving the person"}
    placed = await matching_client.post(place_url, json={}, headers=actors["serving the person"])
    assert placed.status_code == 201, placed.text
    placement = f"/v1/placements/{placed.json()['id']}"
    assert await status("GET", placement) == row(200, 403, 200, 403, 200)

    # Changing the vacancy stays with its province.
    changes = await status(
        "PATCH", f"/v1/vacancies/{vacancy['id']}", json={"description": "Night shift too"}
    )
    assert changes == row(200, 403, 403, 403, 403)
    closing = await status("POST", f"/v1/vacancies/{draft['id']}/status", json={"status": "closed"})
    assert closing == row(200, 403, 403, 403, 403)


async def test_a_demand_letter_is_filled_from_every_province_and_its_agency_follows(
    matching_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    """An MOU demand letter recruited in Vientiane: a Luang Prabang officer refers a Luang
    Prabang jobseeker; the agency and Vientiane see the referral, Savannakhet does not."""
    agency = await new_agency(matching_client, migrated)
    letter = await published_overseas(matching_client, migrated, agency, isco08=PLUMBER)
    person = await candidate(
        producer,
        migrated,
        province_code="LA-LP",
        experience=[{"isco08": PLUMBER, "years": 3}],
        jobseeker={"status": "active", "willing_to_work_abroad": True},
    )
    luang_prabang = officer(migrated, "LA-LP")

    opened = await matching_client.get(f"/v1/vacancies/{letter['id']}", headers=luang_prabang)
    ranked = await matching_client.get(
        f"/v1/vacancies/{letter['id']}/candidates", headers=luang_prabang
    )
    made = await matching_client.post(
        "/v1/referrals",
        json={"vacancy_id": letter["id"], "person_id": str(person)},
        headers=luang_prabang,
    )
    by_agency = await matching_client.get(
        f"/v1/referrals/{made.json()['id']}", headers=agent(migrated, agency)
    )
    by_vientiane = await matching_client.get(
        f"/v1/referrals/{made.json()['id']}", headers=officer(migrated)
    )
    by_savannakhet = await matching_client.get(
        f"/v1/referrals/{made.json()['id']}", headers=officer(migrated, "LA-SV")
    )
    name_list = await matching_client.get(
        f"/v1/vacancies/{letter['id']}/name-list", headers=luang_prabang
    )
    changed = await matching_client.patch(
        f"/v1/vacancies/{letter['id']}", json={"description": "x"}, headers=luang_prabang
    )

    assert opened.status_code == 200
    assert str(person) in {c["person_id"] for c in ranked.json()["items"]}
    assert made.status_code == 201, made.text
    assert (by_agency.status_code, by_vientiane.status_code) == (200, 200)
    assert by_savannakhet.status_code == 403
    # The name list and the letter's terms stay with its province and its agency.
    assert (name_list.status_code, changed.status_code) == (403, 403)
