"""The service worker, the waiting list, and what the offline script asks the console."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from services.console import i18n
from services.console.offline import forms
from services.console.offline.messages import messages
from services.console.web.api import console_router
from services.console.web.page import PageDep
from services.console.web.routing import ConsoleRoute
from services.console.web.state import console_of
from services.console.web.static import STATIC_DIR

SERVICE_WORKER = STATIC_DIR / "offline" / "sw.js"
CACHE_PREFIX = "labourx-console-"
# Kept by the service worker ahead of need: what the form pages load. Licences and the
# vendoring record are not.
_NOT_KEPT = (".txt", "VERSIONS.json", "offline/sw.js")

# No session needed: a router without the page dependency (no database round trip).
assets = APIRouter(route_class=ConsoleRoute, include_in_schema=False)
router = console_router()


def messages_url(version: str, language: str) -> str:
    return f"/offline/messages/{version}/{language}.json"


@assets.get("/sw.js")
async def service_worker(request: Request) -> Response:
    """The service worker, at the root so its scope is every console page; its settings
    (this release's static files, cache name, pages) are written in front of the script, so
    each release is a new worker that drops the previous release's cache."""
    static = console_of(request).static
    kept = [static.url(name) for name in static.files if not name.endswith(_NOT_KEPT)]
    settings = {
        "cache": CACHE_PREFIX + static.version,
        "cachePrefix": CACHE_PREFIX,
        "precache": kept + [messages_url(static.version, lang) for lang in i18n.LANGUAGES],
        "pages": forms.pages(),
        "waiting": forms.WAITING_PAGE,
        "unavailable": forms.UNAVAILABLE_PAGE,
        "scripts": [static.url("vendor/idb-keyval.js"), static.url("offline/queue.js")],
    }
    body = f"self.LABOURX_OFFLINE = {json.dumps(settings)};\n" + _script(SERVICE_WORKER)
    return Response(
        body,
        media_type="text/javascript; charset=utf-8",
        headers={
            # Checked on every page load (browsers bypass their cache for it anyway).
            "Cache-Control": "no-cache",
            "Service-Worker-Allowed": "/",
        },
    )


def _script(path: Path) -> str:
    return path.read_text(encoding="utf-8")


@assets.get("/offline/messages/{version}/{language}.json")
async def offline_messages(version: str, language: str, request: Request) -> Response:
    """The offline script's words in one language, under this release's version."""
    console = console_of(request)
    chosen = i18n.as_language(language)
    if chosen is None:
        return Response(status_code=404)
    # An older page asking with an older version gets today's words, not kept for long.
    current = version == console.static.version
    cache = "public, max-age=31536000, immutable" if current else "no-cache"
    return JSONResponse(messages(console.catalogues[chosen]), headers={"Cache-Control": cache})


@router.get(forms.WAITING_PAGE)
async def waiting(
    page: PageDep,
    saved: Annotated[str | None, Query(max_length=100)] = None,
) -> Response:
    """What this browser holds to send: drawn by the offline script from the browser's own
    storage (the server knows nothing of it); signed out too, so an ended session can see it.
    `saved` names the form just kept (the script says so)."""
    return page.render("offline/waiting.html", forms=forms.FORMS)


@router.get(forms.UNAVAILABLE_PAGE)
async def unavailable(page: PageDep) -> Response:
    """Shown by the service worker, offline, for a page that needs the connection."""
    return page.render("offline/unavailable.html", 200, forms=forms.FORMS)


@router.get(forms.SESSION_URL)
async def session(page: PageDep) -> Response:
    """Whether this browser is signed in, as whom, and the CSRF token to send with: asked by
    the offline script before it sends what was kept (its page may be an old copy)."""
    officer = page.officer
    return JSONResponse(
        {
            "signed_in": officer is not None,
            "officer": officer.subject if officer else None,
            "csrf_token": page.csrf_token if officer else None,
        }
    )
