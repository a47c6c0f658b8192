"""Production refuses weak secrets, plain-http key URLs and one key for two purposes; each
purpose has a key of its own, and a change of key keeps what was derived before verifiable."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from pydantic import ValidationError

from services.notify.partners import pseudonyms, signatures
from services.notify.partners.models import Subscription
from services.notify.partners.presenting import master_key
from services.notify.partners.signatures import current_secret, signing_secrets
from services.predeparture.completions import certificates
from services.predeparture.completions.domain import verification_code, verification_hash
from shared import secrets
from shared.secrets import DEV_JWT_SECRET
from shared.settings import Settings, get_settings
from tests.production_secrets import (
    CERTIFICATE_KEY,
    CONSOLE_OIDC_CLIENT_SECRET,
    JWT_SECRET,
    KEYS,
    PARTNER_PSEUDONYM_KEY,
    PARTNER_WEBHOOK_KEY,
    SMS_GATEWAY_TOKEN,
    SMS_INBOUND_SECRET,
)

if TYPE_CHECKING:
    from collections.abc import Iterator

STRONG: dict[str, Any] = {
    "env": "production",
    "database_url": "postgresql://labourx@db/postgres",
    "kafka_bootstrap_servers": "kafka:9092",
    "public_base_url": "https://labourx.example.la/predeparture",
    "jwt_secret": JWT_SECRET,
    "sms_provider": "http",
    "sms_gateway_url": "https://sms.example.la/v1/messages",
    "sms_gateway_token": SMS_GATEWAY_TOKEN,
    "sms_inbound_secret": SMS_INBOUND_SECRET,
    "console_oidc_issuer": "https://id.example.la/realms/labourx",
    "console_oidc_client_id": "labourx-console",
    "console_oidc_client_secret": CONSOLE_OIDC_CLIENT_SECRET,
    "console_public_url": "https://console.labourx.example.la",
    **KEYS,
}


def refused(**changes: Any) -> str:
    """What production says of the strong settings with `changes` (it must refuse them)."""
    with pytest.raises(ValidationError) as caught:
        Settings.model_validate(STRONG | changes)
    return str(caught.value)


def test_strong_production_settings_are_accepted() -> None:
    settings = Settings.model_validate(STRONG)
    assert settings.secret_problems() == []


@pytest.mark.parametrize(
    ("setting", "value", "said"),
    [
        ("jwt_secret", "k", "is 1 bytes long; at least 32"),
        ("certificate_key", "k", "is 1 bytes long; at least 32"),
        ("partner_pseudonym_key", "x" * 31, "is 31 bytes long"),
        ("jwt_secret", DEV_JWT_SECRET + " ", "is a development secret"),
        ("jwt_secret", DEV_JWT_SECRET.upper(), "is a development secret"),
        ("jwt_secret", DEV_JWT_SECRET.replace("-", " "), "is a development secret"),
        ("jwt_secret", f"prefix-{DEV_JWT_SECRET}-suffix", "is a development secret"),
        ("certificate_key", secrets.DEV_CERTIFICATE_KEY, "is a development secret"),
        ("partner_webhook_key", secrets.DEV_PARTNER_WEBHOOK_KEY, "is a development secret"),
        ("certificate_key", "k" * 64, "too easy to guess"),
        ("certificate_key", "passwordpasswordpasswordpassword", "too easy to guess"),
        ("certificate_key", "abcdefghijklmnopqrstuvwxyz0123456789", "too easy to guess"),
        ("jwt_secret", "a-production-secret-of-at-least-32-bytes", "too easy to guess"),
        ("partner_pseudonym_key", "Tr0ub4dor&3Tr0ub4dor&3Tr0ub4dor&3", "too easy to guess"),
        ("partner_webhook_key", f" {PARTNER_WEBHOOK_KEY}", "white space"),
        ("partner_pseudonym_key", "base64:" + base64.b64encode(b"k" * 16).decode(), "16 bytes"),
        ("sms_inbound_secret", "whsec_c2VjcmV0", "encodes 6 bytes; at least 24"),
        ("sms_inbound_secret", "whsec_" + base64.b64encode(b"\0" * 32).decode(), "easy to guess"),
        ("sms_inbound_secret", PARTNER_WEBHOOK_KEY, "not a Standard Webhooks secret"),
        ("sms_gateway_token", "a-token", "is 7 characters long; at least 16"),
        ("smtp_password", "passwordpassword", "too easy to guess"),
        ("console_oidc_client_secret", "from-the-secret", "at least 16"),
    ],
)
def test_a_weak_secret_is_refused_naming_its_setting(setting: str, value: str, said: str) -> None:
    message = refused(**{setting: value})
    named = f"LABOURX_{setting.upper()} "
    assert named in message, message
    assert said in message.split(named, 1)[1].split("; LABOURX_")[0], message


def test_every_weak_secret_is_named_at_once() -> None:
    message = refused(jwt_secret="k", certificate_key="k", partner_webhook_key="k")
    for name in ("JWT_SECRET", "CERTIFICATE_KEY", "PARTNER_WEBHOOK_KEY"):
        assert f"LABOURX_{name} is 1 bytes long" in message


def test_a_jwt_secret_is_not_judged_when_tokens_are_verified_with_a_jwks() -> None:
    settings = Settings.model_validate(
        STRONG | {"jwt_jwks_url": "https://id.example.la/certs", "jwt_secret": DEV_JWT_SECRET}
    )
    assert settings.jwt_jwks_url == "https://id.example.la/certs"


@pytest.mark.parametrize(
    ("changes", "setting"),
    [
        ({"jwt_jwks_url": "http://id.example.la/certs"}, "jwt_jwks_url"),
        (
            {"console_oidc_discovery_url": "http://id.example.la/.well-known/openid-configuration"},
            "console_oidc_discovery_url",
        ),
        ({"console_oidc_issuer": "http://id.example.la/realms/labourx"}, "console_oidc_issuer"),
        ({"sms_gateway_url": "http://sms.example.la/v1/messages"}, "sms_gateway_url"),
        ({"jwt_jwks_url": "ftp://id.example.la/certs"}, "jwt_jwks_url"),
    ],
)
def test_a_key_url_over_plain_http_is_refused(changes: dict[str, str], setting: str) -> None:
    assert f"LABOURX_{setting.upper()} must be an https:// URL" in refused(**changes)


def test_plain_http_is_accepted_on_loopback_and_on_hosts_named_internal() -> None:
    for url in (
        "http://127.0.0.1:8180/certs",
        "http://localhost:8180/certs",
        "http://[::1]:8180/certs",
        "http://keycloak:8080/realms/labourx/protocol/openid-connect/certs",
    ):
        Settings.model_validate(STRONG | {"jwt_jwks_url": url, "internal_http_hosts": "keycloak"})
    # The issuer is only a name when the discovery document is read elsewhere.
    Settings.model_validate(
        STRONG
        | {
            "console_oidc_issuer": "http://localhost:8180/realms/labourx",
            "console_oidc_discovery_url": "http://keycloak:8080/realms/labourx/.well-known/x",
            "internal_http_hosts": "keycloak,other",
        }
    )
    # An SMS gateway that is sent no token carries no secret.
    settings = Settings.model_validate(
        STRONG
        | {"sms_provider": "dev", "sms_gateway_url": "http://sms.example.la/v1"}
        | {"sms_gateway_token": None, "sms_inbound_secret": None}
    )
    assert settings.sms_provider == "dev"


def test_one_value_for_two_purposes_is_refused() -> None:
    message = refused(partner_webhook_key=PARTNER_PSEUDONYM_KEY)
    assert "LABOURX_PARTNER_WEBHOOK_KEY is the same as LABOURX_PARTNER_PSEUDONYM_KEY" in message, (
        message
    )
    message = refused(certificate_key=JWT_SECRET)
    assert "LABOURX_JWT_SECRET is the same as LABOURX_CERTIFICATE_KEY" in message, message
    # The same bytes written two ways are the same key.
    as_base64 = "base64:" + base64.b64encode(PARTNER_PSEUDONYM_KEY.encode()).decode()
    assert "is the same as" in refused(partner_webhook_key=as_base64)


@pytest.mark.parametrize("missing", ["partner_pseudonym_key", "partner_webhook_key"])
def test_production_refuses_to_start_without_each_purpose_key(missing: str) -> None:
    message = refused(**{missing: None})
    assert f"LABOURX_{missing.upper()} is required in production" in message
    assert "LABOURX_PARTNER_SECRET_KEY" in message  # says where the old single key went


def test_outside_production_each_purpose_has_a_development_key_of_its_own() -> None:
    settings = Settings(env="development")
    keys = {
        settings.purpose_key("certificate_key"),
        settings.purpose_key("partner_pseudonym_key"),
        settings.purpose_key("partner_webhook_key"),
        settings.jwt_secret.get_secret_value().encode(),
    }
    assert len(keys) == 4
    assert all(b"development" in key and b"not-for-production" in key for key in keys)
    assert settings.secret_problems()  # none of them would pass in production


# --- what was derived before a change still verifies ------------------------------------------

OLD_PARTNER_SECRET_KEY = "3f6be3b5a5f1c1d0e6a7b2f4c9d8e7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0"
PARTNER = uuid.UUID("6b1f3d4e-9a8c-4d2b-8e7f-1a2b3c4d5e6f")


def test_a_pseudonym_key_set_to_the_old_partner_secret_key_keeps_every_pseudonym() -> None:
    # Before: pseudonym keys were derived from LABOURX_PARTNER_SECRET_KEY's UTF-8 bytes.
    before = pseudonyms.partner_key(OLD_PARTNER_SECRET_KEY.encode(), PARTNER)
    settings = Settings(partner_pseudonym_key=OLD_PARTNER_SECRET_KEY)
    assert pseudonyms.partner_key(master_key(settings), PARTNER) == before


def test_the_old_key_derived_from_the_certificate_key_can_be_given_as_base64() -> None:
    # Before, with no partner key set: the master key was HMAC(certificate key, label).
    derived = hmac.digest(CERTIFICATE_KEY.encode(), b"labourx-partner-feeds", "sha256")
    before = pseudonyms.partner_key(derived, PARTNER)
    given = "base64:" + base64.b64encode(derived).decode()
    settings = Settings.model_validate(STRONG | {"partner_pseudonym_key": given})
    assert settings.secret_problems() == []
    assert pseudonyms.partner_key(master_key(settings), PARTNER) == before


def _subscription(version: int = 1) -> Subscription:
    return Subscription(
        id=uuid.UUID("0c7d3c9e-2f4b-4f1e-9d3a-5b6c7d8e9f01"),
        secret_version=version,
        secret_rotated_at=None,
    )


def test_webhook_secrets_come_from_their_own_key_not_the_pseudonym_key() -> None:
    settings = Settings(partner_pseudonym_key=PARTNER_PSEUDONYM_KEY)
    other = settings.model_copy(update={"partner_pseudonym_key": None})
    assert current_secret(settings, _subscription()) == current_secret(other, _subscription())
    by_pseudonym_key = signatures.webhook_secret(
        PARTNER_PSEUDONYM_KEY.encode(), _subscription().id, 1
    )
    assert current_secret(settings, _subscription()) != by_pseudonym_key


def test_during_a_change_of_webhook_key_webhooks_carry_the_old_secret_too() -> None:
    old = Settings(partner_webhook_key=OLD_PARTNER_SECRET_KEY)
    partner_holds = current_secret(old, _subscription())
    changing = Settings.model_validate(
        {"partner_webhook_key": PARTNER_WEBHOOK_KEY}
        | {"partner_webhook_previous_key": OLD_PARTNER_SECRET_KEY}
    )
    now = datetime.now(UTC)
    signed_with = signing_secrets(changing, _subscription(), now)
    assert signed_with[0] == current_secret(changing, _subscription()) != partner_holds
    assert partner_holds in signed_with
    done = changing.model_copy(update={"partner_webhook_previous_key": None})
    assert partner_holds not in signing_secrets(done, _subscription(), now)


@pytest.fixture
def certificate_keys(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


def test_a_certificate_code_derived_today_still_prints_after_a_change_of_key(
    certificate_keys: pytest.MonkeyPatch,
) -> None:
    completion = uuid.UUID("7a0e5f1c-3b2d-4c8e-9f6a-1d2c3b4a5e6f")
    certificate_keys.setenv("LABOURX_CERTIFICATE_KEY", OLD_PARTNER_SECRET_KEY)
    # The derivation with the existing setting is unchanged: HMAC(key, label), then the code.
    label_key = hmac.new(
        OLD_PARTNER_SECRET_KEY.encode(),
        b"labourx/predeparture/certificate-verification-codes/v1",
        hashlib.sha256,
    ).digest()
    issued = verification_code(label_key, completion)
    assert certificates.code_key(get_settings()) == label_key
    stored = verification_hash(issued)  # what the row keeps

    get_settings.cache_clear()
    certificate_keys.setenv("LABOURX_CERTIFICATE_KEY", CERTIFICATE_KEY)
    certificate_keys.setenv("LABOURX_CERTIFICATE_PREVIOUS_KEY", OLD_PARTNER_SECRET_KEY)
    assert certificates.printed_code(get_settings(), completion, stored) == issued
    # A certificate issued under the new key prints its own code.
    fresh = verification_code(certificates.code_key(get_settings()), completion)
    assert (
        certificates.printed_code(get_settings(), completion, verification_hash(fresh))
        == fresh
        != issued
    )


def test_outside_production_certificate_codes_no_longer_come_from_the_jwt_secret(
    certificate_keys: pytest.MonkeyPatch,
) -> None:
    certificate_keys.delenv("LABOURX_CERTIFICATE_KEY", raising=False)
    by_jwt = hmac.new(
        DEV_JWT_SECRET.encode(),
        b"labourx/predeparture/certificate-verification-codes/v1",
        hashlib.sha256,
    ).digest()
    assert certificates.code_key(get_settings()) != by_jwt
