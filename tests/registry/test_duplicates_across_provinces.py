"""A registration that looks like a person of another province: the officer is shown what is
needed to decide (an identity card, the showing audited) and the decisions that make sense."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import pytest

from tests.support import bearer, fetch, fetchval, jobseeker, unique_names

if TYPE_CHECKING:
    import httpx

    from shared.settings import Settings

SHOWN_IN_CARD = {
    "given_name_lo",
    "family_name_lo",
    "given_name_en",
    "family_name_en",
    "date_of_birth",
    "office_name_lo",
    "office_name_en",
}


@pytest.fixture
def savannakhet(settings: Settings) -> tuple[str, dict[str, str]]:
    subject = f"mrc-sv-{uuid.uuid4().hex[:6]}"
    return subject, bearer(settings, subject, ["mrc_staff"], office="MRC-SV")


async def _registered_in_vientiane(client: httpx.AsyncClient, auth: dict[str, str]) -> dict:
    response = await client.post("/v1/jobseekers", json=jobseeker(), headers=auth)
    assert response.status_code == 201, response.text
    return dict(response.json())


def _same_person_in_savannakhet(person: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """The same person as a Savannakhet officer writes them down: Latin name only."""
    body = {
        "given_name_en": person["given_name_en"],
        "family_name_en": person["family_name_en"],
        "sex": person["sex"],
        "date_of_birth": person["date_of_birth"],
        "province_code": "LA-SV",
    }
    return body | extra


async def test_a_duplicate_in_another_province_is_shown_as_a_card_with_the_decisions(
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    savannakhet: tuple[str, dict[str, str]],
    migrated: Settings,
) -> None:
    subject, officer = savannakhet
    person = await _registered_in_vientiane(registry_client, auth)
    people_before = await fetchval(migrated, "registry", "SELECT count(*) FROM people")

    warning = await registry_client.post(
        "/v1/people", json=_same_person_in_savannakhet(person), headers=officer
    )

    assert warning.status_code == 409, warning.text
    problem = warning.json()
    assert problem["detail"].startswith("1 registered person looks like this person")
    [candidate] = problem["candidates"]
    card = candidate["card"]
    assert card["id"] == person["id"]
    assert card["outside_scope"] is True
    assert {k: card[k] for k in SHOWN_IN_CARD} == {
        "given_name_lo": person["given_name_lo"],
        "family_name_lo": person["family_name_lo"],
        "given_name_en": person["given_name_en"],
        "family_name_en": person["family_name_en"],
        "date_of_birth": person["date_of_birth"],
        "office_name_lo": "ສູນບໍລິການຈັດຫາງານ ນະຄອນຫຼວງວຽງຈັນ",
        "office_name_en": "Employment Service Centre, Vientiane Capital",
    }
    assert not {"phone", "email", "documents", "photo"} & set(card)
    assert {a["action"] for a in card["actions"]} == {"record_visit", "take_over"}
    assert set(problem["decisions"]) == {"this_is_them", "not_them"}
    assert await fetchval(migrated, "registry", "SELECT count(*) FROM people") == people_before
    shown = await fetch(
        migrated,
        "registry",
        "SELECT office_code, basis, reason FROM audit_log"
        " WHERE person_id = $1::uuid AND action = 'card_shown' AND actor = $2",
        person["id"],
        subject,
    )
    assert [tuple(r) for r in shown] == [("MRC-SV", "card", "duplicate warning")]


async def test_this_is_them_a_visit_here_then_the_record_opens(
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    savannakhet: tuple[str, dict[str, str]],
) -> None:
    _, officer = savannakhet
    person = await _registered_in_vientiane(registry_client, auth)
    warning = await registry_client.post(
        "/v1/people", json=_same_person_in_savannakhet(person), headers=officer
    )
    [visit] = [
        a
        for a in warning.json()["candidates"][0]["card"]["actions"]
        if a["action"] == "record_visit"
    ]

    linked = await registry_client.post(
        visit["href"], json={"reason": "same person, came for orientation"}, headers=officer
    )
    opened = await registry_client.get(f"/v1/people/{person['id']}", headers=officer)

    assert linked.status_code == 201, linked.text
    assert opened.status_code == 200
    assert opened.json()["province_code"] == "LA-VT"


async def test_this_is_them_taking_the_record_over(
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    savannakhet: tuple[str, dict[str, str]],
) -> None:
    _, officer = savannakhet
    person = await _registered_in_vientiane(registry_client, auth)
    warning = await registry_client.post(
        "/v1/people", json=_same_person_in_savannakhet(person), headers=officer
    )
    [take_over] = [
        a for a in warning.json()["candidates"][0]["card"]["actions"] if a["action"] == "take_over"
    ]

    moved = await registry_client.post(
        take_over["href"], json={"reason": "moved to Savannakhet"}, headers=officer
    )

    assert moved.status_code == 200, moved.text
    assert (moved.json()["province_code"], moved.json()["office_code"]) == ("LA-SV", "MRC-SV")


async def test_not_them_registers_under_the_same_key_with_the_decision_recorded(
    registry_client: httpx.AsyncClient,
    auth: dict[str, str],
    savannakhet: tuple[str, dict[str, str]],
    migrated: Settings,
) -> None:
    subject, officer = savannakhet
    person = await _registered_in_vientiane(registry_client, auth)
    key = {"Idempotency-Key": str(uuid.uuid4())}
    body = _same_person_in_savannakhet(person)

    warning = await registry_client.post("/v1/people", json=body, headers=officer | key)
    decided = await registry_client.post(
        "/v1/people", json=body | {"confirm_not_duplicate": True}, headers=officer | key
    )
    retried = await registry_client.post(
        "/v1/people", json=body | {"confirm_not_duplicate": True}, headers=officer | key
    )

    assert warning.status_code == 409
    assert decided.status_code == 201, decided.text
    assert retried.json()["id"] == decided.json()["id"]
    override = json.loads(
        await fetchval(
            migrated,
            "registry",
            "SELECT duplicate_override FROM people WHERE id = $1::uuid",
            decided.json()["id"],
        )
    )
    assert override["decision"] == "not_them"
    assert [c["id"] for c in override["candidates"]] == [person["id"]]
    assert "card" not in override["candidates"][0]  # another person's names are not kept here
    [audited] = await fetch(
        migrated,
        "registry",
        "SELECT fields, reason, office_code FROM audit_log"
        " WHERE person_id = $1::uuid AND action = 'duplicate_overridden' AND actor = $2",
        decided.json()["id"],
        subject,
    )
    assert tuple(audited) == ([person["id"]], "not them", "MRC-SV")


async def test_several_candidates_are_counted_in_words_that_agree(
    registry_client: httpx.AsyncClient, auth: dict[str, str]
) -> None:
    born = unique_names()["date_of_birth"]
    name = {"given_name_en": "Khamla", "family_name_en": "Vongsavanh", "date_of_birth": born}
    body = {k: v for k, v in jobseeker(**name).items() if not k.endswith("_lo")}
    for _ in range(2):
        made = await registry_client.post(
            "/v1/jobseekers",
            json=body | {"confirm_not_duplicate": True, "phone": None},
            headers=auth,
        )
        assert made.status_code == 201, made.text

    warning = await registry_client.post(
        "/v1/jobseekers", json=body | {"phone": None}, headers=auth
    )

    assert warning.status_code == 409
    assert warning.json()["detail"].startswith("2 registered people look like this person")
    assert {c["card"]["outside_scope"] for c in warning.json()["candidates"]} == {False}
