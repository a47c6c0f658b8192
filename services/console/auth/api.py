"""The sign-in page (whichever ways of signing in are on) and sign-out."""

from __future__ import annotations

from typing import Annotated

from fastapi import Query
from starlette.responses import Response

from services.console.auth import oidc
from services.console.i18n import N_, _
from services.console.sessions.domain import STAFF_ROLES
from services.console.web.api import console_router
from services.console.web.forms import Form
from services.console.web.page import Page, PageDep, local_target
from shared.reference.offices import SEED_OFFICES, OfficeKind

router = console_router()

ROLE_NAMES = {
    "esc_staff": N_("Employment Service Centre officer"),
    "mrc_staff": N_("Migrant Resource Centre officer"),
    "admin": N_("Administrator"),
    "analyst": N_("Analyst"),
}
assert set(ROLE_NAMES) == set(STAFF_ROLES)

# Why the officer is on the sign-in page again.
ENDED = {
    "signed_out": N_("You have signed out."),
    "idle": N_("You were signed out because the console was not used for a while."),
    "expired": N_("Your session reached its time limit. Sign in again to go on."),
    "revoked": N_("An administrator ended your session. Sign in again to go on."),
    "token_rejected": N_("The services no longer accept your sign-in. Sign in again to go on."),
    "replaced": N_("You signed in again in another window."),
}


def sign_in_page(page: Page, form: Form, *, next: str, status: int = 200) -> Response:
    offices = sorted(
        SEED_OFFICES.values(), key=lambda o: (o.kind != OfficeKind.ESC, o.name(page.language))
    )
    return page.render(
        "auth/sign_in.html",
        status,
        form=form,
        next=next,
        roles=[(role, _(ROLE_NAMES[role])) for role in STAFF_ROLES],
        offices=offices,
        notice=ENDED.get(page.ended or form.value("ended")),
        oidc=oidc.enabled(page.console.settings),
    )


@router.get("/sign-in")
async def sign_in(
    page: PageDep,
    next: Annotated[str | None, Query(max_length=2000)] = None,
    ended: Annotated[str | None, Query(max_length=20)] = None,
) -> Response:
    target = local_target(next)
    if page.officer is not None:
        return page.redirect(target)
    form = Form(values={"role": "esc_staff", "ended": ended or ""})
    return sign_in_page(page, form, next=target)


@router.post("/sign-out")
async def sign_out(page: PageDep) -> Response:
    # Ends the console's session (end_session), and the provider's for an OIDC sign-in.
    return await oidc.sign_out(page)
