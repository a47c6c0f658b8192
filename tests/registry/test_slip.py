"""The registration slip a person takes home: printed in Lao and English, audited like a read."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tests.support import bearer, fetch, jobseeker

if TYPE_CHECKING:
    import httpx

    from shared.settings import Settings


async def test_the_slip_is_a_one_page_pdf_in_lao_and_english_printed_by_reference(
    registry_client: httpx.AsyncClient, auth: dict[str, str], migrated: Settings
) -> None:
    registered = await registry_client.post(
        "/v1/jobseekers",
        json=jobseeker(
            consents=[{"purpose": "contact_sms", "status": "given", "method": "signed"}]
        ),
        headers=auth,
    )
    person = registered.json()

    response = await registry_client.get(f"/v1/people/{person['reference']}/slip.pdf", headers=auth)

    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/pdf"
    assert person["reference"] in response.headers["content-disposition"]
    pdf = response.content
    assert pdf.startswith(b"%PDF-")
    assert len(re.findall(rb"/Type /Page\b", pdf)) == 1
    assert f"Registration slip {person['reference']}".encode() in pdf  # the document's title
    # Lao is printed with the Lao font, shaped: both fonts are embedded.
    fonts = set(re.findall(rb"/BaseFont /\w+\+(\w+)", pdf))
    assert {b"NotoSans", b"NotoSansLao", b"NotoSansLaoBold"} <= fonts
    [entry] = await fetch(
        migrated,
        "registry",
        "SELECT actor, office_code, basis FROM audit_log"
        " WHERE person_id = $1::uuid AND action = 'slip_printed'",
        person["id"],
    )
    assert tuple(entry) == ("officer-vt-1", "ESC-VT", "province")


async def test_only_staff_who_may_see_the_person_print_their_slip(
    registry_client: httpx.AsyncClient, auth: dict[str, str], settings: Settings
) -> None:
    person = (await registry_client.post("/v1/jobseekers", json=jobseeker(), headers=auth)).json()
    elsewhere = bearer(settings, "esc-sv-slip", ["esc_staff"], office="ESC-SV")

    response = await registry_client.get(f"/v1/people/{person['id']}/slip.pdf", headers=elsewhere)

    assert response.status_code == 403
