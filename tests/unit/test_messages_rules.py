"""Rendering and counting SMS, as a gateway would bill them."""

from __future__ import annotations

import pytest
from jinja2 import UndefinedError

from services.notify.messages.domain import display_name
from services.notify.templates.domain import sms_segments
from services.notify.templates.sandbox import RenderError, render


def test_plain_latin_text_fits_160_gsm_characters() -> None:
    assert sms_segments("a" * 160) == 1
    assert sms_segments("a" * 161) == 2
    assert sms_segments("a" * 306) == 2
    assert sms_segments("a" * 307) == 3


def test_gsm_extension_characters_count_twice() -> None:
    assert sms_segments("€" * 80) == 1
    assert sms_segments("€" * 81) == 2


def test_lao_script_needs_ucs2_with_70_characters_a_segment() -> None:
    assert sms_segments("ສ" * 70) == 1
    assert sms_segments("ສ" * 71) == 2
    assert sms_segments("ສ" * 134) == 2
    assert sms_segments("ສ" * 135) == 3


def test_a_missing_template_variable_is_an_error_not_a_blank() -> None:
    assert render("ສະບາຍດີ {{ name }}", {"name": "ນ້ອຍ"}) == "ສະບາຍດີ ນ້ອຍ"
    with pytest.raises(RenderError, match="'name' is undefined") as raised:
        render("Hello {{ name }}", {})
    assert isinstance(raised.value.__cause__, UndefinedError)


def test_templates_cannot_reach_python_internals() -> None:
    with pytest.raises(Exception, match=r"unsafe|not safely"):
        render("{{ ''.__class__.__mro__[1].__subclasses__() }}", {})


def test_people_are_greeted_in_the_script_of_the_message() -> None:
    assert display_name("lo", "ສົມສັກ", "Somsak") == "ສົມສັກ"
    assert display_name("en", "ສົມສັກ", "Somsak") == "Somsak"
    assert display_name("lo", None, "Somsak") == "Somsak"
