"""Who calls partner routes: a partner, by its API key in `X-API-Key` (not `Authorization`,
which carries staff JWTs everywhere else, so the two can never be confused)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader

from services.notify.partners import api_keys, partner_accounts
from services.notify.partners.models import Partner
from shared import ratelimit
from shared.db import SessionDep
from shared.problems import Unauthorized

_api_key = APIKeyHeader(
    name="X-API-Key", auto_error=False, description="A partner's API key (`lxp_...`)"
)


async def current_partner(
    request: Request, session: SessionDep, api_key: Annotated[str | None, Security(_api_key)]
) -> Partner:
    """The active partner whose live key the request carries; 401 for anything else."""
    if not api_key:
        raise Unauthorized("a partner API key is required in the X-API-Key header")
    # Wrong keys count per client address and per key prefix (what is aimed at one partner's
    # key); past either limit every attempt gets 429, the right key too, until it frees up.
    attempt = {
        "api_key_address": ratelimit.client_address(request),
        "api_key_prefix": api_key[: len(api_keys.API_KEY_PREFIX) + 8],
    }
    async with ratelimit.failures_counted(request, attempt):
        return await partner_accounts.authenticate(session, api_key)


CurrentPartner = Annotated[Partner, Depends(current_partner)]
