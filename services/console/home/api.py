"""The home page: the officer's office and today's work."""

from __future__ import annotations

from starlette.responses import Response

from services.console.home.today import todays_work
from services.console.people import labels
from services.console.web.api import console_router
from services.console.web.page import OfficerPageDep
from shared import clock

router = console_router()


@router.get("/")
async def home(page: OfficerPageDep) -> Response:
    assert page.officer is not None
    work = await todays_work(page.api, page.officer)
    return page.render("home/home.html", work=work, labels=labels, today=clock.today())
