"""What the console serves for offline capture, asked over HTTP of the running console: the
service worker at the root (its scope, never cached stale, this release's files to keep), the
offline script's words in both languages, and the session check the script sends with."""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING

import httpx
import pytest

from services.console.offline.messages import MESSAGES

if TYPE_CHECKING:
    from collections.abc import AsyncIterator


@pytest.fixture
async def console(console_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=console_url, timeout=30) as client:
        yield client


def _settings(script: str) -> dict[str, object]:
    first, _, _ = script.partition("\n")
    found = re.fullmatch(r"self\.LABOURX_OFFLINE = (\{.*\});", first)
    assert found, first
    settings: dict[str, object] = json.loads(found[1])
    return settings


async def test_the_service_worker_is_served_at_the_root_for_every_page_and_never_kept_stale(
    console: httpx.AsyncClient,
) -> None:
    worker = await console.get("/sw.js")
    assert worker.status_code == 200
    assert worker.headers["content-type"].startswith("text/javascript")
    assert worker.headers["service-worker-allowed"] == "/"
    assert worker.headers["cache-control"] == "no-cache"
    settings = _settings(worker.text)
    # This release's cache: every file it keeps ahead answers, under this release's version.
    precache = settings["precache"]
    assert isinstance(precache, list)
    version = str(settings["cache"]).removeprefix("labourx-console-")
    assert any(url.endswith("/offline/offline.js") for url in precache)
    assert any(url.endswith("/console.css") for url in precache)
    assert any(url.endswith(".woff2") for url in precache)
    assert not any(url.endswith((".txt", "sw.js")) for url in precache)
    for url in precache:
        assert f"/{version}/" in url, url
        assert (await console.get(url)).status_code == 200, url
    assert settings["pages"] == ["/offline/waiting", "/offline/unavailable", "/register"]


async def test_the_offline_words_are_served_in_lao_and_english(
    console: httpx.AsyncClient,
) -> None:
    worker = _settings((await console.get("/sw.js")).text)
    precache = worker["precache"]
    assert isinstance(precache, list)
    words = {}
    for language in ("lo", "en"):
        url = next(u for u in precache if u.endswith(f"/{language}.json"))
        answer = await console.get(url)
        assert answer.status_code == 200, url
        assert answer.headers["cache-control"].endswith("immutable")
        words[language] = answer.json()
    assert set(words["lo"]["messages"]) == set(MESSAGES)
    for key, text in words["lo"]["messages"].items():
        assert re.search("[\u0e80-\u0eff]", text), (key, text)
    assert words["en"]["messages"]["count"] == "Waiting to send: %(count)s"
    assert words["lo"]["forms"]["registration"]["name"][0] == ["given_name_lo", "family_name_lo"]
    # Another language is nothing; an old release's words are not kept for a year.
    old = url.replace(str(worker["cache"]).removeprefix("labourx-console-"), "0ld")
    assert (await console.get(old)).headers["cache-control"] == "no-cache"
    assert (await console.get("/offline/messages/x/fr.json")).status_code == 404


async def test_the_session_check_gives_the_token_to_send_with_only_to_a_signed_in_browser(
    console: httpx.AsyncClient,
) -> None:
    signed_out = await console.get("/offline/session")
    assert signed_out.json() == {"signed_in": False, "officer": None, "csrf_token": None}
    assert signed_out.headers["cache-control"] == "no-store"
    page = await console.get("/sign-in")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    await console.post(
        "/sign-in/dev",
        data={"csrf_token": token[1], "role": "esc_staff", "office_code": "ESC-VT", "next": "/"},
    )
    signed_in = (await console.get("/offline/session")).json()
    assert signed_in["signed_in"] is True
    assert signed_in["officer"] == "dev-esc-vt-esc-staff"
    home = await console.get("/")
    assert f'"X-CSRF-Token": "{signed_in["csrf_token"]}"' in home.text
