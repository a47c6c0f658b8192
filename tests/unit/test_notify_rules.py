"""Pure rules of notify: who may be messaged on which channel, what templates may say."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from services.notify.contacts.domain import ChannelStanding, channel_open, closes_channel
from services.notify.messages.domain import (
    PRIORITIES,
    country_name,
    late_welcome_due,
    localised,
    office_name,
    welcome_key,
)
from services.notify.templates.defaults import default_templates
from services.notify.templates.domain import SAMPLES, sms_length, template_problems
from services.notify.templates.sandbox import render
from shared.reference.offices import SEED_OFFICES

TODAY = date(2026, 12, 1)


def test_a_channel_is_open_only_with_a_consent_in_force_an_address_and_no_stop() -> None:
    assert channel_open(ChannelStanding("+8562055551234", "given", None), TODAY)
    assert channel_open(ChannelStanding("+8562055551234", "renewed", TODAY), TODAY)
    assert channel_open(ChannelStanding("+8562055551234", "given", date(2027, 1, 1)), TODAY)


def test_no_consent_on_record_or_one_only_requested_opens_nothing() -> None:
    assert not channel_open(ChannelStanding("+8562055551234", None, None), TODAY)
    assert not channel_open(ChannelStanding("+8562055551234", "requested", None), TODAY)
    assert closes_channel("requested", None, TODAY)


def test_no_address_a_refusal_a_withdrawal_an_expiry_or_stop_closes_it() -> None:
    assert not channel_open(ChannelStanding(None, "given", None), TODAY)
    for status in ("refused", "withdrawn", "invalidated"):
        assert not channel_open(ChannelStanding("a@b.la", status, None), TODAY)
        assert closes_channel(status, None, TODAY)
    assert not channel_open(ChannelStanding("a@b.la", "given", date(2026, 11, 30)), TODAY)
    stopped = ChannelStanding("+8562055551234", "given", None, datetime(2026, 11, 1, tzinfo=UTC))
    assert not channel_open(stopped, TODAY)


def test_a_jobseeker_gets_the_jobseeker_welcome_anyone_else_the_migrant_one() -> None:
    assert welcome_key(jobseeker=True) == "welcome"
    assert welcome_key(jobseeker=False) == "welcome_migrant"


def test_a_late_consent_brings_the_welcome_within_a_week_of_registering() -> None:
    registered = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
    assert late_welcome_due(registered, registered + timedelta(minutes=5))
    assert late_welcome_due(registered, registered + timedelta(days=7))
    assert not late_welcome_due(registered, registered + timedelta(days=7, seconds=1))
    assert not late_welcome_due(None, registered)


def test_messages_name_offices_in_the_message_language_and_never_by_code() -> None:
    assert office_name("MRC-SV", "lo") == "ສູນບໍລິການຂໍ້ມູນແຮງງານເຄື່ອນຍ້າຍ ແຂວງສະຫວັນນະເຂດ"
    assert office_name("MRC-SV", "en") == "Migrant Resource Centre, Savannakhet"
    assert office_name("ESC-VT", "en") == "Employment Service Centre, Vientiane Capital"
    for unknown in (None, "ESC-NEW-9"):
        assert office_name(unknown, "lo") == "ຫ້ອງການທີ່ທ່ານລົງທະບຽນ"
        assert office_name(unknown, "en") == "the office where you registered"


def test_every_message_has_a_priority_and_what_people_wait_for_is_transactional() -> None:
    assert set(PRIORITIES) == set(SAMPLES)
    for key in (
        "certificate_issued",
        "placement_confirmed",
        "session_changed",
        "orientation_cancelled",
        "offer",
        "orientation_invitation",
    ):
        assert PRIORITIES[key] == "transactional", key
    for key in ("welcome", "welcome_migrant", "interview", "return_reminder"):
        assert PRIORITIES[key] == "courtesy", key


def test_every_message_has_templates_in_lao_and_english_for_sms_and_email() -> None:
    have = {(t["key"], t["channel"], t["language"]) for t in default_templates()}
    for key in SAMPLES:
        for channel in ("sms", "email"):
            assert {(key, channel, "lo"), (key, channel, "en")} <= have, key
    # Lao first: in the file, each message's Lao text comes before its English one.
    order = [(t["key"], t["language"]) for t in default_templates()]
    for key in SAMPLES:
        assert order.index((key, "lo")) < order.index((key, "en")), key


def test_messages_that_name_an_office_fit_three_parts_for_every_office() -> None:
    for template in default_templates():
        if template["channel"] != "sms" or "office_name" not in SAMPLES[template["key"]]:
            continue
        for code in SEED_OFFICES:
            values = SAMPLES[template["key"]] | {
                "office_name": office_name(code, template["language"])
            }
            text = render(template["body"], values)
            assert "{{" not in text
            assert code not in text
            assert sms_length(text).segments <= 3, (template["key"], template["language"], code)


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
