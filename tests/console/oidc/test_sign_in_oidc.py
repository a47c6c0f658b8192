"""Officers sign in to the console at a real OpenID provider (authorization code with PKCE),
and the services see the same officer: the console calls them with the officer's own access
token, which never reaches the browser; refreshed before it runs out; sign-out ends both the
console's session and the provider's."""

from __future__ import annotations

import asyncio
import time
import uuid
from typing import Any

import asyncpg
import httpx
import jwt
from sqlalchemy import select

from services.console.auth.oidc_models import SessionGrant, SignInFlow
from services.console.sessions.models import ConsoleSession
from shared.db import asyncpg_dsn
from tests.console.conftest import CONSOLE_URL
from tests.console.oidc.conftest import (
    CALLBACK,
    LABOURX_API,
    OTHER_API,
    SIGNED_OUT,
    OidcConsole,
    form_of,
    provider_token,
    sign_in_with_provider,
    through_provider,
)
from tests.support import jobseeker

SESSION = "__Host-labourx-session"


async def _session_of(console: OidcConsole, browser: httpx.AsyncClient) -> ConsoleSession:
    from services.console.sessions.domain import digest

    async with console.app.state.sessions() as db:
        found = await db.get(ConsoleSession, digest(browser.cookies[SESSION]))
    assert found is not None
    return found


async def _register_in_champasak(console: OidcConsole) -> dict[str, Any]:
    """A jobseeker registered at the registry with a token the provider gave officer-ch."""
    token = await provider_token(console.provider, "officer-ch", LABOURX_API)
    async with console.registry_client() as registry:
        made = await registry.post(
            "/v1/jobseekers",
            json=jobseeker(province_code="LA-CH"),
            headers={"Authorization": f"Bearer {token}"},
        )
    assert made.status_code == 201, made.text
    person: dict[str, Any] = made.json()
    return person


async def _audit(console: OidcConsole, person_id: str) -> list[tuple[str, str, str, str]]:
    """The registry's audit trail of one person, read from its own database."""
    dsn = asyncpg_dsn(console.settings.service_database_url("registry"))
    connection = await asyncpg.connect(dsn)
    try:
        rows = await connection.fetch(
            "SELECT actor, office_code, action, basis FROM audit_log"
            " WHERE person_id = $1 ORDER BY id",
            uuid.UUID(person_id),
        )
    finally:
        await connection.close()
    return [(r["actor"], r["office_code"], r["action"], r["basis"]) for r in rows]


async def test_an_officer_signs_in_at_the_provider_and_the_registry_sees_that_officer(
    oidc_console: OidcConsole, browser: httpx.AsyncClient
) -> None:
    person = await _register_in_champasak(oidc_console)

    first = await browser.get(f"{CONSOLE_URL}/people/{person['reference']}")
    assert first.status_code == 303  # to the sign-in page, and back here afterwards
    done = await sign_in_with_provider(browser, "officer-ch", next=f"/people/{person['reference']}")
    assert done.status_code == 303, done.text
    assert done.headers["location"] == f"/people/{person['reference']}"

    session = await _session_of(oidc_console, browser)
    assert (session.method, session.subject, session.roles) == ("oidc", "officer-ch", ["esc_staff"])
    assert (session.office_code, session.province_code) == ("ESC-CH", "LA-CH")
    claims = jwt.decode(session.token, options={"verify_signature": False})
    assert (claims["iss"], claims["aud"]) == (oidc_console.provider.issuer, "labourx")

    shown = await browser.get(f"{CONSOLE_URL}/people/{person['reference']}")
    assert shown.status_code == 200, shown.text
    assert '<html lang="lo">' in shown.text
    assert person["given_name_lo"] in shown.text
    # The registry saw the provider's officer, with their office, reading the record.
    assert ("officer-ch", "ESC-CH", "read", "province") in await _audit(oidc_console, person["id"])
    # The token stays in the console: no cookie, no page carries it.
    assert all(session.token not in (cookie.value or "") for cookie in browser.cookies.jar)
    assert session.token not in shown.text


async def test_the_console_asks_for_the_code_with_pkce_and_a_nonce(
    oidc_console: OidcConsole, browser: httpx.AsyncClient
) -> None:
    start = await browser.get(f"{CONSOLE_URL}/sign-in/oidc", params={"next": "/people"})
    assert start.status_code == 303
    asked = httpx.URL(start.headers["location"])
    assert str(asked).startswith(oidc_console.provider.issuer)
    params = asked.params
    assert params["response_type"] == "code"
    assert params["client_id"] == "labourx-console"
    assert params["code_challenge_method"] == "S256"
    assert len(params["code_challenge"]) == 43
    assert params["nonce"]
    assert params["state"]
    assert params["redirect_uri"] == CALLBACK
    assert params["resource"] == LABOURX_API
    # The verifier and nonce stay on the server, bound to this browser by a cookie.
    async with oidc_console.app.state.sessions() as db:
        flow = await db.get(SignInFlow, params["state"])
    assert flow is not None
    assert flow.next == "/people"
    assert flow.data["code_verifier"] not in str(start.headers)
    cookie = next(c for c in start.headers.get_list("set-cookie") if "labourx-oidc" in c)
    flags = {part.strip().lower() for part in cookie.split(";")[1:]}
    assert {"httponly", "secure", "samesite=lax", "path=/"} <= flags


async def test_a_tampered_state_is_refused_and_no_one_is_signed_in(
    oidc_console: OidcConsole, browser: httpx.AsyncClient
) -> None:
    start = await browser.get(f"{CONSOLE_URL}/sign-in/oidc")
    callback = httpx.URL(await through_provider(browser, start, "officer-ch"))
    state = callback.params["state"]
    tampered = callback.copy_set_param("state", state[:-1] + ("A" if state[-1] != "A" else "B"))

    refused = await browser.get(tampered)

    assert refused.status_code == 400
    assert "ບໍ່ສາມາດເຂົ້າສູ່ລະບົບຄັ້ງນີ້ໃຫ້ສຳເລັດໄດ້" in refused.text  # in Lao
    assert SESSION not in browser.cookies
    assert (await browser.get(f"{CONSOLE_URL}/")).status_code == 303  # still signed out


async def test_a_callback_opened_in_another_browser_is_refused(
    oidc_console: OidcConsole, browser: httpx.AsyncClient
) -> None:
    """Someone who signed in at the provider cannot send their callback link to an officer
    to sign the officer's console in as themselves (login CSRF): the flow is this browser's."""
    start = await browser.get(f"{CONSOLE_URL}/sign-in/oidc")
    callback = await through_provider(browser, start, "officer-ch")
    async with oidc_console.browser() as other:
        refused = await other.get(callback)
        assert refused.status_code == 400
        assert SESSION not in other.cookies
    # The browser that started it still can, once.
    assert (await browser.get(callback)).status_code == 303
    assert (await browser.get(callback)).status_code == 400


async def test_a_token_for_another_audience_is_refused_by_the_apis(
    oidc_console: OidcConsole,
) -> None:
    ours = await provider_token(oidc_console.provider, "officer-ch", LABOURX_API)
    theirs = await provider_token(oidc_console.provider, "officer-ch", OTHER_API)
    assert jwt.decode(theirs, options={"verify_signature": False})["aud"] == "another-system"
    async with oidc_console.registry_client() as registry:
        accepted = await registry.get("/v1/offices", headers={"Authorization": f"Bearer {ours}"})
        refused = await registry.get("/v1/people", headers={"Authorization": f"Bearer {theirs}"})
    assert accepted.status_code == 200, accepted.text
    assert refused.status_code == 401
    assert "audience" in refused.json()["detail"].lower()


async def test_an_account_without_a_staff_role_or_with_an_unreadable_province_is_refused(
    oidc_console: OidcConsole, browser: httpx.AsyncClient
) -> None:
    partner = await sign_in_with_provider(browser, "partner-1")
    assert partner.status_code == 403
    assert "ບັນຊີຂອງທ່ານບໍ່ສາມາດໃຊ້ລະບົບພະນັກງານໄດ້" in partner.text
    assert "partner-1 holds no labourx staff role" in partner.text
    assert SESSION not in browser.cookies
    async with oidc_console.browser() as another:  # (this one is partner-1's at the provider)
        typo = await sign_in_with_provider(another, "officer-typo")
        assert typo.status_code == 403
        assert "not an ISO 3166-2:LA province code" in typo.text
        assert SESSION not in another.cookies


async def test_the_access_token_is_refreshed_before_it_runs_out(
    oidc_console: OidcConsole, browser: httpx.AsyncClient
) -> None:
    """officer-sv's tokens last 10 s, inside the console's 30 s margin: each page refreshes."""
    await sign_in_with_provider(browser, "officer-sv")
    first = await _session_of(oidc_console, browser)
    async with oidc_console.app.state.sessions() as db:
        grant = await db.get(SessionGrant, first.id_hash)
    assert grant is not None
    assert grant.refresh_token
    assert grant.refreshed_at is None

    # Several requests at once (as htmx sends them): one refresh, the others wait for it.
    pages = await asyncio.gather(*(browser.get(f"{CONSOLE_URL}/people") for _ in range(3)))

    assert [p.status_code for p in pages] == [200, 200, 200], [p.text[:300] for p in pages]
    renewed = await _session_of(oidc_console, browser)
    assert renewed.token != first.token
    old, new = (
        jwt.decode(t, options={"verify_signature": False}) for t in (first.token, renewed.token)
    )
    assert new["jti"] != old["jti"]
    assert new["sub"] == "officer-sv"
    async with oidc_console.app.state.sessions() as db:
        refreshed = await db.scalar(
            select(SessionGrant.refreshed_at).where(SessionGrant.session_hash == first.id_hash)
        )
    assert refreshed is not None


async def test_without_a_refresh_token_the_officer_signs_in_again_when_the_token_runs_out(
    oidc_console: OidcConsole, browser: httpx.AsyncClient
) -> None:
    await sign_in_with_provider(browser, "officer-vt")
    session = await _session_of(oidc_console, browser)
    expires = jwt.decode(session.token, options={"verify_signature": False})["exp"]
    assert (await browser.get(f"{CONSOLE_URL}/people")).status_code == 200  # within its life

    # The token's own expiry (2 s after sign-in) is the condition waited for.
    deadline = time.monotonic() + 30
    while time.time() <= expires:
        assert time.monotonic() < deadline, "the provider's token did not run out"
        await asyncio.sleep(0.2)
    after = await browser.get(f"{CONSOLE_URL}/people")

    assert after.status_code == 303
    assert after.headers["location"] == "/sign-in?next=/people&ended=expired"
    assert SESSION not in browser.cookies
    async with oidc_console.app.state.sessions() as db:
        ended = await db.get(ConsoleSession, session.id_hash)
        assert ended is not None
        assert ended.end_reason == "expired"
        assert await db.get(SessionGrant, session.id_hash) is not None
    # The next sign-in (anyone's) drops the tokens of sessions that have ended.
    async with oidc_console.browser() as another:
        await sign_in_with_provider(another, "officer-ch")
    async with oidc_console.app.state.sessions() as db:
        assert await db.get(SessionGrant, session.id_hash) is None


async def test_signing_out_ends_the_console_session_and_the_providers(
    oidc_console: OidcConsole, browser: httpx.AsyncClient
) -> None:
    await sign_in_with_provider(browser, "officer-ch")
    session = await _session_of(oidc_console, browser)
    home = await browser.get(f"{CONSOLE_URL}/people")
    csrf = dict(_hidden(home.text))["csrf_token"]

    out = await browser.post(f"{CONSOLE_URL}/sign-out", data={"csrf_token": csrf})

    assert out.status_code == 200
    assert "ທ່ານໄດ້ອອກຈາກລະບົບແລ້ວ." in out.text
    to_provider = httpx.URL(out.headers["refresh"].split("url=", 1)[1])
    assert str(to_provider).startswith(f"{oidc_console.provider.issuer}/session/end")
    assert to_provider.params["post_logout_redirect_uri"] == SIGNED_OUT
    assert to_provider.params["id_token_hint"]
    async with oidc_console.app.state.sessions() as db:
        ended = await db.get(ConsoleSession, session.id_hash)
        assert ended is not None
        assert ended.end_reason == "signed_out"
        assert await db.get(SessionGrant, session.id_hash) is None  # its tokens forgotten

    # At the provider: its confirmation form, then back to the console's sign-in page.
    confirm = await browser.get(to_provider)
    action, fields = form_of(confirm)
    back = await browser.post(action, data={**fields, "logout": "yes"})
    assert back.is_redirect
    assert back.headers["location"].startswith(f"{SIGNED_OUT}?state=")
    landed = await browser.get(back.headers["location"], follow_redirects=True)
    assert landed.url == f"{CONSOLE_URL}/sign-in?ended=signed_out"
    assert "ທ່ານໄດ້ອອກຈາກລະບົບແລ້ວ." in landed.text
    # Signed out there too: signing in again asks for the login, not a silent sign-in.
    start = await browser.get(f"{CONSOLE_URL}/sign-in/oidc")
    at_provider = await browser.get(start.headers["location"], follow_redirects=True)
    assert 'name="login"' in at_provider.text


def _hidden(html: str) -> list[tuple[str, str]]:
    import re

    return re.findall(r'name="(csrf_token)" value="([^"]*)"', html)
