"""Development sign-in: pick a role and an office, and the console mints a token for that
officer. Offered only when LABOURX_CONSOLE_DEV_SIGN_IN is on (development and test by
default); production refuses to start with it on (shared/settings.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from services.console.auth.api import sign_in_page
from services.console.auth.signin import begin_session
from services.console.i18n import _
from services.console.sessions.domain import STAFF_ROLES, Officer
from services.console.web.api import console_router
from services.console.web.forms import Form
from services.console.web.page import PageDep, local_target
from services.console.web.routing import not_found
from shared.auth import mint_token
from shared.reference.offices import SEED_OFFICES

if TYPE_CHECKING:
    from starlette.responses import Response

router = console_router()


def dev_officer(role: str, office_code: str, token: str = "") -> Officer:
    office = SEED_OFFICES[office_code]
    return Officer(
        subject=f"dev-{office.code.lower()}-{role.replace('_', '-')}",
        roles=frozenset({role}),
        office_code=office.code,
        province_code=office.province_code,
        token=token,
    )


@router.post("/sign-in/dev")
async def dev_sign_in(page: PageDep) -> Response:
    settings = page.console.settings
    if not settings.console_dev_sign_in_enabled:
        return not_found(page)
    form = Form.from_data(await page.request.form())
    role, office_code = form.value("role"), form.value("office_code")
    if role not in STAFF_ROLES:
        form.add_error("role", _("Choose your role."))
    if office_code not in SEED_OFFICES:
        form.add_error("office_code", _("Choose your office."))
    if form.errors:
        return sign_in_page(page, form, next=local_target(form.value("next")), status=422)
    officer = dev_officer(role, office_code)
    token = mint_token(
        settings,
        subject=officer.subject,
        roles=[role],
        office=officer.office_code,
        province=officer.province_code,
        # Valid as long as the session can last: a token that ran out first would sign the
        # officer out in the middle of their work.
        ttl_s=int(settings.console_session_absolute_timeout_s) + 60,
    )
    officer = dev_officer(role, office_code, token)
    return await begin_session(page, officer, method="dev", next=form.value("next"))
