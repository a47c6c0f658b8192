"""Pure rules for messages: rendering templates and counting SMS segments."""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, Template
from jinja2.sandbox import SandboxedEnvironment

# GSM 03.38 basic character set; anything outside it (Lao script included) forces UCS-2.
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€")

_env = SandboxedEnvironment(undefined=StrictUndefined, autoescape=False)


@lru_cache(maxsize=512)
def _compiled(template_body: str) -> Template:
    # Compiling costs far more than rendering; templates change rarely, messages are many.
    return _env.from_string(template_body)


def render(template_body: str, context: Mapping[str, Any]) -> str:
    """Render a template; a missing variable is an error, never a blank."""
    return _compiled(template_body).render(**context).strip()


def sms_segments(text: str) -> int:
    """How many SMS parts a gateway bills for `text` (GSM-7: 160/153, UCS-2: 70/67)."""
    if all(c in _GSM7 or c in _GSM7_EXTENDED for c in text):
        units = sum(2 if c in _GSM7_EXTENDED else 1 for c in text)
        single, multi = 160, 153
    else:
        # UCS-2 counts UTF-16 code units; Lao is in the BMP, so one each.
        units = len(text.encode("utf-16-le")) // 2
        single, multi = 70, 67
    if units <= single:
        return 1
    return -(-units // multi)


def display_name(language: str, given_lo: str | None, given_en: str | None) -> str:
    """The name to greet someone by, in the script of the message's language when known."""
    if language == "lo":
        return given_lo or given_en or ""
    return given_en or given_lo or ""
