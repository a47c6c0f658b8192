"""A person's page: the record from several services at once, consents recorded and withdrawn
(a witness for verbal and thumbprint consent), jobseeker and migration status changes offered
only where the registry's lifecycles allow them, the slip streamed with the officer's token,
taking a record over after checking the answers, and for admins the audit trail and erasure
behind a typed confirmation."""

from __future__ import annotations

import asyncio
import re
from typing import TYPE_CHECKING, Any

import pytest

from services.console.people import lifecycle
from services.registry.jobseekers.domain import ALLOWED
from services.registry.migration_records.domain import TRANSITIONS
from shared.outbox.relay import OutboxRelay
from tests.console.conftest import Console, hidden_fields, sign_in
from tests.console.test_registration import register_directly, registry_get
from tests.support import bearer, wait_until

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    import httpx

    from shared.settings import Settings

# Bokeo: a province of these tests' own.
PROVINCE, OFFICE = "LA-BK", "ESC-BK"


@pytest.fixture
def bk_officer(console_settings: Settings) -> dict[str, str]:
    return bearer(console_settings, "officer-bk-1", ["esc_staff"], office=OFFICE)


@pytest.fixture
async def officer(browser: httpx.AsyncClient) -> httpx.AsyncClient:
    await sign_in(browser, office=OFFICE)
    return browser


@pytest.fixture
async def person(console: Console, bk_officer: dict[str, str]) -> dict[str, Any]:
    return await register_directly(
        console, bk_officer, province_code=PROVINCE, given_name_lo="ນ້ອຍ", given_name_en="Noy"
    )


def hidden_of(html: str, action: str) -> dict[str, str]:
    """The hidden fields of the form posting to `action` (each form has its own key)."""
    start = html.index(f'action="{action}"')
    return hidden_fields(html[start : html.index("</form>", start)])


def test_the_status_changes_offered_are_the_registrys_lifecycles() -> None:
    assert {s.value: {t.value for t in ts} for s, ts in ALLOWED.items()} == {
        s: set(ts) for s, ts in lifecycle.JOBSEEKER_MOVES.items()
    }
    assert {s.value: {t.value for t in ts} for s, ts in TRANSITIONS.items()} == {
        s: set(ts) for s, ts in lifecycle.MIGRATION_MOVES.items()
    }


async def test_the_page_shows_the_record_consents_migration_and_messages(
    officer: httpx.AsyncClient, person: dict[str, Any]
) -> None:
    page = await officer.get(f"/people/{person['reference']}")
    assert page.status_code == 200
    html = page.text
    for section in ("profile", "consents", "jobseeker", "migration", "messages"):
        assert f'id="{section}"' in html, section
    # for admins only
    assert 'id="audit"' not in html
    assert "/erase" not in html
    assert "ນ້ອຍ" in html
    assert "ຍັງບໍ່ມີຂໍ້ຄວາມໃດຖືກສົ່ງຫາບຸກຄົນນີ້" in html
    # The phone as people in Laos write it, not as it is stored.
    digits = person["phone"].removeprefix("+856")
    assert f"<dd>0{digits[:2]} {digits[2:6]} {digits[6:]}</dd>" in html
    # Opened by id, the same page.
    by_id = await officer.get(f"/people/{person['id']}")
    assert by_id.status_code == 200
    assert person["reference"] in by_id.text


async def test_the_slip_is_streamed_from_the_registry_with_the_officers_token(
    officer: httpx.AsyncClient, person: dict[str, Any]
) -> None:
    slip = await officer.get(f"/people/{person['reference']}/slip.pdf")
    assert slip.status_code == 200
    assert slip.headers["content-type"] == "application/pdf"
    assert slip.content.startswith(b"%PDF")
    assert person["reference"] in slip.headers["content-disposition"]
    assert slip.headers["cache-control"] == "no-store"


async def test_verbal_consent_needs_a_witness_and_is_withdrawn_with_how_it_was_said(
    officer: httpx.AsyncClient, person: dict[str, Any], console: Console, bk_officer: dict[str, str]
) -> None:
    reference = person["reference"]
    action = f"/people/{reference}/consents"
    page = await officer.get(f"/people/{reference}")
    typed = {
        **hidden_of(page.text, action),
        "consent.purpose": "contact_sms",
        "consent.status": "given",
        "consent.method": "verbal",
    }
    refused = await officer.post(action, data=typed)
    assert refused.status_code == 422
    assert 'href="#f-consent-witness_name"' in refused.text
    assert "ການຍິນຍອມດ້ວຍປາກເປົ່າ ຫຼື ແຕ້ມໂປ້ ຕ້ອງມີຊື່ພະຍານ" in refused.text
    assert '<details class="action" open>' in refused.text  # the form stays open, as typed
    recorded = await officer.post(action, data={**typed, "consent.witness_name": "ທ້າວ ບຸນມາ"})
    assert recorded.status_code == 303
    shown = await officer.get(recorded.headers["location"])
    assert "ບັນທຶກການຕັດສິນໃຈກ່ຽວກັບການຍິນຍອມແລ້ວ" in shown.text
    assert "ພະຍານ: ທ້າວ ບຸນມາ" in shown.text

    withdraw = f"/people/{reference}/consents/withdraw"
    assert f'href="{withdraw}?purpose=contact_sms"' in shown.text
    form = await officer.get(withdraw, params={"purpose": "contact_sms"})
    assert form.status_code == 200
    done = await officer.post(
        withdraw,
        data={
            **hidden_fields(form.text),
            "withdraw.purpose": "contact_sms",
            "withdraw.method": "thumbprint",
            "withdraw.witness_name": "ນາງ ແກ້ວ",
        },
    )
    assert done.status_code == 303
    consents = await registry_get(console, bk_officer, f"/v1/people/{reference}/consents")
    [sms] = [c for c in consents["items"] if c["purpose"] == "contact_sms"]
    assert (sms["status"], sms["method"], sms["witness_name"]) == (
        "withdrawn",
        "thumbprint",
        "ນາງ ແກ້ວ",
    )
    # Withdrawn: there is nothing left to withdraw.
    after = await officer.get(f"/people/{reference}")
    assert f'href="{withdraw}?purpose=contact_sms"' not in after.text


def _offered(html: str, name: str) -> set[str]:
    return set(re.findall(rf'name="{re.escape(name)}" value="([a-z_]+)"', html))


async def test_a_status_change_is_offered_only_where_the_lifecycle_allows_it(
    officer: httpx.AsyncClient, person: dict[str, Any]
) -> None:
    reference = person["reference"]
    page = await officer.get(f"/people/{reference}")
    assert _offered(page.text, "status.status") == {"referred", "inactive"}  # from active
    action = f"/people/{reference}/status"
    short = await officer.post(
        action,
        data={**hidden_of(page.text, action), "status.status": "inactive", "status.reason": "x"},
    )
    assert short.status_code == 422
    assert 'href="#f-status-reason"' in short.text
    assert 'value="x"' in short.text
    moved = await officer.post(
        action,
        data={
            **hidden_of(page.text, action),
            "status.status": "inactive",
            "status.reason": "ໄປຮຽນຕໍ່",
        },
    )
    assert moved.status_code == 303
    after = await officer.get(moved.headers["location"])
    assert "ປ່ຽນສະຖານະຜູ້ຊອກວຽກແລ້ວ" in after.text
    assert _offered(after.text, "status.status") == {"active"}  # from inactive, only back
    # A change the record no longer allows (a stale page) is refused beside the field.
    stale = await officer.post(
        action,
        data={**hidden_of(after.text, action), "status.status": "placed", "status.reason": "ໄດ້ວຽກ"},
    )
    assert stale.status_code == 409
    assert 'href="#f-status-status"' in stale.text


async def test_a_migration_record_offers_its_allowed_transitions_and_names_what_they_need(
    officer: httpx.AsyncClient, person: dict[str, Any]
) -> None:
    reference = person["reference"]
    page = await officer.get(f"/people/{reference}")
    action = f"/people/{reference}/migrations"
    opened = await officer.post(
        action,
        data={
            **hidden_of(page.text, action),
            "open_migration.destination_country": "TH",
            "open_migration.channel": "mou",
        },
    )
    assert opened.status_code == 303
    page = await officer.get(opened.headers["location"])
    assert "ປະເທດໄທ" in page.text
    [migration_id] = re.findall(r'/migrations/([0-9a-f-]{36})/status"', page.text)
    prefix = f"move-{migration_id}"
    assert _offered(page.text, f"{prefix}.status") == {"ready", "cancelled"}
    assert f'action="{action}"' not in page.text  # one open record at a time
    move = f"/people/{reference}/migrations/{migration_id}/status"
    refused = await officer.post(
        move, data={**hidden_of(page.text, move), f"{prefix}.status": "ready"}
    )
    assert refused.status_code == 422
    assert f'href="#f-{prefix}-agency_code"' in refused.text  # MOU goes through an agency
    docs = f"/people/{reference}/migrations/{migration_id}/documents"
    saved = await officer.post(
        docs,
        data={
            **hidden_of(page.text, docs),
            f"docs-{migration_id}.passport_number": "p1234567",
            f"docs-{migration_id}.passport_expires_on": "2031-01-31",
        },
    )
    assert saved.status_code == 303
    after = await officer.get(saved.headers["location"])
    assert "P1234567" in after.text
    assert "31/01/2031" in after.text


async def test_taking_a_record_over_shows_the_answers_to_check_first(
    officer: httpx.AsyncClient, console: Console, console_settings: Settings
) -> None:
    elsewhere = bearer(console_settings, "officer-ou-1", ["esc_staff"], office="ESC-OU")
    moved = await register_directly(console, elsewhere, province_code="LA-OU")
    reference = moved["reference"]
    closed = await officer.get(f"/people/{reference}")
    assert closed.status_code == 403
    assert f'href="/people/{reference}/take-over"' in closed.text
    form = await officer.get(f"/people/{reference}/take-over")
    key = hidden_fields(form.text)
    check = await officer.post(
        f"/people/{reference}/take-over",
        data={**key, "transfer.reason": "ຍ້າຍມາຢູ່ບໍ່ແກ້ວ", "step": "check"},
    )
    assert check.status_code == 200
    assert "ກວດຄືນຄຳຕອບຂອງທ່ານ ກ່ອນຮັບໂອນຂໍ້ມູນ" in check.text  # check your answers
    assert "ຍ້າຍມາຢູ່ບໍ່ແກ້ວ" in check.text
    assert 'value="confirm"' in check.text
    still_closed = await officer.get(f"/people/{reference}")
    assert still_closed.status_code == 403  # nothing happened yet
    done = await officer.post(
        f"/people/{reference}/take-over",
        data={**key, "transfer.reason": "ຍ້າຍມາຢູ່ບໍ່ແກ້ວ", "step": "confirm"},
    )
    assert done.status_code == 303
    opened = await officer.get(done.headers["location"])
    assert opened.status_code == 200
    assert "ຂໍ້ມູນນີ້ຢູ່ຫ້ອງການຂອງທ່ານແລ້ວ" in opened.text
    assert "ແຂວງບໍ່ແກ້ວ" in opened.text


async def test_erasure_is_for_admins_and_needs_the_reference_typed_again(
    console: Console, person: dict[str, Any], bk_officer: dict[str, str]
) -> None:
    reference = person["reference"]
    async with console.browser() as clerk:
        await sign_in(clerk, office=OFFICE)
        assert (await clerk.get(f"/people/{reference}/erase")).status_code == 403
    async with console.browser() as admin:
        await sign_in(admin, role="admin", office=OFFICE)
        page = await admin.get(f"/people/{reference}")
        assert 'id="audit"' in page.text
        assert f'href="/people/{reference}/erase"' in page.text
        assert "ເປີດເບິ່ງຂໍ້ມູນ" in page.text  # the audit trail: read
        form = await admin.get(f"/people/{reference}/erase")
        key = hidden_fields(form.text)
        wrong = await admin.post(
            f"/people/{reference}/erase",
            data={
                **key,
                "erase.reason": "ຄຳຮ້ອງເລກທີ 12/2026",
                "erase.confirm": "P-WRONG1",
                "step": "check",
            },
        )
        assert wrong.status_code == 422
        assert 'href="#f-erase-confirm"' in wrong.text
        assert 'value="ຄຳຮ້ອງເລກທີ 12/2026"' in wrong.text
        typed = {**key, "erase.reason": "ຄຳຮ້ອງເລກທີ 12/2026", "erase.confirm": reference.lower()}
        check = await admin.post(f"/people/{reference}/erase", data={**typed, "step": "check"})
        assert check.status_code == 200
        assert "ກວດຄືນຄຳຕອບຂອງທ່ານ ກ່ອນລຶບຂໍ້ມູນ" in check.text
        still = await registry_get(console, bk_officer, f"/v1/people/{reference}")
        assert still["record_status"] == "active"
        # A confirmation that does not match is refused at the last step too.
        refused = await admin.post(
            f"/people/{reference}/erase", data={**typed, "erase.confirm": "", "step": "confirm"}
        )
        assert refused.status_code == 422
        done = await admin.post(f"/people/{reference}/erase", data={**typed, "step": "confirm"})
        assert done.status_code == 303
        gone = await admin.get(done.headers["location"])
        assert gone.status_code == 410
        assert "ລຶບຂໍ້ມູນແລ້ວ" in gone.text


@pytest.fixture(scope="module")
async def pipeline(migrated: Settings, notify_consumer: None) -> AsyncIterator[None]:
    """The registry's relay running beside notify's consumer, as their processes would."""
    stop = asyncio.Event()
    relay = asyncio.create_task(OutboxRelay(migrated, "registry").run(stop))
    yield
    stop.set()
    await relay


async def test_the_messages_sent_to_the_person_are_on_their_page(
    pipeline: None, officer: httpx.AsyncClient, console: Console, bk_officer: dict[str, str]
) -> None:
    welcomed = await register_directly(
        console,
        bk_officer,
        province_code=PROVINCE,
        given_name_lo="ສົມພອນ",
        consents=[{"purpose": "contact_sms", "status": "given", "method": "signed"}],
    )

    async def shown() -> str | None:
        page = await officer.get(f"/people/{welcomed['reference']}")
        section = page.text[page.text.index('id="messages"') :]
        return section if 'class="message-body"' in section else None

    section = await wait_until(shown, timeout_s=60)
    # The welcome SMS as notify wrote it, in Lao, with what happened to it.
    assert "ສົມພອນ" in section
    assert welcomed["reference"] in section
    assert "ຕ້ອນຮັບ" in section
    assert "ຂໍ້ຄວາມ SMS" in section
