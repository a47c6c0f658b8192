"""Pure rules of templates: which keys and variables exist, rendering, and counting SMS
segments as a gateway bills them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from jinja2 import TemplateSyntaxError

from services.notify.templates.sandbox import RenderError, render, variables
from shared import clock

# GSM 03.38 basic character set; anything outside it (Lao script included) forces UCS-2.
_GSM7 = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM7_EXTENDED = set("^{}\\[~]|€")


@dataclass(frozen=True)
class SmsLength:
    """How a gateway counts a text: its encoding, units (septets or UTF-16 units), parts."""

    encoding: str
    units: int
    segments: int
    per_segment: int


def sms_length(text: str) -> SmsLength:
    """Count `text` as a gateway would (GSM-7: 160 a part, 153 when split; UCS-2: 70/67)."""
    if all(c in _GSM7 or c in _GSM7_EXTENDED for c in text):
        units = sum(2 if c in _GSM7_EXTENDED else 1 for c in text)
        encoding, single, multi = "GSM-7", 160, 153
    else:
        # UCS-2 counts UTF-16 code units; Lao is in the BMP, so one each.
        units = len(text.encode("utf-16-le")) // 2
        encoding, single, multi = "UCS-2", 70, 67
    if units <= single:
        return SmsLength(encoding, units, 1, single)
    return SmsLength(encoding, units, -(-units // multi), multi)


def sms_segments(text: str) -> int:
    """How many SMS parts a gateway bills for `text`."""
    return sms_length(text).segments


CHANNELS = ("sms", "email")
LANGUAGES = ("lo", "en", "th")

# Every message key and the variables its templates may use, with the sample values a preview
# renders when none are given. A template naming anything else is refused when it is saved,
# not discovered when the first real message fails.
_SOMEONE = {"name": "ສົມສັກ"}
# Messages that name the office holding the person (its name, never its code).
_OFFICE = {"office_name": "ສູນບໍລິການຂໍ້ມູນແຮງງານເຄື່ອນຍ້າຍ ແຂວງສະຫວັນນະເຂດ"}
_JOB = {"vacancy_title": "ພະນັກງານຕັດຫຍິບ", "vacancy_reference": "V-2026-0042"}
_SESSION = {"starts_at": "08/12/2026 08:30", "venue": "MRC Savannakhet"}
SAMPLES: dict[str, dict[str, Any]] = {
    "welcome": _SOMEONE | _OFFICE | {"reference": "P-7K3M9Q2X"},
    "welcome_migrant": _SOMEONE | _OFFICE | {"reference": "P-7K3M9Q2X"},
    "referral": _SOMEONE | _OFFICE | _JOB,
    "interview": _SOMEONE | _OFFICE | _JOB,
    "offer": _SOMEONE | _OFFICE | _JOB,
    "placement_confirmed": _SOMEONE | _JOB | {"starts_on": "02/01/2027"},
    "orientation_required": _SOMEONE | {"destination": "ປະເທດໄທ"},
    "orientation_invitation": _SOMEONE | _SESSION,
    "orientation_waitlisted": _SOMEONE | _SESSION,
    "orientation_cancelled": _SOMEONE | _SESSION,
    "session_changed": _SOMEONE | _SESSION,
    "certificate_issued": _SOMEONE
    | {"certificate_number": "PDO-SV-2026-000123", "valid_until": "30/11/2027"},
    "return_reminder": _SOMEONE
    | {"destination": "ປະເທດໄທ", "return_due_on": "15/03/2027", "days_left": 60},
}
KEYS = tuple(SAMPLES)


def template_problems(key: str, text: str) -> list[str]:
    """What is wrong with a template text for `key`: bad syntax, a construct templates may not
    use, unknown variables, or a failure to render with the key's sample values (so that what
    is saved is known to render, within the sandbox's bounds, before a real message needs it)."""
    try:
        used = variables(text)
    except TemplateSyntaxError as error:
        return [f"line {error.lineno}: {error.message}"]
    unknown = sorted(used - set(SAMPLES.get(key, {})))
    if unknown:
        allowed = ", ".join(sorted(SAMPLES.get(key, {})))
        return [f"unknown variable(s) {', '.join(unknown)}; {key!r} offers: {allowed}"]
    try:
        render(text, SAMPLES[key])
    except RenderError as error:
        return [f"does not render with the sample values: {error}"]
    return []


def local_text(value: Any) -> Any:
    """How a date or time reads in a message: day first, times in Vientiane."""
    if isinstance(value, datetime):
        return value.astimezone(clock.LAO_TIME).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, date):
        return value.strftime("%d/%m/%Y")
    return value
