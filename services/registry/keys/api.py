"""Registry's internal endpoint for the other services: the keys of the people whose sealed
events they meet for the first time (docs/architecture.md, "Erasure on the event log").

Not for staff or partners: only a caller presenting the service token (`LABOURX_SERVICE_TOKEN`)
is answered. One SELECT for a whole batch; an erased or unknown person is left out of the answer.

Every consumer calls it for every batch of people it meets first, so it is served through as few
layers as the app allows: one dependency (the token), the body's model, one SELECT on a pooled
connection outside any transaction (a read: no session, no BEGIN and COMMIT, no outbox).
"""

from __future__ import annotations

import base64
import hmac
import uuid
from typing import TYPE_CHECKING, Annotated

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from services.registry.keys.service import held_keys_of, note_publishing
from shared.app import SettingsDep
from shared.db import SessionDep
from shared.openapi import answers
from shared.problems import Unauthorized

if TYPE_CHECKING:
    from shared.settings import Settings

# Most a consumer asks at once (one consumer batch's new people).
MAX_IDS = 500


@answers(401)  # documented on the operation, as every route's token check is
async def _service_caller(request: Request) -> None:
    # The request itself, not SettingsDep and a Header parameter: each is a dependency FastAPI
    # solves on every call, and every consumer batch makes one.
    settings: Settings = request.app.state.settings
    scheme, _, token = (request.headers.get("authorization") or "").partition(" ")
    expected = settings.service_credential().encode()
    if scheme.lower() != "bearer" or not hmac.compare_digest(token.strip().encode(), expected):
        raise Unauthorized("the service token is required")


ServiceCaller = Annotated[None, Depends(_service_caller)]


async def _noting_publishing(session: SessionDep, settings: SettingsDep) -> None:
    note_publishing(session, settings)


# On every router of registry (app.py): the request's transaction publishes person events as the
# settings say (their v1 twins in an upgrade's migration window).
PublishingNoted = Depends(_noting_publishing)

router = APIRouter(prefix="/internal/v1", tags=["internal"])


class PersonKeysAsked(BaseModel):
    person_ids: list[uuid.UUID] = Field(min_length=1, max_length=MAX_IDS)


class PersonKeys(BaseModel):
    keys: dict[uuid.UUID, str] = Field(
        description="URL-safe base64 of each person's key; an erased or unknown person is absent"
    )


@router.post("/person-keys", response_model=PersonKeys)
async def person_keys(body: PersonKeysAsked, request: Request, _: ServiceCaller) -> PersonKeys:
    """The keys of these people that registry still holds."""
    found = await held_keys_of(request.app.state.engine, body.person_ids)
    # Built without validating (FastAPI validates the answer against the model once, as it
    # answers).
    return PersonKeys.model_construct(
        keys={p: base64.urlsafe_b64encode(k).decode() for p, k in found}
    )
