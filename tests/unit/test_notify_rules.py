"""Pure rules of notify: who may be messaged on which channel, what templates may say."""

from __future__ import annotations

from datetime import UTC, date, datetime

from services.notify.contacts.domain import ChannelStanding, channel_open
from services.notify.messages.domain import country_name, localised
from services.notify.templates.defaults import default_templates
from services.notify.templates.domain import SAMPLES, render, sms_length, template_problems

TODAY = date(2026, 12, 1)


def test_a_channel_is_open_with_an_address_and_no_refusal() -> None:
    assert channel_open(ChannelStanding("+8562055551234", None, None), TODAY)
    assert channel_open(ChannelStanding("+8562055551234", "requested", None), TODAY)
    assert channel_open(ChannelStanding("+8562055551234", "given", date(2027, 1, 1)), TODAY)


def test_no_address_a_refusal_a_withdrawal_an_expiry_or_stop_closes_it() -> None:
    assert not channel_open(ChannelStanding(None, "given", None), TODAY)
    for status in ("refused", "withdrawn", "invalidated"):
        assert not channel_open(ChannelStanding("a@b.la", status, None), TODAY)
    assert not channel_open(ChannelStanding("a@b.la", "given", date(2026, 11, 30)), TODAY)
    stopped = ChannelStanding("+8562055551234", None, None, datetime(2026, 11, 1, tzinfo=UTC))
    assert not channel_open(stopped, TODAY)


def test_every_default_template_renders_its_samples_and_names_only_known_variables() -> None:
    templates = default_templates()
    assert {t["key"] for t in templates} == set(SAMPLES)
    for template in templates:
        assert template_problems(template["key"], template["body"]) == []
        assert render(template["body"], SAMPLES[template["key"]])


def test_default_lao_sms_fit_in_at_most_three_parts() -> None:
    for template in default_templates():
        if template["channel"] == "sms":
            length = sms_length(render(template["body"], SAMPLES[template["key"]]))
            assert length.segments <= 3, template["key"]


def test_times_read_in_vientiane_and_countries_in_the_message_language() -> None:
    facts = {"starts_at": datetime(2026, 12, 8, 1, 30, tzinfo=UTC), "destination": "TH"}
    assert localised(facts, "lo") == {"starts_at": "08/12/2026 08:30", "destination": "ປະເທດໄທ"}
    assert localised(facts, "en")["destination"] == "Thailand"
    assert country_name("XX", "lo") == "XX"


def test_unknown_variables_and_bad_syntax_are_named() -> None:
    assert "vacancy" in template_problems("welcome", "{{ vacancy }}")[0]
    assert template_problems("welcome", "{% if %}")[0].startswith("line 1")
