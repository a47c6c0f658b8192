"""The roster printed to fill by hand on a day without a connection: the session (office by
name, date, venue, language) and everyone holding a place (reference, full name in both
scripts, sex, a box to sign, a box per module), Lao first then English, A4 landscape, as many
pages as the class needs; for those who may read the session, showing the people they serve."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest

from shared.reference.offices import SEED_MRCS
from tests.predeparture.conftest import esc_officer, learner, mrc_staff, pdf_text, served_at
from tests.predeparture.test_sessions import new_session
from tests.support import fetch

if TYPE_CHECKING:
    import uuid

    import httpx
    from aiokafka import AIOKafkaProducer

    from shared.settings import Settings

pytestmark = pytest.mark.usefixtures("predeparture_consumer")

THAILAND = ["RIGHTS", "SAFE-MIG", "OSH", "MONEY", "SOC-SEC", "GENDER", "HELP", "HEALTH", "DEST-TH"]
# A4 landscape in PDF points.
A4_LANDSCAPE = b"/MediaBox [0 0 841.89 595.28]"


def squeezed(text: str) -> str:
    """Without white space, which pdftotext puts where Lao vowel signs stack."""
    return "".join(text.split())


async def enrol(
    client: httpx.AsyncClient, orientation: dict[str, Any], person: uuid.UUID, headers: Any
) -> dict[str, Any]:
    response = await client.post(
        f"/v1/sessions/{orientation['id']}/enrolments",
        json={"person_id": str(person)},
        headers=headers,
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


async def printed(
    client: httpx.AsyncClient, orientation: dict[str, Any], headers: dict[str, str]
) -> bytes:
    response = await client.get(f"/v1/sessions/{orientation['id']}/roster.pdf", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert response.headers["cache-control"] == "no-store"
    return response.content


def pages(pdf: bytes) -> int:
    return len(re.findall(rb"/Type /Page\b(?!s)", pdf))


async def test_the_roster_prints_the_session_and_each_person_in_lao_then_english(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation = await new_session(
        predeparture_client, migrated, capacity=2, planned_modules=THAILAND
    )
    staff = mrc_staff(migrated)
    names = [
        ("ຄຳພອນ", "ວົງສາ", "Khamphone", "Vongsa", "male"),
        ("ນາລີ", "ພົມມະຈັນ", "Naly", "Phommachanh", "female"),
        ("ສົມພອນ", "ແສງສະຫວ່າງ", "Somphone", "Sengsavang", "female"),
    ]
    people = [
        await learner(
            producer,
            migrated,
            given_name_lo=lo,
            family_name_lo=family_lo,
            given_name_en=en,
            family_name_en=family_en,
            sex=sex,
        )
        for lo, family_lo, en, family_en, sex in names
    ]
    places = [await enrol(predeparture_client, orientation, p, staff) for p in people]
    assert [p["status"] for p in places] == ["enrolled", "enrolled", "waitlisted"]

    pdf = await printed(predeparture_client, orientation, staff)

    assert pdf.startswith(b"%PDF-")
    assert A4_LANDSCAPE in pdf
    assert pages(pdf) == 1
    text = squeezed(pdf_text(pdf))
    office = SEED_MRCS["MRC-SV"]
    heading_lo, heading_en = "ບັນຊີລາຍຊື່ຜູ້ເຂົ້າຮ່ວມ", "Pre-departureorientation:attendanceroster"
    assert text.index(squeezed(heading_lo)) < text.index(heading_en)
    for words in (squeezed(office.name_lo), squeezed(office.name_en), "ພາສາລາວ", "Lao"):
        assert words in text, words
    assert squeezed("ສະຖານທີ່") in text
    assert squeezed(orientation["venue"]) in text
    # Both people holding a place, by reference and full name in both scripts, and their sex.
    for (lo, family_lo, en, family_en, _), place in zip(names[:2], places[:2], strict=True):
        assert squeezed(f"{lo} {family_lo}") in text
        assert f"{en}{family_en}" in text
        assert place["reference"] in text
    assert squeezed("ຊາຍ / M") in text
    assert squeezed("ຍິງ / F") in text
    # A box per module, headed by its code, and each module's title in the legend.
    for code in THAILAND:
        assert code in text
    assert "Workers'rightsandtheemploymentcontract" in text
    assert squeezed("ລາຍເຊັນ") in text
    assert "Signature" in text
    # The waiting list did not come.
    assert "Somphone" not in text


async def test_a_long_roster_prints_on_as_many_pages_as_it_needs_each_person_once(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated, capacity=40)
    staff = mrc_staff(migrated)
    people = [await learner(producer, migrated) for _ in range(30)]
    places = [await enrol(predeparture_client, orientation, p, staff) for p in people]

    pdf = await printed(predeparture_client, orientation, staff)

    assert pages(pdf) >= 3
    text = pdf_text(pdf)
    assert f"Page 1 of {pages(pdf)}" in text
    assert f"Page {pages(pdf)} of {pages(pdf)}" in text
    for place in places:
        assert text.count(place["reference"]) == 1
    # Each page carries the session's heading and the table's.
    assert text.count("Pre-departure orientation: attendance roster") == pages(pdf)


async def test_another_office_prints_only_the_people_it_serves_and_reading_is_audited(
    predeparture_client: httpx.AsyncClient, producer: AIOKafkaProducer, migrated: Settings
) -> None:
    orientation = await new_session(predeparture_client, migrated)
    local = await learner(producer, migrated, given_name_en="Bouasone")
    visitor = await learner(producer, migrated, province_code="LA-KH", given_name_en="Daovone")
    await served_at(producer, migrated, visitor, "ESC-VT", "LA-VT")
    await enrol(predeparture_client, orientation, local, mrc_staff(migrated))
    await enrol(predeparture_client, orientation, visitor, esc_officer(migrated, "LA-VT"))

    own = pdf_text(await printed(predeparture_client, orientation, mrc_staff(migrated)))
    theirs = pdf_text(
        await printed(predeparture_client, orientation, esc_officer(migrated, "LA-VT"))
    )

    assert "Bouasone" in own
    assert "Daovone" in own
    assert "Daovone" in theirs
    assert "Bouasone" not in theirs
    entries = await fetch(
        migrated,
        "predeparture",
        "SELECT office_code, basis FROM predeparture_audit_log"
        " WHERE person_id = $1 AND action = 'roster_printed' ORDER BY id",
        visitor,
    )
    assert [(e["office_code"], e["basis"]) for e in entries] == [
        ("MRC-SV", "session"),
        ("ESC-VT", None),
    ]
