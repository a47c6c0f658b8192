"""Bearer JWT authentication, roles, and office/province scope for every object.

Who the caller is comes from their token's claims, read where the settings say (the claims
mapping, `LABOURX_JWT_*_CLAIM`): the same mapping for the four APIs and for the console, so
an officer signed in through the identity provider is the same officer everywhere.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections import OrderedDict
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Annotated, Any

import anyio
import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.problems import Forbidden, Problem, Unauthorized
from shared.reference.places import PROVINCE_NAMES
from shared.roles import Role
from shared.settings import Settings

log = logging.getLogger(__name__)

__all__ = ["Role"]

NATIONAL_SCOPE = "national"


@dataclass(frozen=True)
class Principal:
    """Who is calling: subject, roles, and the office and province they work in."""

    subject: str
    roles: frozenset[Role]
    office: str | None = None
    province: str | None = None
    national: bool = False
    # The recruitment agency code an `agency` principal acts for.
    agency: str | None = None
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    def has_any(self, *roles: Role) -> bool:
        return bool(self.roles & set(roles))

    @property
    def sees_all_provinces(self) -> bool:
        return self.national or Role.ADMIN in self.roles

    def can_see_province(self, province_code: str | None) -> bool:
        """Staff see people of their own province unless their scope is national."""
        return self.sees_all_provinces or (
            self.province is not None and province_code == self.province
        )

    def require_province(self, province_code: str | None) -> None:
        if not self.can_see_province(province_code):
            raise Forbidden(f"outside your scope (province {self.province or 'none'})")

    def serves(self, province_code: str | None, serving_offices: Collection[str] = ()) -> bool:
        """A person's records: staff of the person's province, national scope, or staff of an
        office that serves the person (a visit, an enrolment or a referral there; see "Who sees
        what" in docs/architecture.md)."""
        return self.can_see_province(province_code) or (
            self.office is not None and self.office in serving_offices
        )

    def require_serves(
        self, province_code: str | None, serving_offices: Collection[str] = ()
    ) -> None:
        if not self.serves(province_code, serving_offices):
            raise Forbidden(
                f"outside your scope (province {self.province or 'none'}, office"
                f" {self.office or 'none'}): record a visit at your office to serve this person"
            )


def mint_token(
    settings: Settings,
    *,
    subject: str,
    roles: list[str],
    office: str | None = None,
    province: str | None = None,
    national: bool = False,
    agency: str | None = None,
    ttl_s: int = 8 * 3600,
) -> str:
    """A development token signed with the shared secret (HS256), its claims where the claims
    mapping reads them."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_s,
        "jti": str(uuid.uuid4()),
    }
    _put(claims, settings.jwt_roles_claim[0], sorted(roles))
    if national:
        _put(claims, settings.jwt_national_claim, True)
    for path, value in (
        (settings.jwt_office_claim, office),
        (settings.jwt_province_claim, province),
        (settings.jwt_agency_claim, agency),
    ):
        if value:
            _put(claims, path, value)
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


@lru_cache
def _jwks_client(url: str, timeout_s: float) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=300, timeout=timeout_s)


class ProviderUnreachable(Problem):
    """The identity provider's keys could not be fetched: the token may well be good, so not a
    401 (which signs the officer out of the console) but a 503 to retry."""

    status, slug, title = 503, "identity-provider-unreachable", "Identity provider unreachable"
    headers = {"Retry-After": "5"}


# Verified claims by (token, verifier): an officer sends the same token on every request, and
# verifying it again costs more than the rest of the auth check. Expiry is checked on every hit;
# like any stateless token, one signed by a key later dropped from the JWKS stays valid until then.
# Each entry keeps the principal last read from its claims, with the settings it was read by
# (the claims mapping is theirs): the body's guard and the route's dependency both ask.
_Verified = tuple[dict[str, Any], Settings | None, Principal | None]
_VERIFIED: OrderedDict[tuple[str, ...], _Verified] = OrderedDict()
_VERIFIED_MAX = 4096


def _cache_key(settings: Settings, token: str) -> tuple[str, ...]:
    return (
        token,
        settings.jwt_jwks_url or settings.jwt_secret.get_secret_value(),
        settings.jwt_audience,
        settings.jwt_issuer,
    )


def _still_valid(cache_key: tuple[str, ...]) -> _Verified | None:
    entry = _VERIFIED.get(cache_key)
    return entry if entry is not None and entry[0]["exp"] > time.time() else None


def _principal_of(settings: Settings, cache_key: tuple[str, ...], entry: _Verified) -> Principal:
    if entry[1] is settings and entry[2] is not None:
        return entry[2]
    principal = principal_from_claims(settings, entry[0])
    _VERIFIED[cache_key] = (entry[0], settings, principal)
    if len(_VERIFIED) > _VERIFIED_MAX:
        _VERIFIED.popitem(last=False)
    return principal


def decode_token(settings: Settings, token: str) -> Principal:
    """Verify a bearer token: HS256 with the shared secret, or RS/ES keys from the JWKS URL.
    Blocks while the provider's keys are fetched: on the event loop, `verified_principal`."""
    cache_key = _cache_key(settings, token)
    entry = _still_valid(cache_key) or (_verify(settings, token), None, None)
    return _principal_of(settings, cache_key, entry)


async def verified_principal(settings: Settings, token: str) -> Principal:
    """`decode_token` for the event loop. With a JWKS URL, a token not verified yet is verified
    in a worker thread: PyJWKClient fetches the provider's keys with blocking urllib (on first
    use, every five minutes, and for a key id it does not know), and a slow provider would
    otherwise stall every request the process is serving until its timeout."""
    cache_key = _cache_key(settings, token)
    entry = _still_valid(cache_key)
    if entry is None:
        if settings.jwt_jwks_url:
            claims = await anyio.to_thread.run_sync(_verify, settings, token)
        else:
            claims = _verify(settings, token)
        entry = (claims, None, None)
    return _principal_of(settings, cache_key, entry)


def _verify(settings: Settings, token: str) -> dict[str, Any]:
    try:
        if settings.jwt_jwks_url:
            client = _jwks_client(settings.jwt_jwks_url, settings.jwt_jwks_timeout_s)
            key: Any = client.get_signing_key_from_jwt(token).key
            algorithms = ["RS256", "ES256", "PS256"]
        else:
            key, algorithms = settings.jwt_secret.get_secret_value(), ["HS256"]
        claims = jwt.decode(
            token,
            key,
            algorithms=algorithms,
            audience=settings.jwt_audience,
            issuer=settings.jwt_issuer,
            options={"require": ["exp", "sub"]},
        )
    except jwt.PyJWKClientConnectionError as exc:
        log.warning("identity provider's keys not fetched: %s", exc)
        raise ProviderUnreachable("the identity provider's keys could not be fetched") from exc
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"invalid token: {exc}") from exc
    return _typed(claims)


# Registered claims by the type RFC 7519 gives them. PyJWT reads `exp: "1900000000"` as a
# number when it verifies, then the cache above compares the string with a float on the next
# request: a token that worked once and answered 500 ever after.
_NUMERIC_DATES = ("exp", "iat", "nbf")


def _typed(claims: Mapping[str, Any]) -> dict[str, Any]:
    """Verified claims whose registered members have their types, or 401 naming the first that
    does not (the claims mapping's own members are read by type in `principal_from_claims`)."""
    for name in _NUMERIC_DATES:
        value = claims.get(name)
        if name in claims and (isinstance(value, bool) or not isinstance(value, int | float)):
            raise Unauthorized(f"invalid token: the {name!r} claim is not a number (NumericDate)")
    if not isinstance(claims.get("sub"), str) or not claims["sub"].strip():
        raise Unauthorized("invalid token: the 'sub' claim is not a text value")
    return dict(claims)


def claim(claims: Mapping[str, Any], path: str) -> Any:
    """A claim by name, or by a dotted path into nested claims (`realm_access.roles`). A name
    that holds dots itself (Auth0's namespaced `https://labourx.la/office`) is found whole
    first. None when absent."""
    if path in claims:
        return claims[path]
    value: Any = claims
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _put(claims: dict[str, Any], path: str, value: Any) -> None:
    *parents, name = path.split(".")
    for part in parents:
        claims = claims.setdefault(part, {})
    claims[name] = value


def principal_from_claims(settings: Settings, claims: dict[str, Any]) -> Principal:
    """Who verified claims say the caller is, read through the claims mapping (settings
    `jwt_*_claim`). A claim the mapping names but that cannot be read as what it should hold
    refuses the token, with the setting to look at: an officer silently left without their
    office or province would see nothing and not know why."""
    province = _one(claims, settings.jwt_province_claim, "LABOURX_JWT_PROVINCE_CLAIM")
    if province is not None:
        province = province.upper()
        if province not in PROVINCE_NAMES:
            raise Unauthorized(
                f"the token's {settings.jwt_province_claim!r} claim is {province!r}, not an"
                " ISO 3166-2:LA province code such as LA-VT (the identity provider's user"
                " attribute, or LABOURX_JWT_PROVINCE_CLAIM)"
            )
    return Principal(
        subject=str(claims["sub"]),
        roles=_roles(settings, claims),
        office=_one(claims, settings.jwt_office_claim, "LABOURX_JWT_OFFICE_CLAIM"),
        province=province,
        national=_national(claim(claims, settings.jwt_national_claim)),
        agency=_one(claims, settings.jwt_agency_claim, "LABOURX_JWT_AGENCY_CLAIM"),
        claims=claims,
    )


def _roles(settings: Settings, claims: Mapping[str, Any]) -> frozenset[Role]:
    """labourx's roles among those of the first roles claim present, each provider name
    mapped first (`jwt_role_map`); the provider's other roles (Keycloak's `offline_access`,
    ...) are not labourx's business and are left out."""
    for path in settings.jwt_roles_claim:
        value = claim(claims, path)
        if value is not None:
            break
    else:
        return frozenset()
    if isinstance(value, str):
        names = [n for n in re.split(r"[\s,]+", value) if n]
    elif isinstance(value, list | tuple) and all(isinstance(n, str) for n in value):
        names = list(value)
    else:
        raise Unauthorized(
            f"the token's {path!r} claim is not a list of role names (LABOURX_JWT_ROLES_CLAIM)"
        )
    mapped = {settings.jwt_role_map.get(name, name) for name in names}
    return frozenset(Role(name) for name in mapped if name in Role._value2member_map_)


def _one(claims: Mapping[str, Any], path: str, setting: str) -> str | None:
    """A claim that holds one value (an office, a province): a string, or a list of one (how
    some providers send every user attribute)."""
    value = claim(claims, path)
    if isinstance(value, list | tuple):
        if not all(isinstance(v, str | int) and not isinstance(v, bool) for v in value):
            raise Unauthorized(f"the token's {path!r} claim is not a text value ({setting})")
        values = {str(v).strip() for v in value if str(v).strip()}
        if len(values) > 1:
            raise Unauthorized(
                f"the token's {path!r} claim holds {len(values)} values"
                f" ({', '.join(sorted(values))}); labourx needs one ({setting})"
            )
        value = values.pop() if values else None
    if value is None:
        return None
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise Unauthorized(f"the token's {path!r} claim is not a text value ({setting})")
    return str(value).strip() or None


def _national(value: Any) -> bool:
    """National scope: the claim is true, or says `national` (alone, among space-separated
    words, or in a list)."""
    if value is True:
        return True
    if isinstance(value, str):
        return value.strip().lower() == "true" or NATIONAL_SCOPE in value.split()
    if isinstance(value, list | tuple):
        return NATIONAL_SCOPE in value
    return False


_bearer = HTTPBearer(auto_error=False)


def reads_bearer(call: Any) -> bool:
    """Whether a dependency is the bearer token's (what a route that authenticates depends on)."""
    return call is _bearer


async def _principal(
    request: Request, credentials: HTTPAuthorizationCredentials | None
) -> Principal:
    if credentials is None:
        raise Unauthorized("a bearer token is required")
    principal = await verified_principal(request.app.state.settings, credentials.credentials)
    request.state.principal = principal
    return principal


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    return await _principal(request, credentials)


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


async def principal_of(request: Request) -> Principal:
    """The principal a dependency of the route authenticated for this request, else the one
    its bearer token says now."""
    principal: Principal | None = getattr(request.state, "principal", None)
    if principal is None:
        principal = await _principal(request, await _bearer(request))
    return principal


def require_roles(*roles: Role) -> Any:
    """Dependency that admits only principals holding one of `roles` (admins always)."""
    admitted = frozenset((*roles, Role.ADMIN))
    wanted = ", ".join(sorted(r.value for r in roles))

    # The token read here rather than through `current_principal`: one dependency less to solve
    # on every request of every route (FastAPI solves each one's own dependencies on each).
    async def _check(
        request: Request,
        credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
    ) -> Principal:
        principal = await _principal(request, credentials)
        if not principal.roles & admitted:
            raise Forbidden(f"this needs one of the roles: {wanted}")
        return principal

    return Depends(_check)


# The role aliases every service uses; a service's own live in one module of it (its scope.py,
# or registry's offices/api.py for `Staff`).
# Admins only (the ministry's supervisors, for matching's agencies).
Admin = Annotated[Principal, require_roles(Role.ADMIN)]
# Office staff of the network (ESC and MRC officers; admins always pass).
OfficeStaff = Annotated[Principal, require_roles(Role.ESC_STAFF, Role.MRC_STAFF)]
# Who reads an office's work: its staff, and analysts (admins always pass).
Reader = Annotated[Principal, require_roles(Role.ESC_STAFF, Role.MRC_STAFF, Role.ANALYST)]
