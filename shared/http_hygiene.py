"""Headers every response of every service carries, and the API documentation page under a
strict Content Security Policy (docs/security.md, "Response hygiene").

A response that sets one of these headers itself keeps its own: the console's pages have their
CSP and Referrer-Policy, its static files and the documentation assets may be cached.
"""

from __future__ import annotations

import base64
import hashlib
import re
from typing import TYPE_CHECKING

from fastapi.openapi.docs import get_swagger_ui_html
from starlette.responses import HTMLResponse

if TYPE_CHECKING:
    from collections.abc import Callable

    from starlette.types import Message, Scope

    from shared.settings import Settings

# What a JSON answer needs: nothing may load, nothing may frame it (OWASP's REST advice). Pages
# set a policy of their own.
API_CSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
# One year; browsers keep to https for the host once they saw it over https (they ignore it
# over http, so a development machine on http://127.0.0.1 is never pinned).
HSTS = "max-age=31536000"


class ResponseHygiene:
    """Adds, unless the response set them: `Cache-Control: no-store` (answers carry people's
    records; none may be kept by a browser or proxy) except under `cacheable` paths, `nosniff`,
    `Referrer-Policy: no-referrer`, a CSP, and HSTS outside development. Not a middleware of its
    own: the request context's (shared.observability) calls it as the answer starts, one layer
    around the app instead of two."""

    def __init__(self, settings: Settings, cacheable: tuple[str, ...]) -> None:
        self.cacheable = cacheable
        defaults = [
            ("X-Content-Type-Options", "nosniff"),
            ("Referrer-Policy", "no-referrer"),
            ("Content-Security-Policy", API_CSP),
        ]
        if settings.env != "development":
            defaults.append(("Strict-Transport-Security", HSTS))
        # As the headers go on the wire (lower-case names, latin-1), worked out once.
        self.defaults = [(n.lower().encode("latin-1"), v.encode("latin-1")) for n, v in defaults]
        self.no_store = (b"cache-control", b"no-store")

    def stores(self, scope: Scope) -> bool:
        """Whether an answer to this request may be kept (the documentation and its assets)."""
        path: str = scope["path"]
        return path.startswith(self.cacheable)

    def add(self, message: Message, *, cacheable: bool) -> list[tuple[bytes, bytes]]:
        """The `http.response.start` message's headers with those it lacks added (a list the
        caller may extend)."""
        headers = list(message.get("headers", ()))
        present = {name.lower() for name, _ in headers}
        headers += [header for header in self.defaults if header[0] not in present]
        if not cacheable and b"cache-control" not in present:
            headers.append(self.no_store)
        return headers


_INLINE_SCRIPT = re.compile(r"<script>(.*?)</script>", re.DOTALL)


def swagger_page(title: str, openapi_url: str, assets: str) -> Callable[[], HTMLResponse]:
    """The Swagger UI page, made once, and a CSP that lets its one inline script (the UI's
    set-up) run by its hash and nothing else inline: every other script, style and image comes
    from this service (the vendored copy under `assets`)."""
    page = get_swagger_ui_html(
        openapi_url=openapi_url,
        title=title,
        swagger_js_url=f"{assets}/swagger-ui-bundle.js",
        swagger_css_url=f"{assets}/swagger-ui.css",
        swagger_favicon_url=f"{assets}/favicon-32x32.png",
    )
    body = bytes(page.body)
    hashes = " ".join(
        f"'sha256-{base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()}'"
        for script in _INLINE_SCRIPT.findall(body.decode())
    )
    csp = (
        f"default-src 'none'; script-src 'self' {hashes}; style-src 'self';"
        " img-src 'self' data:; font-src 'self'; connect-src 'self'; frame-ancestors 'none';"
        " base-uri 'none'; form-action 'none'"
    )

    def answer() -> HTMLResponse:
        return HTMLResponse(body, headers={"Content-Security-Policy": csp})

    return answer
