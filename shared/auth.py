"""Bearer JWT authentication, roles, and office/province scope for every object."""

from __future__ import annotations

import time
import uuid
from collections import OrderedDict
from collections.abc import Collection
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from typing import Annotated, Any

import jwt
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from shared.problems import Forbidden, Unauthorized
from shared.settings import Settings


class Role(StrEnum):
    ESC_STAFF = "esc_staff"
    MRC_STAFF = "mrc_staff"
    AGENCY = "agency"
    PARTNER = "partner"
    ANALYST = "analyst"
    ADMIN = "admin"


NATIONAL_SCOPE = "national"


@dataclass(frozen=True)
class Principal:
    """Who is calling: subject, roles, and the office and province they work in."""

    subject: str
    roles: frozenset[Role]
    office: str | None = None
    province: str | None = None
    national: bool = False
    claims: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def agency(self) -> str | None:
        """The recruitment agency code an `agency` principal acts for (the `agency` claim)."""
        value = self.claims.get("agency")
        return str(value) if value else None

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
    """A development token signed with the shared secret (HS256)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "sub": subject,
        "roles": sorted(roles),
        "iss": settings.jwt_issuer,
        "aud": settings.jwt_audience,
        "iat": now,
        "exp": now + ttl_s,
        "jti": str(uuid.uuid4()),
        "scope": NATIONAL_SCOPE if national else "province",
    }
    if office:
        claims["office"] = office
    if province:
        claims["province"] = province
    if agency:
        claims["agency"] = agency
    return jwt.encode(claims, settings.jwt_secret.get_secret_value(), algorithm="HS256")


@lru_cache
def _jwks_client(url: str) -> jwt.PyJWKClient:
    return jwt.PyJWKClient(url, cache_keys=True, lifespan=300)


# Verified claims by (token, verifier): an officer sends the same token on every request, and
# verifying it again costs more than the rest of the auth check. Expiry is checked on every hit;
# like any stateless token, one signed by a key later dropped from the JWKS stays valid until then.
_VERIFIED: OrderedDict[tuple[str, ...], dict[str, Any]] = OrderedDict()
_VERIFIED_MAX = 4096


def decode_token(settings: Settings, token: str) -> Principal:
    """Verify a bearer token: HS256 with the shared secret, or RS/ES keys from the JWKS URL."""
    cache_key = (
        token,
        settings.jwt_jwks_url or settings.jwt_secret.get_secret_value(),
        settings.jwt_audience,
        settings.jwt_issuer,
    )
    claims = _VERIFIED.get(cache_key)
    if claims is None or claims["exp"] <= time.time():
        claims = _verify(settings, token)
        _VERIFIED[cache_key] = claims
        if len(_VERIFIED) > _VERIFIED_MAX:
            _VERIFIED.popitem(last=False)
    return _principal(claims)


def _verify(settings: Settings, token: str) -> dict[str, Any]:
    try:
        if settings.jwt_jwks_url:
            key: Any = _jwks_client(settings.jwt_jwks_url).get_signing_key_from_jwt(token).key
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
    except jwt.PyJWTError as exc:
        raise Unauthorized(f"invalid token: {exc}") from exc
    return dict(claims)


def _principal(claims: dict[str, Any]) -> Principal:
    roles = claims.get("roles") or claims.get("realm_access", {}).get("roles", [])
    known = frozenset(Role(r) for r in roles if r in Role._value2member_map_)
    return Principal(
        subject=str(claims["sub"]),
        roles=known,
        office=claims.get("office"),
        province=claims.get("province"),
        national=claims.get("scope") == NATIONAL_SCOPE,
        claims=claims,
    )


_bearer = HTTPBearer(auto_error=False)


async def current_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    if credentials is None:
        raise Unauthorized("a bearer token is required")
    principal = decode_token(request.app.state.settings, credentials.credentials)
    request.state.principal = principal
    return principal


CurrentPrincipal = Annotated[Principal, Depends(current_principal)]


def require_roles(*roles: Role) -> Any:
    """Dependency that admits only principals holding one of `roles` (admins always)."""

    async def _check(principal: CurrentPrincipal) -> Principal:
        if not principal.has_any(*roles, Role.ADMIN):
            wanted = ", ".join(sorted(r.value for r in roles))
            raise Forbidden(f"this needs one of the roles: {wanted}")
        return principal

    return Depends(_check)


# Office staff of the network (ESC and MRC officers; admins always pass).
OfficeStaff = Annotated[Principal, require_roles(Role.ESC_STAFF, Role.MRC_STAFF)]
