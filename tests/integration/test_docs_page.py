"""Every service's /docs works in an office with no route to a CDN: the page loads Swagger UI
from the service itself, and every asset it names is served."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    import httpx


@pytest.mark.parametrize("service", ["registry", "matching", "predeparture", "notify"])
async def test_the_api_docs_page_needs_nothing_from_outside(
    service: str, service_clients: dict[str, httpx.AsyncClient]
) -> None:
    client = service_clients[service]
    page = await client.get("/docs")
    assert page.status_code == 200
    assets = re.findall(r"""(?:src|href)=["']?([^"' >]+)""", page.text)
    assert assets, page.text
    for url in assets:
        assert not re.match(r"(https?:)?//", url), f"/docs loads {url} from outside"
        asset = await client.get(url)
        assert asset.status_code == 200, url
        assert len(asset.content) > 500, url
    assert "url: '/openapi.json'" in page.text or '"/openapi.json"' in page.text
