"""Completion and certificates: the rule with destination modules, the window and excused
absences as the API applies it; the certificate, its event, the printable PDF with its QR code;
and the public check of a code, which needs no token and tells nothing more than initials,
destination, dates and status."""

from __future__ import annotations

import asyncio
import io
import re
import struct
import uuid
import zlib
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import pytest
import segno
from PIL import Image

from services.predeparture.completions.certificates import VERIFY_PATH
from shared import clock
from shared.clock import add_years
from shared.events.registry import PersonRegistered
from shared.reference.offices import SEED_MRCS
from tests.predeparture.conftest import (
    analyst,
    esc_officer,
    migration,
    pdf_text,
    person_fields,
    send,
)
from tests.predeparture.test_attendance import (
    COMPLETED,
    GENERAL,
    THAILAND,
    close,
    correct,
    enter,
    events,
    finished,
    learners,
    ready_session,
    rows,
    session_for,
    staff,
    started,
)
from tests.support import fetch

if TYPE_CHECKING:
    import httpx
    from aiokafka import AIOKafkaProducer

    from shared.settings import Settings

pytestmark = pytest.mark.usefixtures("predeparture_consumer")

CODE_PATH = re.compile(re.escape(VERIFY_PATH) + r"([A-Z0-9]+)$")


async def orientation_of(
    client: httpx.AsyncClient, settings: Settings, person: uuid.UUID
) -> dict[str, Any]:
    response = await client.get(f"/v1/people/{person}/orientation", headers=staff(settings))
    assert response.status_code == 200, response.text
    return dict(response.json())


def destination(record: dict[str, Any], country: str) -> dict[str, Any]:
    return next(d for d in record["destinations"] if d["destination_country"] == country)


async def pdf_of(client: httpx.AsyncClient, settings: Settings, certificate_number: str) -> bytes:
    # The ESC of the province of the people these tests complete (Luang Prabang).
    response = await client.get(
        f"/v1/certificates/{certificate_number}.pdf", headers=esc_officer(settings, "LA-LP")
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    return response.content


def link_in(pdf: bytes) -> str:
    """The verification link the PDF points to (the QR code's link annotation)."""
    [uri] = re.findall(rb"/URI \(([^)]*)\)", pdf)
    return uri.decode()


def code_in(pdf: bytes) -> str:
    match = CODE_PATH.search(link_in(pdf))
    assert match is not None
    return match.group(1)


def qr_modules(pdf: bytes) -> list[list[bool]]:
    """The dark and light modules of the QR code image in the PDF, read back from its pixels."""
    at = pdf.index(b"/Subtype /Image")
    head = pdf[pdf.rindex(b"<<\n/BitsPerComponent", 0, at) : pdf.index(b"stream\n", at)]
    width = int(re.search(rb"/Width (\d+)", head).group(1))  # type: ignore[union-attr]
    height = int(re.search(rb"/Height (\d+)", head).group(1))  # type: ignore[union-attr]
    length = int(re.search(rb"/Length (\d+)", head).group(1))  # type: ignore[union-attr]
    assert b"/DeviceGray" in head
    assert b"/Predictor 15" in head
    start = pdf.index(b"stream\n", at) + len(b"stream\n")
    # A FlateDecode stream with PNG predictors is a PNG's image data: wrap it as one for Pillow.
    idat = pdf[start : start + length]

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    png = (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        + chunk(b"IDAT", idat)
        + chunk(b"IEND", b"")
    )
    return _sample(Image.open(io.BytesIO(png)).convert("L"))


def _sample(image: Image.Image) -> list[list[bool]]:
    """Module centres of a QR image drawn with a 4-module quiet zone."""
    side, data = image.width, image.tobytes()

    def dark(x: int, y: int) -> bool:
        return data[y * side + x] < 128

    # The module size, from the top-left finder pattern: a dark run 7 modules wide.
    top = next(y for y in range(side) if any(dark(x, y) for x in range(side)))
    left = next(x for x in range(side) if dark(x, top))
    module = (next(x for x in range(left, side) if not dark(x, top)) - left) // 7
    count = side // module - 8
    middle = module // 2
    return [
        [dark((x + 4) * module + middle, (y + 4) * module + middle) for x in range(count)]
        for y in range(count)
    ]


async def completed(
    client: httpx.AsyncClient,
    producer: AIOKafkaProducer,
    settings: Settings,
    **person: Any,
) -> tuple[uuid.UUID, dict[str, Any]]:
    """A person of Luang Prabang who completed orientation for Thailand today, and their
    certificate, issued when the session closed."""
    home = {"province_code": "LA-LP", "office_code": "MRC-LP"}
    payload = PersonRegistered(**person_fields(**(home | person)))
    await send(producer, settings, payload)
    orientation = await session_for(client, settings, [payload.person_id])
    await finished(settings, orientation)
    response = await enter(client, settings, orientation, rows([payload.person_id], THAILAND))
    assert response.status_code == 200, response.text
    [certificate] = (await close(client, settings, orientation))["issued"]
    return payload.person_id, certificate


# -- the rule ------------------------------------------------------------------------------------


async def test_completing_the_thailand_modules_issues_a_certificate_and_announces_it(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    person, certificate = await completed(predeparture_client, producer, migrated)

    today = clock.today()
    assert re.fullmatch(rf"PDO-{today.year}-\d{{6,}}", certificate["certificate_number"])
    [event] = await events(migrated, person, COMPLETED)
    assert event == {
        "person_id": str(person),
        "certificate_number": certificate["certificate_number"],
        "destination_country": "TH",
        "completed_on": certificate["completed_on"],
        "valid_until": add_years(date.fromisoformat(certificate["completed_on"]), 1).isoformat(),
        "office_code": "MRC-LP",
        "recorded_at": event["recorded_at"],
    }
    record = await orientation_of(predeparture_client, migrated, person)
    [held] = record["certificates"]
    assert held["state"] == "valid"
    assert held["certificate_number"] == certificate["certificate_number"]
    assert destination(record, "TH") | {"curriculum": None} == {
        "destination_country": "TH",
        "complete": True,
        "completed_on": certificate["completed_on"],
        "curriculum": None,
        "required": THAILAND,
        "attended": THAILAND,
        "missing": [],
        "shortfall": None,
    }
    assert len(record["attendance"]) == 9
    # Only the code's hash is kept.
    [stored] = await fetch(
        migrated,
        "predeparture",
        "SELECT verification_hash FROM completions WHERE person_id = $1",
        person,
    )
    assert re.fullmatch(r"[0-9a-f]{64}", stored["verification_hash"])


async def test_a_roster_saved_while_the_session_runs_certifies_no_one_until_it_is_closed(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    [person] = await learners(producer, migrated, 1)
    orientation = await session_for(predeparture_client, migrated, [person])
    await started(migrated, orientation)  # the class began an hour ago and runs till the evening

    entered = await enter(predeparture_client, migrated, orientation, rows([person], THAILAND))
    too_soon = await predeparture_client.post(
        f"/v1/sessions/{orientation['id']}/status", json={"status": "held"}, headers=staff(migrated)
    )

    assert entered.status_code == 200, entered.text
    assert entered.json()["certificates"] == {"issued": [], "withdrawn": []}
    assert too_soon.status_code == 409
    assert too_soon.json()["type"].endswith("/session-not-ended")
    assert await events(migrated, person, COMPLETED) == []
    record = await orientation_of(predeparture_client, migrated, person)
    assert record["certificates"] == []
    assert destination(record, "TH")["complete"] is False
    assert {a["counted"] for a in record["attendance"]} == {False}

    await finished(migrated, orientation)
    [certificate] = (await close(predeparture_client, migrated, orientation))["issued"]

    record = await orientation_of(predeparture_client, migrated, person)
    assert destination(record, "TH")["complete"] is True
    assert {a["counted"] for a in record["attendance"]} == {True}
    assert [c["certificate_number"] for c in record["certificates"]] == [
        certificate["certificate_number"]
    ]


async def test_a_thailand_module_does_not_complete_korea(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation, [person] = await ready_session(
        predeparture_client, producer, migrated, modules=[*THAILAND, "DEST-KR"]
    )
    # Registry says the person is heading to Korea.
    await send(producer, migrated, migration(person, country="KR"))
    roster = rows([person], THAILAND) + rows([person], ["DEST-KR"], "excused")
    await enter(predeparture_client, migrated, orientation, roster)

    [certificate] = (await close(predeparture_client, migrated, orientation))["issued"]
    assert certificate["destination_country"] == "TH"
    record = await orientation_of(predeparture_client, migrated, person)
    assert record["destination_country"] == "KR"
    korea = destination(record, "KR")
    assert korea["complete"] is False
    assert (korea["missing"], korea["shortfall"]) == (["DEST-KR"], "not_attended")
    assert korea["attended"] == GENERAL
    assert destination(record, "TH")["complete"] is True
    assert [e["destination_country"] for e in await events(migrated, person, COMPLETED)] == ["TH"]


async def test_modules_attended_further_apart_than_the_window_do_not_complete(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    [person] = await learners(producer, migrated, 1)
    long_ago = clock.today() - timedelta(days=250)  # more than the curriculum's six months
    first = await session_for(predeparture_client, migrated, [person], modules=GENERAL)
    await finished(migrated, first, on=long_ago)
    await enter(predeparture_client, migrated, first, rows([person], GENERAL))
    await close(predeparture_client, migrated, first)
    second = await session_for(predeparture_client, migrated, [person], modules=["DEST-TH"])
    await finished(migrated, second)
    await enter(predeparture_client, migrated, second, rows([person], ["DEST-TH"]))

    assert await close(predeparture_client, migrated, second) == {"issued": [], "withdrawn": []}
    thailand = destination(await orientation_of(predeparture_client, migrated, person), "TH")
    assert thailand["complete"] is False
    assert thailand["shortfall"] == "outside_window"
    assert thailand["missing"] == GENERAL  # to be attended again
    assert thailand["attended"] == THAILAND
    assert await events(migrated, person, COMPLETED) == []


async def test_an_excused_module_made_up_in_a_later_session_completes_on_that_day(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    [person] = await learners(producer, migrated, 1)
    first_day = clock.today() - timedelta(days=20)
    first = await session_for(predeparture_client, migrated, [person])
    await finished(migrated, first, on=first_day)
    roster = rows([person], THAILAND)
    roster[0] |= {"status": "excused", "note": "a death in the family"}
    await enter(predeparture_client, migrated, first, roster)
    assert (await close(predeparture_client, migrated, first))["issued"] == []
    thailand = destination(await orientation_of(predeparture_client, migrated, person), "TH")
    assert (thailand["missing"], thailand["shortfall"]) == (["RIGHTS"], "not_attended")

    make_up = await session_for(predeparture_client, migrated, [person], modules=["RIGHTS"])
    await finished(migrated, make_up, on=clock.today() - timedelta(days=2))
    await enter(predeparture_client, migrated, make_up, rows([person], ["RIGHTS"]))

    [certificate] = (await close(predeparture_client, migrated, make_up))["issued"]
    assert certificate["completed_on"] == (clock.today() - timedelta(days=2)).isoformat()


async def test_two_halves_closed_at_once_in_two_sessions_complete_the_person_once(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    [person] = await learners(producer, migrated, 1)
    halves = [THAILAND[:5], THAILAND[5:]]
    sessions = [
        await session_for(predeparture_client, migrated, [person], modules=half) for half in halves
    ]
    for orientation, half in zip(sessions, halves, strict=True):
        await finished(migrated, orientation)
        await enter(predeparture_client, migrated, orientation, rows([person], half))

    closed = await asyncio.gather(
        *(close(predeparture_client, migrated, orientation) for orientation in sessions)
    )

    issued = [c for certificates in closed for c in certificates["issued"]]
    assert [c["person_id"] for c in issued] == [str(person)]
    assert len(await events(migrated, person, COMPLETED)) == 1


# -- certificates ----------------------------------------------------------------------------------


def squeezed(text: str) -> str:
    """Text as compared with what pdftotext reads back: without white space, which it puts
    where Lao vowel signs and tone marks stack above or below a consonant."""
    return "".join(text.split())


async def test_the_certificate_names_its_holder_office_and_destination_in_lao_then_english(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    _, certificate = await completed(
        predeparture_client,
        producer,
        migrated,
        given_name_lo="ວິໄລພອນ",
        family_name_lo="ແກ້ວມະນີ",
        given_name_en="Vilayphone",
        family_name_en="Keomany",
    )

    pdf = await pdf_of(predeparture_client, migrated, certificate["certificate_number"])

    assert b"NotoSansLao" in pdf  # Lao is printed in a Lao font, not romanised
    text = squeezed(pdf_text(pdf))
    office_lo, office_en = SEED_MRCS["MRC-LP"].name_lo, SEED_MRCS["MRC-LP"].name_en
    expected = [
        squeezed("ໃບຢັ້ງຢືນການປະຖົມນິເທດກ່ອນເດີນທາງ"),  # the title, Lao first
        "Certificateofpre-departureorientation",
        squeezed("ວິໄລພອນ ແກ້ວມະນີ"),  # the holder's full name in both scripts
        "VilayphoneKeomany",
        squeezed("ປະເທດໄທ"),  # the destination in both languages
        "Thailand",
        squeezed(office_lo),  # the issuing office by name, not its code
        squeezed(office_en),
    ]
    for words in expected:
        assert words in text, words
    positions = [text.index(words) for words in expected]
    assert positions[0] < positions[1]
    assert positions[2] < positions[3]
    assert positions[6] < positions[7]
    assert "MRC-LP" not in text


async def test_the_printable_certificate_is_a_pdf_with_the_qr_code_of_its_verification_link(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    _, certificate = await completed(predeparture_client, producer, migrated)

    pdf = await pdf_of(predeparture_client, migrated, certificate["certificate_number"])

    assert pdf.startswith(b"%PDF-")
    link = link_in(pdf)
    assert CODE_PATH.search(link)
    assert qr_modules(pdf) == [list(row) for row in segno.make_qr(link, error="m").matrix]
    # Printed again, the same code: it is derived, never stored.
    again = await pdf_of(predeparture_client, migrated, certificate["certificate_number"])
    assert link_in(again) == link
    missing = await predeparture_client.get(
        "/v1/certificates/PDO-1999-000000.pdf", headers=staff(migrated)
    )
    assert missing.status_code == 404
    anonymous = await predeparture_client.get(
        f"/v1/certificates/{certificate['certificate_number']}.pdf"
    )
    assert anonymous.status_code == 401


PUBLIC_KEYS = {
    "status",
    "initials",
    "destination_country",
    "completed_on",
    "valid_until",
    "certificate_number",
}


async def test_a_certificate_is_verified_without_a_token_and_reveals_nothing_personal(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    fields = person_fields(
        given_name_en="Vilayphone",
        family_name_en="Keomany",
        date_of_birth=date(1999, 7, 14),
        province_code="LA-LP",
        office_code="MRC-LP",
    )
    person, certificate = await completed(predeparture_client, producer, migrated, **fields)
    code = code_in(await pdf_of(predeparture_client, migrated, certificate["certificate_number"]))

    response = await predeparture_client.get(f"{VERIFY_PATH}{code}")

    assert response.status_code == 200, response.text
    answer = response.json()
    assert set(answer) == PUBLIC_KEYS
    assert answer == {
        "status": "valid",
        "initials": "V. K.",
        "destination_country": "TH",
        "completed_on": certificate["completed_on"],
        "valid_until": answer["valid_until"],
        "certificate_number": certificate["certificate_number"],
    }
    assert response.headers["cache-control"] == "no-store"
    text = response.text
    for secret in (
        str(person),
        fields["reference"],
        fields["given_name_en"],
        fields["family_name_en"],
        fields["given_name_lo"],
        fields["family_name_lo"],
        "1999-07-14",
        "14/07/1999",
        fields["office_code"],
        "MRC-LP",
        fields["sex"],
    ):
        assert secret not in text, secret
    # However it is typed: lower case, with the dash printed on the certificate, spaces.
    for typed in (code.lower(), f"{code[:5]}-{code[5:]}", f" {code[:5]} {code[5:]}"):
        again = await predeparture_client.get(f"{VERIFY_PATH}{typed}")
        assert again.status_code == 200
        assert again.json() == answer


async def test_an_unknown_code_is_not_found_with_no_hint(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    _, certificate = await completed(predeparture_client, producer, migrated)
    code = code_in(await pdf_of(predeparture_client, migrated, certificate["certificate_number"]))
    near = code[:-1] + ("2" if code[-1] != "2" else "3")
    answers = [
        await predeparture_client.get(f"{VERIFY_PATH}{typed}")
        for typed in (near, code[:-1], "0000000000", certificate["certificate_number"], code * 9)
    ]
    assert [a.status_code for a in answers] == [404] * 5
    details = {(a.json()["title"], a.json()["detail"]) for a in answers}
    assert details == {("Not found", "no certificate has this code")}
    for answer in answers:
        assert set(answer.json()) <= {"type", "title", "status", "detail", "instance", "request_id"}


async def test_a_withdrawn_certificate_verifies_as_withdrawn_and_is_not_printed_again(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    [person] = await learners(producer, migrated, 1)
    orientation = await session_for(predeparture_client, migrated, [person])
    await finished(migrated, orientation)
    await enter(predeparture_client, migrated, orientation, rows([person], THAILAND))
    [certificate] = (await close(predeparture_client, migrated, orientation))["issued"]
    code = code_in(await pdf_of(predeparture_client, migrated, certificate["certificate_number"]))
    await correct(predeparture_client, migrated, orientation, rows([person], ["HELP"], "absent"))

    response = await predeparture_client.get(f"{VERIFY_PATH}{code}")

    assert response.status_code == 200
    assert response.json()["status"] == "withdrawn"
    assert set(response.json()) == PUBLIC_KEYS
    reprint = await predeparture_client.get(
        f"/v1/certificates/{certificate['certificate_number']}.pdf", headers=staff(migrated)
    )
    assert reprint.status_code == 409


async def test_an_expired_certificate_verifies_as_expired(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    [person] = await learners(producer, migrated, 1)
    orientation = await session_for(predeparture_client, migrated, [person])
    # Attended 400 days ago, entered only now: valid for 12 months, so already expired.
    await finished(migrated, orientation, on=clock.today() - timedelta(days=400))
    await enter(predeparture_client, migrated, orientation, rows([person], THAILAND))
    [certificate] = (await close(predeparture_client, migrated, orientation))["issued"]
    code = code_in(await pdf_of(predeparture_client, migrated, certificate["certificate_number"]))

    response = await predeparture_client.get(f"{VERIFY_PATH}{code}")

    assert response.json()["status"] == "expired"
    record = await orientation_of(predeparture_client, migrated, person)
    assert record["certificates"][0]["state"] == "expired"


async def test_a_persons_orientation_record_is_for_staff_who_serve_them(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    person, certificate = await completed(predeparture_client, producer, migrated)
    assert (await predeparture_client.get(f"/v1/people/{person}/orientation")).status_code == 401
    for headers in (analyst(migrated), esc_officer(migrated, "LA-LP")):
        response = await predeparture_client.get(
            f"/v1/people/{person}/orientation", headers=headers
        )
        assert response.status_code == 200
    # Vientiane's ESC neither holds the person's province nor serves them.
    elsewhere = esc_officer(migrated, "LA-VT")
    refused = await predeparture_client.get(f"/v1/people/{person}/orientation", headers=elsewhere)
    assert refused.status_code == 403
    pdf = await predeparture_client.get(
        f"/v1/certificates/{certificate['certificate_number']}.pdf", headers=elsewhere
    )
    assert pdf.status_code == 403
    unknown = await predeparture_client.get(
        f"/v1/people/{uuid.uuid4()}/orientation", headers=staff(migrated)
    )
    assert unknown.status_code == 404


async def test_a_prospective_migrant_sees_what_the_active_curriculum_asks_before_attending(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    [person] = await learners(producer, migrated, 1)
    await send(producer, migrated, migration(person, country="JP"))
    record = await orientation_of(predeparture_client, migrated, person)
    japan = destination(record, "JP")
    assert japan["complete"] is False
    assert japan["missing"] == [*GENERAL, "DEST-JP"]
    assert japan["curriculum"]["code"] == "PDO"
    assert record["attendance"] == []
    assert record["certificates"] == []
