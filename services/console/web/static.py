"""The console's static files (its CSS and script, and the vendored htmx and Lao font), served
by the console itself under a URL that changes with their content, so a browser on a weak
link keeps them a year and asks again only after an upgrade.
"""

from __future__ import annotations

import gzip
import hashlib
import mimetypes
from dataclasses import dataclass
from pathlib import Path

from starlette.responses import Response

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
PREFIX = "/static"
# Text compresses; woff2 fonts and images already are.
_COMPRESSIBLE = {".css", ".js", ".json", ".txt", ".svg"}
_TYPES = {".woff2": "font/woff2", ".js": "text/javascript; charset=utf-8"}


@dataclass(frozen=True)
class StaticFile:
    body: bytes
    gzipped: bytes | None
    media_type: str


class StaticFiles:
    """Every file under static/, read once at start (a few hundred KB)."""

    def __init__(self, root: Path = STATIC_DIR) -> None:
        self.files: dict[str, StaticFile] = {}
        content = hashlib.sha256()
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            name = path.relative_to(root).as_posix()
            body = path.read_bytes()
            content.update(name.encode() + b"\0" + body)
            suffix = path.suffix.lower()
            media_type = _TYPES.get(suffix) or (
                mimetypes.guess_type(name)[0] or "application/octet-stream"
            )
            if media_type.startswith("text/") and "charset" not in media_type:
                media_type += "; charset=utf-8"
            packed = gzip.compress(body, 9, mtime=0) if suffix in _COMPRESSIBLE else None
            self.files[name] = StaticFile(body, packed, media_type)
        self.version = content.hexdigest()[:12]

    def url(self, name: str) -> str:
        if name not in self.files:
            raise KeyError(f"no static file {name!r}")
        return f"{PREFIX}/{self.version}/{name}"

    def response(self, version: str, name: str, accept_encoding: str) -> Response | None:
        found = self.files.get(name)
        if found is None:
            return None
        # An old page asking for an older version gets today's file, kept only briefly.
        cache = "public, max-age=31536000, immutable" if version == self.version else "no-cache"
        headers = {"Cache-Control": cache, "X-Content-Type-Options": "nosniff"}
        if found.gzipped is not None:
            headers["Vary"] = "Accept-Encoding"
            if "gzip" in accept_encoding:
                headers["Content-Encoding"] = "gzip"
                return Response(found.gzipped, media_type=found.media_type, headers=headers)
        return Response(found.body, media_type=found.media_type, headers=headers)
