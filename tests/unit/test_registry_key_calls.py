"""A consumer's call to registry for person keys (shared/sealing_consumer.py `fetched_keys`): the
keys registry answers, and anything else retried as registry unreachable, never as a failure of
the event (which would count toward dead-lettering it)."""

from __future__ import annotations

import base64
import json
import secrets
import uuid

import httpx
import pytest

from shared.sealing_consumer import KEYS_PATH, RegistryKeys, RegistryUnreachable, fetched_keys

TOKEN = "service-token"


def _registry(handler: httpx.MockTransport) -> RegistryKeys:
    return RegistryKeys(
        handler,
        httpx.URL(f"http://registry.test{KEYS_PATH}"),
        {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"},
        httpx.Timeout(1.0).as_dict(),
    )


async def test_the_keys_registry_answers_are_returned_for_the_people_asked() -> None:
    held, erased = uuid.uuid4(), uuid.uuid4()
    key = secrets.token_bytes(32)
    asked: list[httpx.Request] = []

    def answer(request: httpx.Request) -> httpx.Response:
        asked.append(request)
        return httpx.Response(
            200, json={"keys": {str(held): base64.urlsafe_b64encode(key).decode()}}
        )

    keys = await fetched_keys(_registry(httpx.MockTransport(answer)), [held, erased])

    assert keys == {held: key}
    (request,) = asked
    assert request.method == "POST"
    assert request.url == f"http://registry.test{KEYS_PATH}"
    assert request.headers["authorization"] == f"Bearer {TOKEN}"
    assert request.headers["content-type"] == "application/json"
    assert json.loads(request.content) == {"person_ids": [str(held), str(erased)]}


async def test_no_people_asked_makes_no_call() -> None:
    def answer(request: httpx.Request) -> httpx.Response:
        raise AssertionError("called")

    assert await fetched_keys(_registry(httpx.MockTransport(answer)), []) == {}


@pytest.mark.parametrize(
    "answer",
    [
        httpx.Response(503, json={"title": "Service unavailable"}),
        httpx.Response(401, json={"title": "the service token is required"}),
        httpx.Response(200, json={"title": "not the keys"}),
        httpx.Response(200, content=b"<html>a proxy's page</html>"),
        httpx.Response(200, json={"keys": {"not-a-uuid": "AAAA"}}),
    ],
    ids=["503", "401", "no keys", "not json", "bad id"],
)
async def test_an_answer_that_is_not_the_keys_is_registry_unreachable(
    answer: httpx.Response,
) -> None:
    registry = _registry(httpx.MockTransport(lambda request: answer))

    with pytest.raises(RegistryUnreachable):
        await fetched_keys(registry, [uuid.uuid4()])


async def test_registry_not_answering_is_registry_unreachable() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    with pytest.raises(RegistryUnreachable):
        await fetched_keys(_registry(httpx.MockTransport(refuse)), [uuid.uuid4()])
