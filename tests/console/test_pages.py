"""Small pages for a weak link: gzip, under 100 KB with their script and style (fonts aside),
static files versioned and cached a year, nothing loaded from anywhere but the console."""

from __future__ import annotations

import gzip
import re
from typing import TYPE_CHECKING

from tests.console.conftest import Console, sign_in

if TYPE_CHECKING:
    import httpx

PAGE_BUDGET = 100 * 1024


async def _wire_size(browser: httpx.AsyncClient, url: str) -> int:
    """Bytes sent for `url` as a browser asking for gzip receives them."""
    answer = await browser.get(url)
    assert answer.status_code == 200, url
    raw = answer.headers.get("content-length")
    return int(raw) if raw else len(answer.content)


async def test_main_pages_weigh_under_100_kb_compressed_with_their_script_and_style(
    browser: httpx.AsyncClient,
) -> None:
    await sign_in(browser)
    for path in ("/", "/people", "/people?q=Somsak", "/sign-in"):
        page = await browser.get(path, follow_redirects=True)
        assert page.status_code == 200, path
        if len(page.content) > 860:
            assert page.headers.get("content-encoding") == "gzip", path
        assets = re.findall(r'(?:src|href)="(/static/[^"]+\.(?:js|css))"', page.text)
        assert assets, path
        total = len(gzip.compress(page.content)) + sum(
            [await _wire_size(browser, a) for a in assets]
        )
        assert total < PAGE_BUDGET, (path, total)
        # Nothing from a CDN: offices may have no route to one.
        assert not re.search(r'(?:src|href)="(?:https?:)?//', page.text), path


async def test_static_files_are_versioned_cached_a_year_and_the_lao_font_is_the_consoles(
    browser: httpx.AsyncClient, console: Console
) -> None:
    page = await browser.get("/sign-in")
    css_url = re.search(r'href="(/static/[^"]+/console\.css)"', page.text)
    assert css_url
    css = await browser.get(css_url[1])
    assert css.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert css.headers["content-encoding"] == "gzip"
    assert 'font-family:"Noto Sans Lao"' in css.text
    assert "font-display:swap" in css.text
    font = re.search(r"url\((vendor/noto-sans-lao-lao-400\.woff2)\)", css.text)
    assert font
    # Relative to the stylesheet: the font's URL carries the same version.
    woff2 = await browser.get(css_url[1].rsplit("/", 1)[0] + "/" + font[1])
    assert woff2.status_code == 200
    assert woff2.headers["content-type"] == "font/woff2"
    assert woff2.headers["cache-control"].endswith("immutable")
    assert woff2.content[:4] == b"wOF2"
    # A page from before an upgrade asking for an old version is not cached for a year.
    old = await browser.get(css_url[1].replace(console.state.static.version, "0ld"))
    assert old.headers["cache-control"] == "no-cache"


async def test_an_unknown_address_is_a_page_in_the_officers_language(
    browser: httpx.AsyncClient,
) -> None:
    missing = await browser.get("/no/such/page")
    assert missing.status_code == 404
    assert missing.headers["content-type"].startswith("text/html")
    assert "ບໍ່ພົບໜ້ານີ້" in missing.text


async def test_the_console_is_a_labourx_service_like_the_others(
    browser: httpx.AsyncClient,
) -> None:
    assert (await browser.get("/healthz")).json() == {"status": "ok"}
    assert (await browser.get("/metrics")).status_code == 200
    docs = await browser.get("/docs")
    assert docs.status_code == 200
    assert "/docs-assets/" in docs.text
    refused = await browser.get("/sign-in", params={"nxt": "/"})
    assert refused.status_code == 422  # an unknown query parameter is refused, not ignored
