"""Signing in through the development picker, the session cookie, CSRF, timeouts, sign-out."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from services.console.sessions import service as sessions
from tests.console.conftest import ABSOLUTE_S, IDLE_S, Console, csrf_of, hidden_fields, sign_in

if TYPE_CHECKING:
    from collections.abc import Callable

    import httpx

SESSION = "__Host-labourx-session"


async def test_signing_in_sets_a_host_only_secure_httponly_lax_cookie_and_opens_home(
    browser: httpx.AsyncClient,
) -> None:
    first = await browser.get("/")
    assert first.status_code == 303
    assert first.headers["location"] == "/sign-in?next=/"

    done = await sign_in(browser, office="ESC-CH", next="/people")
    assert done.headers["location"] == "/people"
    cookie = next(c for c in done.headers.get_list("set-cookie") if c.startswith(SESSION))
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= flags
    assert not any(f.startswith(("domain=", "max-age", "expires")) for f in flags)

    home = await browser.get("/")
    assert home.status_code == 200
    assert home.headers["content-type"].startswith("text/html")
    assert home.headers["cache-control"] == "no-store"
    assert "default-src 'self'" in home.headers["content-security-policy"]
    assert '<html lang="lo">' in home.text
    assert "ສູນບໍລິການຈັດຫາງານ ແຂວງຈຳປາສັກ" in home.text  # the officer's office, in Lao


async def test_the_session_id_is_never_stored_only_its_hash(
    console: Console, browser: httpx.AsyncClient
) -> None:
    await sign_in(browser)
    value = browser.cookies[SESSION]
    async with console.app.state.sessions() as db:
        from sqlalchemy import text

        rows = (await db.execute(text("SELECT id_hash FROM console_sessions"))).scalars().all()
    assert value not in rows
    from services.console.sessions.domain import digest

    assert digest(value) in rows


async def test_the_picker_names_each_missing_choice_beside_it_in_lao(
    browser: httpx.AsyncClient,
) -> None:
    token = hidden_fields((await browser.get("/sign-in")).text)["csrf_token"]
    refused = await browser.post("/sign-in/dev", data={"csrf_token": token, "role": "pilot"})
    assert refused.status_code == 422
    assert 'href="#f-role"' in refused.text
    assert 'href="#f-office_code"' in refused.text
    assert "ກະລຸນາເລືອກໜ້າທີ່ຂອງທ່ານ." in refused.text
    assert "ກະລຸນາເລືອກຫ້ອງການຂອງທ່ານ." in refused.text
    assert SESSION not in browser.cookies


async def test_a_form_sent_without_its_csrf_token_is_refused_with_a_page(
    browser: httpx.AsyncClient,
) -> None:
    # Signed out: the sign-in form itself (no one can be signed in from another site).
    refused = await browser.post("/sign-in/dev", data={"role": "admin", "office_code": "ESC-VT"})
    assert refused.status_code == 403
    assert refused.headers["content-type"].startswith("text/html")
    assert "ແບບຟອມນີ້ໝົດອາຍຸແລ້ວ" in refused.text
    assert SESSION not in browser.cookies

    await sign_in(browser)
    wrong = await browser.post("/sign-out", data={"csrf_token": "x" * 43})
    assert wrong.status_code == 403
    assert (await browser.get("/")).status_code == 200, "still signed in: nothing was done"
    # htmx sends the token as a header (hx-headers on <body>).
    token = await csrf_of(browser)
    out = await browser.post("/sign-out", headers={"X-CSRF-Token": token})
    assert out.status_code == 303


async def test_signing_out_ends_the_session_on_the_server(
    console: Console, browser: httpx.AsyncClient
) -> None:
    await sign_in(browser)
    stolen = browser.cookies[SESSION]
    token = await csrf_of(browser)
    out = await browser.post("/sign-out", data={"csrf_token": token})
    assert out.headers["location"] == "/sign-in?ended=signed_out"
    assert "ທ່ານໄດ້ອອກຈາກລະບົບແລ້ວ." in (await browser.get(out.headers["location"])).text
    # A copy of the cookie taken before sign-out opens nothing.
    async with console.browser() as thief:
        thief.cookies.set(SESSION, stolen, domain="console.test")
        assert (await thief.get("/")).status_code == 303


async def test_an_idle_session_ends_and_says_why(
    browser: httpx.AsyncClient, clock: Callable[[timedelta], None]
) -> None:
    await sign_in(browser)
    clock(timedelta(seconds=IDLE_S * 0.9))
    assert (await browser.get("/")).status_code == 200  # in use: the idle time starts again
    clock(timedelta(seconds=IDLE_S * 0.9))
    assert (await browser.get("/")).status_code == 200
    clock(timedelta(seconds=IDLE_S + 1))
    ended = await browser.get("/people?q=Somsak")
    assert ended.status_code == 303
    assert ended.headers["location"] == "/sign-in?next=/people%3Fq%3DSomsak&ended=idle"
    page = await browser.get(ended.headers["location"])
    assert "ທ່ານຖືກອອກຈາກລະບົບ ເພາະບໍ່ໄດ້ໃຊ້ງານມາໄລຍະໜຶ່ງ." in page.text


async def test_a_session_ends_at_the_absolute_timeout_however_busy(
    browser: httpx.AsyncClient, clock: Callable[[timedelta], None]
) -> None:
    await sign_in(browser)
    steps = int(ABSOLUTE_S // (IDLE_S / 2))
    for _ in range(steps - 1):
        clock(timedelta(seconds=IDLE_S / 2))
        assert (await browser.get("/")).status_code == 200
    clock(timedelta(seconds=IDLE_S / 2 + 1))
    ended = await browser.get("/")
    assert ended.headers["location"] == "/sign-in?next=/&ended=expired"


async def test_an_administrator_revokes_every_session_of_an_officer(
    console: Console, browser: httpx.AsyncClient
) -> None:
    await sign_in(browser, office="ESC-LP")
    async with console.browser() as other_tab:
        await sign_in(other_tab, office="ESC-LP")
        async with console.app.state.sessions() as db, db.begin():
            ended = await sessions.revoke_officer(
                db, "dev-esc-lp-esc-staff", now=console.state.clock()
            )
        assert ended == 2
        for client in (browser, other_tab):
            answer = await client.get("/")
            assert answer.headers["location"] == "/sign-in?next=/&ended=revoked"


async def test_a_token_the_services_refuse_signs_the_officer_out(
    console: Console, browser: httpx.AsyncClient
) -> None:
    await sign_in(browser)
    from sqlalchemy import update

    from services.console.sessions.domain import digest
    from services.console.sessions.models import ConsoleSession

    async with console.app.state.sessions() as db, db.begin():
        await db.execute(
            update(ConsoleSession)
            .where(ConsoleSession.id_hash == digest(browser.cookies[SESSION]))
            .values(token="not-a-token")
        )
    answer = await browser.get("/people")
    assert answer.headers["location"] == "/sign-in?next=/people&ended=token_rejected"
    assert (await browser.get("/")).status_code == 303


async def test_the_language_switch_holds_in_the_session_and_signed_out(
    browser: httpx.AsyncClient,
) -> None:
    token = hidden_fields((await browser.get("/sign-in")).text)["csrf_token"]
    switched = await browser.post(
        "/language", data={"csrf_token": token, "language": "en", "next": "/sign-in"}
    )
    assert switched.headers["location"] == "/sign-in"
    page = await browser.get("/sign-in")
    assert '<html lang="en">' in page.text
    assert "Sign in" in page.text
    await sign_in(browser)
    home = await browser.get("/")
    assert "People awaiting follow-up" in home.text
    back = await browser.post(
        "/language",
        data={"csrf_token": hidden_fields(home.text)["csrf_token"], "language": "lo", "next": "/"},
    )
    assert back.headers["location"] == "/"
    assert "ຜູ້ທີ່ລໍຖ້າການຕິດຕາມ" in (await browser.get("/")).text


async def test_sign_in_never_sends_the_officer_to_another_site(console: Console) -> None:
    for target in ("https://evil.example/", "//evil.example/", "/\\evil.example"):
        async with console.browser() as browser:
            done = await sign_in(browser, next=target)
            assert done.headers["location"] == "/"
