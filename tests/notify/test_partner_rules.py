"""Partner feed rules without a database: scopes, pseudonyms, consent, cursors, retries, keys."""

from __future__ import annotations

import ipaddress
import uuid
from datetime import UTC, date, datetime
from typing import get_args

from hypothesis import given
from hypothesis import strategies as st
from standardwebhooks.webhooks import Webhook

from services.notify.partners import (
    addresses,
    api_keys,
    feed_cursors,
    pseudonyms,
    redaction,
    retry,
    sharing_rules,
    signatures,
    streams,
)
from services.notify.partners.models import FeedEntry
from services.notify.partners.presenting import PartnerRef, present
from services.notify.partners.schemas import Stream
from services.notify.partners.scopes import Scope
from services.notify.partners.sharing_rules import SharingDecision
from services.notify.partners.streams import PERSON_STREAMS
from services.registry.consent.domain import PARTNER_CATEGORIES as REGISTRY_CATEGORIES
from shared.events import CATALOGUE
from shared.events.registry import PersonRegistered
from tests.notify.conftest import person_fields

KEY_A = pseudonyms.partner_key(b"master", uuid.UUID(int=1))
KEY_B = pseudonyms.partner_key(b"master", uuid.UUID(int=2))
ON = date(2026, 12, 1)


def registered_data() -> dict[str, object]:
    return PersonRegistered(**person_fields()).model_dump(mode="json")


def test_every_field_of_every_partner_stream_event_is_classified() -> None:
    for spec in CATALOGUE.values():
        if spec.topic in streams.STREAMS:
            unclassified = [f for f in spec.model.model_fields if not redaction.classified(f)]
            assert unclassified == [], spec.type


def test_streams_and_categories_agree_with_the_rest_of_labourx() -> None:
    assert set(get_args(Stream)) == set(streams.STREAMS)
    assert sharing_rules.PARTNER_CATEGORIES == REGISTRY_CATEGORIES
    assert "matching.vacancies" not in PERSON_STREAMS
    assert "registry.people" in PERSON_STREAMS


def test_pseudonymised_view_has_no_names_contacts_birth_date_or_reference() -> None:
    data = registered_data()
    view = redaction.redact(data, Scope.PSEUDONYMISED, KEY_A, ON)
    for field in (
        "person_id",
        "given_name_lo",
        "family_name_lo",
        "given_name_en",
        "family_name_en",
        "phone",
        "email",
        "date_of_birth",
        "reference",
        "registered_by",
    ):
        assert field not in view
    assert view["person_pseudonym"] == pseudonyms.pseudonym(KEY_A, str(data["person_id"]))
    assert view["age_band"] == "25-29"
    assert view["sex"] == data["sex"]
    assert view["province_code"] == "LA-VT"
    for value in (data["given_name_en"], data["phone"], data["email"], str(data["person_id"])):
        assert str(value) not in str(view)


def test_aggregate_view_of_an_event_about_a_person_keeps_only_fields_to_count_by() -> None:
    view = redaction.redact(registered_data(), Scope.AGGREGATE, KEY_A, ON)
    assert set(view) <= redaction.AGGREGATE_FIELDS
    assert "person_pseudonym" not in view
    assert view["age_band"] == "25-29"
    assert redaction.redact_subject("person_id", str(uuid.uuid4()), Scope.AGGREGATE, KEY_A) is None


def test_aggregate_view_of_a_vacancy_keeps_the_job_but_not_who_changed_it() -> None:
    vacancy = {
        "vacancy_id": str(uuid.uuid4()),
        "reference": "V-000123",
        "title": "Welder",
        "status": "published",
        "changed_by": "esc-vt-1",
        "reason": "free text",
        "positions": 3,
    }
    view = redaction.redact(vacancy, Scope.AGGREGATE, KEY_A, ON)
    assert view["reference"] == "V-000123"
    assert view["title"] == "Welder"
    assert "changed_by" not in view
    assert "reason" not in view


def test_personal_view_is_the_whole_payload() -> None:
    data = registered_data()
    assert redaction.redact(data, Scope.PERSONAL, KEY_A, ON) == data


def test_ids_of_a_persons_records_differ_between_partners_and_are_stable() -> None:
    referral = str(uuid.uuid4())
    person = uuid.uuid4()
    assert pseudonyms.linked_id(KEY_A, "referral_id", referral) == pseudonyms.linked_id(
        KEY_A, "referral_id", referral
    )
    assert pseudonyms.linked_id(KEY_A, "referral_id", referral) != pseudonyms.linked_id(
        KEY_B, "referral_id", referral
    )
    assert pseudonyms.pseudonym(KEY_A, person) != pseudonyms.pseudonym(KEY_B, person)
    assert pseudonyms.item_id(KEY_A, 7) != pseudonyms.item_id(KEY_B, 7)


@given(st.dates(min_value=date(1930, 1, 1), max_value=date(2026, 12, 1)))
def test_age_bands_are_five_years_wide_with_open_ends(born: date) -> None:
    band = redaction.age_band(born, ON)
    assert band in {"0-14", "65+"} or int(band.split("-")[1]) - int(band.split("-")[0]) == 4


def test_a_decision_about_the_partner_itself_wins_over_its_category() -> None:
    given_ = SharingDecision("given")
    withdrawn = SharingDecision("withdrawn")
    assert sharing_rules.may_share({"category:un_agencies": given_}, "IOM-LA", "un_agencies", ON)
    assert not sharing_rules.may_share(
        {"category:un_agencies": given_, "agency:IOM-LA": withdrawn}, "IOM-LA", "un_agencies", ON
    )
    assert sharing_rules.may_share(
        {"category:un_agencies": withdrawn, "agency:IOM-LA": given_}, "IOM-LA", "un_agencies", ON
    )
    assert not sharing_rules.may_share({"category:ngos": given_}, "IOM-LA", "un_agencies", ON)
    expired = SharingDecision("renewed", date(2026, 11, 30))
    assert not sharing_rules.may_share({"agency:IOM-LA": expired}, "IOM-LA", "un_agencies", ON)


def test_a_lapsed_consent_counts_as_held_until_its_removals_are_sent() -> None:
    lapsed = SharingDecision("given", date(2026, 11, 30))
    decisions = {"agency:IOM-LA": lapsed, "category:un_agencies": SharingDecision("withdrawn")}
    assert not sharing_rules.may_share(decisions, "IOM-LA", "un_agencies", ON)
    assert sharing_rules.may_share(sharing_rules.held(decisions, ON), "IOM-LA", "un_agencies", ON)
    assert sharing_rules.held(decisions, ON)["category:un_agencies"] == SharingDecision("withdrawn")
    swept = SharingDecision("given", date(2026, 11, 30), swept=True)
    assert not sharing_rules.may_share(
        sharing_rules.held({"agency:IOM-LA": swept}, ON), "IOM-LA", "x", ON
    )
    # In force through its expiry date: nothing has lapsed yet.
    last_day = SharingDecision("renewed", ON)
    assert not last_day.lapsed_unswept(ON)
    assert last_day.lapsed_unswept(date(2026, 12, 2))


@given(st.integers(min_value=0, max_value=2**62))
def test_cursors_round_trip_for_their_partner_only(position: int) -> None:
    cursor = feed_cursors.encode_cursor(KEY_A, position)
    assert feed_cursors.decode_cursor(KEY_A, cursor) == position
    assert feed_cursors.decode_cursor(KEY_B, cursor) is None
    assert feed_cursors.encode_cursor(KEY_B, position) != cursor


def test_a_made_up_cursor_is_refused() -> None:
    assert feed_cursors.decode_cursor(KEY_A, "not-a-cursor") is None
    assert feed_cursors.decode_cursor(KEY_A, "") is None


def test_retries_follow_the_schedule_then_give_up() -> None:
    schedule = [5.0, 300.0, 1800.0]
    assert [retry.retry_delay(schedule, n) for n in (1, 2, 3, 4)] == [5.0, 300.0, 1800.0, None]


def test_the_default_schedule_ends_within_a_day() -> None:
    from shared.settings import Settings

    assert sum(Settings().partner_webhook_retry_schedule_s) < 24 * 3600


def test_signatures_verify_with_the_standard_webhooks_verifier_under_either_secret() -> None:
    new = signatures.webhook_secret(b"master", uuid.UUID(int=5), 2)
    old = signatures.webhook_secret(b"master", uuid.UUID(int=5), 1)
    at = datetime.now(UTC)
    body = '{"a":1}'
    headers = {
        "webhook-id": "msg_1",
        "webhook-timestamp": str(int(at.timestamp())),
        "webhook-signature": signatures.signature_header([new, old], "msg_1", at, body),
    }
    assert Webhook(new).verify(body, headers) == {"a": 1}
    assert Webhook(old).verify(body, headers) == {"a": 1}


def test_api_keys_are_kept_as_digests() -> None:
    key = api_keys.new_api_key()
    assert key.key.startswith("lxp_")
    assert key.prefix == key.key[:12]
    assert key.digest == api_keys.key_digest(key.key)
    assert key.key not in key.digest


# --- webhook addresses ---------------------------------------------------------------------


def test_webhooks_may_not_go_to_private_loopback_link_local_or_reserved_addresses() -> None:
    for blocked in (
        "10.1.2.3",
        "172.16.0.9",
        "192.168.1.1",
        "127.0.0.1",
        "169.254.169.254",  # cloud metadata
        "100.64.0.1",  # shared address space (CGNAT)
        "0.0.0.0",
        "224.0.0.1",
        "240.0.0.1",
        "::1",
        "::",
        "fe80::1",
        "fc00::1",
        "::ffff:10.0.0.1",  # IPv4-mapped
        "2002:a00:1::",  # 6to4 of 10.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "ff02::1",
    ):
        assert addresses.blocked_address(ipaddress.ip_address(blocked)), blocked
    for public in ("8.8.8.8", "203.113.1.10", "2606:4700::1111", "::ffff:8.8.8.8"):
        assert not addresses.blocked_address(ipaddress.ip_address(public)), public


def test_a_webhook_url_naming_a_private_address_or_localhost_is_refused_a_public_one_not() -> None:
    for url in (
        "http://10.0.0.5/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://127.0.0.1:8443/h",
        "https://[::1]/h",
        "https://[::ffff:192.168.0.1]/h",
        "https://localhost/h",
        "https://LOCALHOST./h",
        "https://api.localhost/h",
        "http://2130706433/h",  # 127.0.0.1 as one number
        "http://0x7f.1/h",
        "http://127.1/h",
        "https:///no-host",
        "https://[::1/broken",
    ):
        assert addresses.webhook_url_problem(url, https_only=False, private_allowed=False), url
    for url in ("https://hooks.iom.int/labourx", "https://8.8.8.8/h", "https://[2606:4700::1]/"):
        assert (
            addresses.webhook_url_problem(url, https_only=False, private_allowed=False) is None
        ), url


def test_private_addresses_are_refused_in_production_unless_allowed_and_allowed_elsewhere() -> None:
    from services.notify.partners.addresses import private_addresses_allowed
    from shared.settings import Settings

    test = Settings(env="test")
    production = test.model_copy(update={"env": "production"})
    assert private_addresses_allowed(test)
    assert not private_addresses_allowed(production)
    assert private_addresses_allowed(
        production.model_copy(update={"partner_webhook_allow_private_addresses": True})
    )
    assert not private_addresses_allowed(
        test.model_copy(update={"partner_webhook_allow_private_addresses": False})
    )


def test_without_a_sharing_consent_for_the_partner_every_scope_reads_the_aggregate_view() -> None:
    data = registered_data()
    person_id = uuid.UUID(str(data["person_id"]))
    entry = FeedEntry(
        id=7,
        stream="registry.people",
        kind="event",
        event_type=PersonRegistered.event_type(),
        subject=str(person_id),
        person_id=person_id,
        time=datetime(2026, 12, 1, 3, 0, tzinfo=UTC),
        data=data,
    )
    partner = PartnerRef(uuid.UUID(int=1), "IOM-LA", "un_agencies", KEY_A)
    agreed = {person_id: {"category:un_agencies": SharingDecision("given")}}
    other_agency = {person_id: {"agency:ILO-LA": SharingDecision("given")}}
    withdrawn = {person_id: {"category:un_agencies": SharingDecision("withdrawn")}}
    for scope in Scope:
        for decisions in ({}, other_agency, withdrawn):
            document = present(entry, partner, scope, decisions, ON)
            assert document is not None
            assert document["partnerscope"] == "aggregate", (scope, decisions)
            assert "subject" not in document
            assert "person_pseudonym" not in document["data"]
            assert set(document["data"]) <= redaction.AGGREGATE_FIELDS
        shared = present(entry, partner, scope, agreed, ON)
        assert shared is not None
        assert shared["partnerscope"] == scope.value
