"""OpenID Connect sign-in in the console's database: sign-ins under way (bound to the browser
that started them), each session's tokens from the provider, and the officer's access token
refreshed before it runs out.

Each function works in the transaction it is given, except `fresh`, which holds one session's
row while the provider refreshes its token (see there why).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import jwt
from sqlalchemy import delete

from services.console.apis.errors import Unavailable
from services.console.auth.oidc_models import SessionGrant, SignInFlow
from services.console.auth.oidc_provider import (
    FLOW_TTL_S,
    ProviderRefused,
    ProviderUnavailable,
    Tokens,
    provider_of,
)
from services.console.sessions import domain
from services.console.sessions import service as sessions
from services.console.sessions.domain import STAFF_ROLES, Officer
from services.console.sessions.models import ConsoleSession
from services.console.web.state import console_of
from shared.auth import ProviderUnreachable, verified_principal
from shared.problems import Unauthorized

if TYPE_CHECKING:
    from fastapi import Request
    from sqlalchemy.ext.asyncio import AsyncSession

    from shared.settings import Settings

METHOD = "oidc"
# `Unavailable.service` when the provider does not answer (the error page names it).
IDENTITY_PROVIDER = "identity_provider"


def flow_cookie(secure: bool) -> str:
    """The cookie naming this browser's sign-ins under way (`__Host-`: see session_cookie)."""
    return "__Host-labourx-oidc" if secure else "labourx-oidc"


async def start_flow(
    db: AsyncSession,
    browser: str,
    *,
    state: str,
    data: dict[str, Any],
    next: str,
    now: datetime,
) -> None:
    """Remember a sign-in sent to the provider, for the browser whose flow cookie is
    `browser`; sign-ins never finished are forgotten here after FLOW_TTL_S."""
    await db.execute(
        delete(SignInFlow).where(SignInFlow.created_at < now - timedelta(seconds=FLOW_TTL_S))
    )
    db.add(
        SignInFlow(
            state=state,
            browser_hash=domain.digest(browser),
            data=data,
            next=next,
            created_at=now,
        )
    )
    await db.flush()


async def take_flow(
    db: AsyncSession, browser: str | None, state: str | None, *, now: datetime
) -> SignInFlow | None:
    """The sign-in this callback finishes, used up: none for a state that was changed, was
    started by another browser (a link planted to sign the officer in as someone else), was
    used already or is too old."""
    if not browser or not state:
        return None
    flow: SignInFlow | None = await db.scalar(
        delete(SignInFlow)
        .where(SignInFlow.state == state, SignInFlow.browser_hash == domain.digest(browser))
        .returning(SignInFlow)
    )
    if flow is None or flow.created_at < now - timedelta(seconds=FLOW_TTL_S):
        return None
    return flow


class NotStaff(Exception):
    """The provider signed someone in whom labourx does not let into the console."""


async def officer_from(settings: Settings, tokens: Tokens) -> Officer:
    """The officer the access token names, read exactly as the four services read it (the
    same verification and claims mapping, shared/auth.py): the console shows the officer the
    services will see, and refuses at sign-in a token they would refuse on every call."""
    try:
        principal = await verified_principal(settings, tokens.access_token)
    except Unauthorized as exc:
        raise NotStaff(f"the services would refuse this access token: {exc.detail}") from exc
    except ProviderUnreachable as exc:  # its keys did not come: the token may be good
        raise ProviderUnavailable(exc.detail) from exc
    if tokens.identity and tokens.identity.get("sub") != principal.subject:
        raise NotStaff("the ID token and the access token name different people")
    roles = frozenset(role.value for role in principal.roles) & frozenset(STAFF_ROLES)
    if not roles:
        raise NotStaff(f"{principal.subject} holds no labourx staff role")
    return Officer(
        subject=principal.subject,
        roles=roles,
        office_code=principal.office,
        province_code=principal.province,
        national=principal.national,
        token=tokens.access_token,
    )


async def keep(db: AsyncSession, session_cookie: str, tokens: Tokens, *, now: datetime) -> None:
    """Keep the provider's tokens with the session just started (in its transaction), and
    drop those of sessions that have ended since (idle, expired, revoked): a refresh token
    outlives its use only until the next sign-in, not until the week-long purge of sessions."""
    await db.execute(
        delete(SessionGrant).where(
            SessionGrant.session_hash == ConsoleSession.id_hash,
            ConsoleSession.ended_at.is_not(None),
        )
    )
    db.add(
        SessionGrant(
            session_hash=domain.digest(session_cookie),
            refresh_token=tokens.refresh_token,
            id_token=tokens.id_token,
            created_at=now,
        )
    )
    await db.flush()


async def forget(db: AsyncSession, session_hash: str) -> tuple[bool, str | None]:
    """Drop a session's tokens as its officer signs out: whether it had any (it was signed in
    with OpenID Connect), and its ID token, the hint for the provider's sign-out."""
    found = (
        await db.execute(
            delete(SessionGrant)
            .where(SessionGrant.session_hash == session_hash)
            .returning(SessionGrant.id_token)
        )
    ).first()
    return (found is not None, found[0] if found is not None else None)


def expires_at(token: str) -> datetime | None:
    """When an access token runs out, read from it without checking it (the services check
    it on every call; here it only decides when to refresh)."""
    try:
        exp = jwt.decode(token, options={"verify_signature": False}).get("exp")
    except jwt.PyJWTError:
        return None
    return datetime.fromtimestamp(exp, UTC) if isinstance(exp, int | float) else None


@dataclass(frozen=True)
class Fresh:
    """The officer with a token good for this request, or None and why the session ended."""

    officer: Officer | None
    ended: str | None = None


async def fresh(request: Request, session_hash: str, officer: Officer) -> Fresh:
    """The officer, their access token refreshed first if it runs out within the margin
    (LABOURX_CONSOLE_OIDC_REFRESH_MARGIN_S) and the provider gave a refresh token.

    The session's grant row stays locked while the provider answers: a page sends several
    requests at once (htmx), and a refresh token used twice is, at providers that rotate
    them, taken for a stolen one and the whole sign-in revoked. The others wait for the one
    refresh and use its token.
    """
    console = console_of(request)
    settings = console.settings
    now = console.clock()
    expiry = expires_at(officer.token)
    margin = timedelta(seconds=settings.console_oidc_refresh_margin_s)
    if expiry is None or expiry - now > margin:
        return Fresh(officer)
    ended: str | None = None
    async with request.app.state.sessions() as db, db.begin():
        grant = await db.get(SessionGrant, session_hash, with_for_update=True)
        record = await db.get(ConsoleSession, session_hash)
        if record is None or record.ended_at is not None:
            return Fresh(None, record.end_reason if record else None)
        if record.token != officer.token:  # refreshed by another request meanwhile
            return Fresh(sessions.officer(record))
        if grant is None or grant.refresh_token is None:
            if expiry > now:
                return Fresh(officer)  # no refresh possible: use it while it lasts
            ended = "expired"
        else:
            try:
                tokens = await provider_of(request.app).refresh(grant.refresh_token, grant.id_token)
                renewed = await officer_from(settings, tokens)
            except ProviderUnavailable as exc:
                if expiry > now:
                    return Fresh(officer)  # try again on the next request
                raise Unavailable(IDENTITY_PROVIDER, 503, {"detail": str(exc)}) from exc
            except (ProviderRefused, NotStaff):
                # Signed out at the provider, the account disabled, or no longer staff.
                ended = "token_rejected"
            else:
                record.token = renewed.token
                record.roles = sorted(renewed.roles)
                record.office_code = renewed.office_code
                record.province_code = renewed.province_code
                record.national = renewed.national
                grant.refresh_token = tokens.refresh_token
                grant.id_token = tokens.id_token
                grant.refreshed_at = now
                return Fresh(renewed)
        await sessions.end(db, session_hash, ended, now=now)
    return Fresh(None, ended)
