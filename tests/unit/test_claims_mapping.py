"""The claims mapping: an identity provider's claims read as labourx's roles, office, province
and scope, where the settings say (shared/auth.py), the same for every API and the console."""

from __future__ import annotations

import time
from typing import Any

import jwt
import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from shared.auth import Role, claim, decode_token, mint_token
from shared.problems import Unauthorized
from shared.secrets import DEV_JWT_SECRET
from shared.settings import Settings


def _signed(settings: Settings, **claims: Any) -> str:
    """A token as a provider would send it: whatever claims it chose, signed as required."""
    now = int(time.time())
    base: dict[str, Any] = {"sub": "kc-7f3a", "iss": settings.jwt_issuer}
    base |= {"aud": settings.jwt_audience, "iat": now, "exp": now + 300}
    return jwt.encode({**base, **claims}, DEV_JWT_SECRET, algorithm="HS256")


def test_roles_office_and_province_are_read_from_their_default_claims() -> None:
    settings = Settings()
    principal = decode_token(
        settings,
        _signed(settings, roles=["esc_staff", "offline_access"], office="ESC-CH", province="LA-CH"),
    )
    assert principal.subject == "kc-7f3a"
    assert principal.roles == {Role.ESC_STAFF}
    assert (principal.office, principal.province, principal.national) == ("ESC-CH", "LA-CH", False)


def test_keycloaks_realm_roles_are_read_when_the_token_has_no_roles_claim() -> None:
    settings = Settings()
    token = _signed(settings, realm_access={"roles": ["mrc_staff", "default-roles-labourx"]})
    assert decode_token(settings, token).roles == {Role.MRC_STAFF}


def test_the_first_roles_claim_present_is_the_one_read() -> None:
    settings = Settings()
    token = _signed(settings, roles=["analyst"], realm_access={"roles": ["admin"]})
    assert decode_token(settings, token).roles == {Role.ANALYST}


def test_claims_are_read_at_the_paths_the_settings_name() -> None:
    settings = Settings(
        jwt_roles_claim="resource_access.labourx-console.roles",
        jwt_office_claim="labourx.office",
        jwt_province_claim="https://labourx.la/province",
        jwt_national_claim="scope",
        jwt_agency_claim="org.agency",
    )
    token = _signed(
        settings,
        resource_access={"labourx-console": {"roles": ["admin"]}, "other": {"roles": ["x"]}},
        labourx={"office": "ESC-VT"},
        # Auth0 makes custom claims namespaced URLs: the whole name, dots and all, is found.
        **{"https://labourx.la/province": "LA-VT"},
        scope="openid profile national",
        org={"agency": "AG-001"},
    )
    principal = decode_token(settings, token)
    assert principal.roles == {Role.ADMIN}
    assert (principal.office, principal.province) == ("ESC-VT", "LA-VT")
    assert principal.national
    assert principal.sees_all_provinces
    assert principal.agency == "AG-001"


def test_the_provider_s_role_names_are_mapped_and_others_left_out() -> None:
    settings = Settings(
        jwt_roles_claim="groups",
        jwt_role_map={"/labourx/ESC officers": "esc_staff", "/labourx/Analysts": "analyst"},
    )
    token = _signed(settings, groups=["/labourx/ESC officers", "/staff", "/labourx/Analysts"])
    assert decode_token(settings, token).roles == {Role.ESC_STAFF, Role.ANALYST}


def test_a_role_map_to_something_that_is_not_a_labourx_role_is_refused_at_start() -> None:
    with pytest.raises(ValidationError, match="LABOURX_JWT_ROLE_MAP maps to superuser"):
        Settings(jwt_role_map={"Admins": "superuser"})


def test_roles_sent_as_one_string_of_words_are_read() -> None:
    settings = Settings()
    token = _signed(settings, roles="esc_staff analyst")
    assert decode_token(settings, token).roles == {Role.ESC_STAFF, Role.ANALYST}


def test_roles_that_are_neither_a_list_nor_words_refuse_the_token() -> None:
    settings = Settings()
    with pytest.raises(Unauthorized, match="LABOURX_JWT_ROLES_CLAIM"):
        decode_token(settings, _signed(settings, roles={"esc_staff": True}))


def test_a_province_is_an_iso_code_whatever_its_case_and_anything_else_refuses_the_token() -> None:
    settings = Settings()
    lower = _signed(settings, roles=["esc_staff"], province=" la-sv ")
    assert decode_token(settings, lower).province == "LA-SV"
    with pytest.raises(Unauthorized, match="'SAVANNAKHET', not an ISO 3166-2:LA province"):
        decode_token(settings, _signed(settings, roles=["esc_staff"], province="Savannakhet"))


def test_an_attribute_sent_as_a_list_of_one_is_that_value_and_of_two_refuses_the_token() -> None:
    settings = Settings()
    one = _signed(settings, roles=["esc_staff"], office=["ESC-SV"], province=["LA-SV"])
    assert (decode_token(settings, one).office, decode_token(settings, one).province) == (
        "ESC-SV",
        "LA-SV",
    )
    two = _signed(settings, roles=["esc_staff"], office=["ESC-SV", "MRC-SV"])
    with pytest.raises(Unauthorized, match=r"holds 2 values .*LABOURX_JWT_OFFICE_CLAIM"):
        decode_token(settings, two)


@pytest.mark.parametrize(
    ("value", "national"),
    [
        (True, True),
        ("true", True),
        ("national", True),
        (["national"], True),
        (False, False),
        ("province", False),
        ("nationally", False),
        (None, False),
    ],
)
def test_national_scope_is_a_true_claim_or_the_word_national(value: Any, national: bool) -> None:
    settings = Settings()
    claims = {"roles": ["analyst"]} | ({"national": value} if value is not None else {})
    assert decode_token(settings, _signed(settings, **claims)).national is national


def test_national_scope_can_be_read_from_the_oauth_scope_claim() -> None:
    settings = Settings(jwt_national_claim="scope")
    assert decode_token(settings, _signed(settings, scope="openid national")).national
    assert not decode_token(settings, _signed(settings, scope="openid profile")).national


def test_a_minted_development_token_puts_its_claims_where_the_mapping_reads_them() -> None:
    settings = Settings(
        jwt_roles_claim="realm_access.roles,roles",
        jwt_office_claim="labourx.office",
        jwt_province_claim="labourx.province",
        jwt_national_claim="labourx.national",
    )
    token = mint_token(
        settings, subject="dev-1", roles=["mrc_staff"], office="MRC-SV", province="LA-SV"
    )
    raw = jwt.decode(token, options={"verify_signature": False})
    assert raw["realm_access"] == {"roles": ["mrc_staff"]}
    assert "roles" not in raw
    principal = decode_token(settings, token)
    assert (principal.roles, principal.office, principal.province) == (
        {Role.MRC_STAFF},
        "MRC-SV",
        "LA-SV",
    )
    national = mint_token(settings, subject="dev-2", roles=["analyst"], national=True)
    assert decode_token(settings, national).national


def test_the_roles_claim_setting_reads_several_places_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("LABOURX_JWT_ROLES_CLAIM", "groups, realm_access.roles")
    monkeypatch.setenv("LABOURX_JWT_ROLE_MAP", '{"ESC officers": "esc_staff"}')
    settings = Settings()
    assert settings.jwt_roles_claim == ["groups", "realm_access.roles"]
    assert settings.jwt_role_map == {"ESC officers": "esc_staff"}


_NAMES = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_-", min_size=1, max_size=8)


@given(path=st.lists(_NAMES, min_size=1, max_size=4), value=st.text(max_size=10))
def test_a_claim_is_found_at_any_nested_path(path: list[str], value: str) -> None:
    nested: Any = value
    for part in reversed(path):
        nested = {part: nested}
    assert claim(nested, ".".join(path)) == value
    assert claim(nested, ".".join([*path, "missing"])) is None
