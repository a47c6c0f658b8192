"""People: the search (one box, the registry's filters, paged); a person's page and what is done
on it (person.py), serving people of other provinces (serving.py), erasure (erasure.py)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Query as Q
from starlette.responses import Response

from services.console.apis import registry
from services.console.apis.errors import ApiError, Rejected
from services.console.people import labels
from services.console.people.erasure import router as erasure_router
from services.console.people.person import router as person_router
from services.console.people.search import PAGE_SIZE, Query
from services.console.people.serving import router as serving_router
from services.console.web.api import console_router
from services.console.web.forms import Form
from services.console.web.page import OfficerPageDep
from shared.reference.offices import SEED_OFFICES
from shared.reference.places import PROVINCE_NAMES

router = console_router()

Text = Annotated[str | None, Q(max_length=200)]


@router.get("/people")
async def search_people(
    page: OfficerPageDep,
    q: Text = None,
    status: Text = None,
    sex: Text = None,
    age_band: Text = None,
    province_code: Text = None,
    office_code: Text = None,
    occupation: Text = None,
    migration_status: Text = None,
    cursor: Annotated[str | None, Q(max_length=400)] = None,
) -> Response:
    query = Query.of(
        {
            "q": q,
            "status": status,
            "sex": sex,
            "age_band": age_band,
            "province_code": province_code,
            "office_code": office_code,
            "occupation": occupation,
            "migration_status": migration_status,
            "cursor": cursor,
        }
    )
    form = Form(values=query.values)
    api = page.api
    search = registry.search_people(
        api, q=query.q, filters=query.filters, cursor=query.cursor, limit=PAGE_SIZE
    )
    # The whole page also lists the offices for the filter: both calls at once. An htmx
    # request (the search as one types) swaps the results region only.
    calls = [search] if page.htmx else [search, registry.offices(api)]
    answers = await asyncio.gather(*calls, return_exceptions=True)
    found, offices = answers[0], (answers[1] if len(answers) > 1 else [])
    if isinstance(found, Rejected):
        form.reject(found)
        found = None
    elif isinstance(found, BaseException):
        raise found
    if isinstance(offices, ApiError):
        offices = []  # the filter then offers the offices every console knows
    elif isinstance(offices, BaseException):
        raise offices
    status_code = 422 if form.errors else 200
    template = "people/_region.html" if page.htmx else "people/search.html"
    return page.render(
        template,
        status_code,
        form=form,
        query=query,
        found=found,
        office_options=_office_options(offices, page.language),
        province_options=[(code, names) for code, names in PROVINCE_NAMES.items()],
        labels=labels,
    )


def _office_options(offices: list[registry.Office], language: str) -> list[tuple[str, str]]:
    """The registry's offices (an office an admin opened included); the ones every console
    knows if the registry could not list them."""
    named = [(o.code, o.name(language)) for o in offices] or [
        (code, office.name(language)) for code, office in SEED_OFFICES.items()
    ]
    return sorted(named, key=lambda option: option[1])


# A person's page and the pages it leads to: after the search, whose `/people` they extend.
router.include_router(person_router)
router.include_router(serving_router)
router.include_router(erasure_router)
