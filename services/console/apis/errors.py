"""What can go wrong calling a service, as the console's pages need to tell it apart."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class FieldProblem:
    """One bad field a service named in its problem+json (`errors[].field`)."""

    field: str
    message: str
    code: str


class ApiError(Exception):
    """A service answered with an error, or not at all."""

    def __init__(self, service: str, status: int, problem: dict[str, Any] | None = None) -> None:
        self.service = service
        self.status = status
        self.problem = problem or {}
        super().__init__(f"{service}: {status} {self.detail}")

    @property
    def detail(self) -> str:
        return str(self.problem.get("detail") or self.problem.get("title") or "")

    @property
    def slug(self) -> str:
        """The problem's type, e.g. `probable-duplicate`."""
        return str(self.problem.get("type", "")).rsplit("/", 1)[-1]


class TokenRefused(ApiError):
    """401: the officer's token is no longer accepted; they must sign in again."""


class NotAllowed(ApiError):
    """403: outside the officer's role or scope."""


class NotFound(ApiError):
    """404: no such thing (or not one the officer may know of)."""


class Rejected(ApiError):
    """400, 409 or 422: the request was refused for what it said; the page shows why beside
    the fields named (a form keeps what was typed)."""

    @property
    def field_problems(self) -> list[FieldProblem]:
        found = []
        for error in self.problem.get("errors") or []:
            if isinstance(error, dict) and error.get("field"):
                found.append(
                    FieldProblem(
                        field=str(error["field"]),
                        message=str(error.get("message", "")),
                        code=str(error.get("code", "invalid")),
                    )
                )
        if not found and (field := self.problem.get("field")):
            found.append(FieldProblem(str(field), self.detail, self.slug or "invalid"))
        return found


class Unavailable(ApiError):
    """5xx, a timeout or no connection: nothing the officer sent was saved by this call (a
    write with an Idempotency-Key can be sent again safely)."""


def from_response(service: str, status: int, problem: dict[str, Any] | None) -> ApiError:
    if status == 401:
        return TokenRefused(service, status, problem)
    if status == 403:
        return NotAllowed(service, status, problem)
    if status == 404:
        return NotFound(service, status, problem)
    if status >= 500:
        return Unavailable(service, status, problem)
    return Rejected(service, status, problem)
