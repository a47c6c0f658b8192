"""HTTP routes for completions: a person's orientation record and printable certificates (staff
and analysts), and the public check of a certificate's code (no token).

Authentication in labourx is a dependency of each route (`Reader`, `Manager`, ...), not of the
app or router, so a public route is one that declares none. They live on their own router,
`public`, so that none of them picks up a principal by accident; it is included in `router`,
which the app wires like every other feature's.
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Path, Response
from starlette.concurrency import run_in_threadpool

from services.predeparture.completions import service
from services.predeparture.completions.certificates import render_pdf
from services.predeparture.completions.schemas import OrientationRead, Verification
from shared import clock, ratelimit
from shared.app import SettingsDep
from shared.auth import Reader
from shared.db import SessionDep

router = APIRouter(tags=["completions"])
public = APIRouter(tags=["certificates (public)"])

# Answers about people are neither kept by caches on the way nor indexed.
PRIVATE_HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


@router.get("/v1/people/{person_id}/orientation", response_model=OrientationRead)
async def person_orientation(
    person_id: uuid.UUID, session: SessionDep, principal: Reader
) -> OrientationRead:
    """The person's attendance, what they still need for each destination, their certificates
    (staff of the person's province or of an office serving them)."""
    return await service.orientation(session, person_id, principal, today=clock.today())


@router.get(
    "/v1/certificates/{certificate_number}.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}},
)
async def certificate_pdf(
    certificate_number: Annotated[str, Path(max_length=40)],
    session: SessionDep,
    principal: Reader,
    settings: SettingsDep,
) -> Response:
    """The printable certificate, Lao then English: the holder's full name in both scripts,
    the destination, the issuing office, and the QR code of its public verification link."""
    content = await service.certificate_content(session, certificate_number, principal, settings)
    # Drawing takes ~15 ms of CPU: off the event loop, so other requests are not held up.
    pdf = await run_in_threadpool(render_pdf, content)
    return Response(
        pdf,
        media_type="application/pdf",
        headers={
            "Content-Disposition": f'inline; filename="{content.certificate_number}.pdf"',
            **PRIVATE_HEADERS,
        },
    )


@public.get(
    "/v1/certificates/verify/{code}",
    response_model=Verification,
    openapi_extra={"security": []},
    responses={404: {"description": "No certificate has this code"}},
    # Every check counts, found or not (LABOURX_RATE_LIMIT_CERTIFICATE_VERIFY).
    dependencies=[ratelimit.per_client("certificate_verify")],
)
async def verify_certificate(code: str, session: SessionDep, response: Response) -> Verification:
    """Anyone holding a certificate checks its code: valid, withdrawn or expired, with the
    initials, destination and dates, and nothing else about the person.

    Guessing is the only way to find a code (4.2e14 of them, looked up by hash only), and each
    client address may ask only so often (429 with Retry-After past the limit).
    """
    response.headers.update(PRIVATE_HEADERS)
    return await service.verify(session, code, today=clock.today())


router.include_router(public)
