"""How the console calls the services: the officer's own token, writes under the form's
Idempotency-Key, and a service that does not answer said so in Lao (nothing saved)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING

import httpx
import pytest

from labourx.catalog import load
from services.console.apis import registry
from services.console.apis.client import Api
from services.console.apis.errors import NotAllowed, Rejected, Unavailable
from services.console.web.forms import Form, explain
from shared.app import create_app
from shared.auth import mint_token
from tests.console.conftest import Console, hidden_fields, sign_in
from tests.support import jobseeker, unique_names

if TYPE_CHECKING:
    from collections.abc import AsyncIterator

    from fastapi import FastAPI

    from shared.settings import Settings


def _api(console: Console, settings: Settings, office: str = "ESC-VT") -> Api:
    token = mint_token(
        settings, subject="officer-console", roles=["esc_staff"], office=office, province=None
    )
    return Api(console.state.upstreams, token, "lo")


async def test_a_write_sent_twice_under_the_forms_key_registers_one_person(
    console: Console, console_settings: Settings
) -> None:
    api = _api(console, console_settings)
    shown = Form()  # the key the registration form was given when it was opened
    submitted = Form.from_data({"idempotency_key": shown.idempotency_key, "q": "x"})
    assert submitted.idempotency_key == shown.idempotency_key
    body = jobseeker(province_code="LA-VT")
    first = await api.send(
        "POST", "registry", "/v1/jobseekers", json=body, idempotency_key=submitted.idempotency_key
    )
    again = await api.send(
        "POST", "registry", "/v1/jobseekers", json=body, idempotency_key=submitted.idempotency_key
    )
    assert again["id"] == first["id"]
    found = await registry.search_people(api, q=first["reference"])
    assert [p.id for p in found.items] == [uuid.UUID(first["id"])]


async def test_a_refusal_names_every_field_and_reads_in_lao(
    console: Console, console_settings: Settings
) -> None:
    api = _api(console, console_settings)
    body = {**jobseeker(), "given_name_lo": "Somsak", "given_name_en": "ສົມສັກ", "sex": "x"}
    with pytest.raises(Rejected) as refused:
        await api.send("POST", "registry", "/v1/jobseekers", json=body, idempotency_key=None)
    fields = {p.field for p in refused.value.field_problems}
    assert {"given_name_lo", "given_name_en", "sex"} <= fields
    form = Form(values={"given_name_lo": "Somsak"})
    from services.console import i18n

    i18n.use(i18n.load("lo", strict=True))
    form.reject(refused.value)
    error = form.error("given_name_lo")
    assert error is not None
    assert error.message == "ກະລຸນາຂຽນເປັນອັກສອນລາວ."
    assert form.value("given_name_lo") == "Somsak"  # what was typed is kept
    # A rule the console has no words for is still shown, with the service's own words.
    from services.console.apis.errors import FieldProblem

    message, original = explain(FieldProblem("x", "a brand new rule", "value_error"))
    assert message == "ຂໍ້ມູນນີ້ບໍ່ໄດ້ຮັບການຍອມຮັບ."
    assert original == "a brand new rule"


async def test_scope_refusals_and_unknown_people_are_told_apart(
    console: Console, console_settings: Settings
) -> None:
    made = await _api(console, console_settings).send(
        "POST", "registry", "/v1/jobseekers", json=jobseeker(), idempotency_key=str(uuid.uuid4())
    )
    elsewhere = _api(console, console_settings, office="ESC-HO")
    with pytest.raises(NotAllowed):
        await registry.get_person(elsewhere, made["reference"])


@pytest.fixture
async def cut_off(console_settings: Settings, console: Console) -> AsyncIterator[FastAPI]:
    """A console whose registry is at an address where nothing listens (a service down),
    while matching still answers."""
    settings = console_settings.model_copy(
        update={"console_registry_url": "http://127.0.0.1:9", "console_api_timeout_s": 2.0}
    )
    app = create_app(load("console"), settings)
    app.state.console_transports = {
        "matching": httpx.ASGITransport(app=console.services["matching"])
    }
    async with app.router.lifespan_context(app):
        yield app


async def test_a_service_that_does_not_answer_is_a_page_in_lao_saying_nothing_was_saved(
    cut_off: FastAPI,
) -> None:
    transport = httpx.ASGITransport(app=cut_off)
    async with httpx.AsyncClient(transport=transport, base_url="https://console.test") as browser:
        await sign_in(browser)
        search = await browser.get("/people", params={"q": "Somsak"})
        assert search.status_code == 503
        assert "ບໍ່ມີຫຍັງຖືກບັນທຶກ" in search.text  # nothing was saved
        assert "ທະບຽນບຸກຄົນ (registry)" in search.text
        # The home page shows what the services that answer have, and says which did not.
        home = await browser.get("/")
        assert home.status_code == 200
        assert "ທະບຽນບຸກຄົນ ບໍ່ຕອບສະໜອງ" in home.text
        # Matching answered: its section is a list or says none is open (other tests of the
        # run may have left referrals in this province), not a notice that it is down.
        referrals = home.text.split('<section aria-labelledby="referrals">', 1)[1]
        referrals = referrals.split("</section>", 1)[0]
        assert 'class="notice"' not in referrals
        assert "ບໍ່ມີການສົ່ງຕົວໃດທີ່ລໍຖ້າຜົນ." in referrals or 'class="list"' in referrals


async def test_the_home_page_lists_this_offices_people_awaiting_follow_up(
    console: Console, console_settings: Settings
) -> None:
    clerk = _api(console, console_settings, office="ESC-BL")
    body = {**jobseeker(province_code="LA-BL"), **unique_names()}
    made = await clerk.send(
        "POST", "registry", "/v1/jobseekers", json=body, idempotency_key=str(uuid.uuid4())
    )
    async with console.browser() as browser:
        await sign_in(browser, office="ESC-BL")
        home = await browser.get("/")
    assert home.status_code == 200
    assert "ສູນບໍລິການຈັດຫາງານ ແຂວງບໍລິຄຳໄຊ" in home.text
    assert f'href="/people/{made["reference"]}"' in home.text
    assert body["given_name_lo"] in home.text
    assert hidden_fields(home.text)["csrf_token"]


async def test_an_unreachable_service_raises_unavailable(console_settings: Settings) -> None:
    from services.console.apis.client import Upstreams

    settings = console_settings.model_copy(update={"console_registry_url": "http://127.0.0.1:9"})
    upstreams = Upstreams(settings)
    try:
        with pytest.raises(Unavailable):
            await Api(upstreams, "t", "lo").get("registry", "/v1/people")
    finally:
        await upstreams.aclose()


async def test_the_consoles_own_database_down_is_a_page_in_lao_saying_try_again(
    console_settings: Settings,
) -> None:
    """Its sign-in sessions unreachable (a database stopped or restarting): 503 with
    Retry-After and the same "nothing was saved" page as a service down, not a 500."""
    settings = console_settings.model_copy(
        update={"database_url": "postgresql://postgres@127.0.0.1:9/postgres"}
    )
    app = create_app(load("console"), settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(
            transport=transport, base_url="https://console.test"
        ) as browser:
            page = await browser.get("/sign-in")
            token = hidden_fields(page.text)["csrf_token"]
            done = await browser.post(
                "/sign-in/dev",
                data={"csrf_token": token, "role": "esc_staff", "office_code": "ESC-VT"},
            )
    assert done.status_code == 503, done.text
    assert done.headers["Retry-After"].isdigit()
    assert "ບໍ່ມີຫຍັງຖືກບັນທຶກ" in done.text  # nothing was saved
    assert "ຖານຂໍ້ມູນຂອງລະບົບພະນັກງານ" in done.text  # the console's own database
