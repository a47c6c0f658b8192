"""The people search as a form: what the officer typed, passed to the registry as they typed
it (the registry reads a name in either script, a phone in any form, a reference or a
document number from the one box, and owns every rule about them)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import urlencode

from services.console.apis.registry import SEARCH_FILTERS

PAGE_SIZE = 25
# A person's page is reached by their reference or their id, nothing else.
PERSON_KEY = re.compile(
    r"^(P-[0-9A-Za-z]{4,12}|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$"
)


@dataclass(frozen=True)
class Query:
    q: str | None
    filters: dict[str, str | None]
    cursor: str | None

    @classmethod
    def of(cls, values: dict[str, str | None]) -> Query:
        def clean(name: str) -> str | None:
            value = (values.get(name) or "").strip()
            return value or None

        return cls(
            q=clean("q"),
            filters={name: clean(name) for name in SEARCH_FILTERS},
            cursor=clean("cursor"),
        )

    @property
    def values(self) -> dict[str, str]:
        """What the form shows again."""
        return {k: v for k, v in {"q": self.q, **self.filters}.items() if v}

    def url(self, cursor: str | None = None) -> str:
        """This search's address, on the page after `cursor` (for "next page" links)."""
        params = {**self.values, **({"cursor": cursor} if cursor else {})}
        return "/people" + (f"?{urlencode(params)}" if params else "")

    @property
    def filtered(self) -> bool:
        return any(self.filters.values())
