"""Annotations that libraries read while the program runs resolve, in every module.

pydantic (models), SQLAlchemy (`Mapped[...]`), FastAPI (routes and every dependency under
them) and Typer (commands) evaluate annotations at run time, in the module's namespace. An
import moved under `if TYPE_CHECKING:` (ruff's TC rules ask for it where only the type checker
needs the name) leaves such a name undefined there, and the failure comes late: a FastAPI
parameter silently read as a query string, a model that fails at its first validation, a
mapper that fails at its first query. These checks make every such case fail here, at once.
"""

from __future__ import annotations

import importlib
import pkgutil
import typing

import pydantic
import pytest
import typer
from fastapi.routing import APIRoute
from sqlalchemy.orm import configure_mappers

import labourx
import services
import shared
from labourx.catalog import ALL, load
from shared.app import create_app
from shared.settings import Settings

if typing.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from fastapi.dependencies.models import Dependant
    from starlette.routing import BaseRoute


def _modules() -> Iterator[str]:
    for package in (shared, services, labourx):
        for module in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if ".migrations.versions" not in module.name:
                yield module.name


MODULES = sorted(_modules())


def test_every_module_imports() -> None:
    failed = {}
    for name in MODULES:
        try:
            importlib.import_module(name)
        except Exception as error:
            failed[name] = repr(error)
    assert not failed, failed


def _unresolved(dependant: Dependant) -> Iterator[str]:
    params = [
        *dependant.path_params,
        *dependant.query_params,
        *dependant.header_params,
        *dependant.cookie_params,
        *dependant.body_params,
    ]
    for param in params:
        if isinstance(param.field_info.annotation, typing.ForwardRef) or "ForwardRef(" in repr(
            param.field_info.annotation
        ):
            where = getattr(dependant.call, "__module__", "?")
            yield f"{where}.{getattr(dependant.call, '__name__', '?')}: {param.name}"
    for sub in dependant.dependencies:
        yield from _unresolved(sub)


def api_routes(routes: Iterable[BaseRoute]) -> Iterator[APIRoute]:
    """Every APIRoute, those of routers included in routers too: FastAPI keeps an included
    router's routes behind one entry (`original_router`), which a walk of `app.routes` alone
    misses (the console's person pages were missed so)."""
    for route in routes:
        if isinstance(route, APIRoute):
            yield route
        included = getattr(route, "original_router", None)
        if included is not None:
            yield from api_routes(included.routes)


@pytest.mark.parametrize("service", ALL)
def test_every_route_and_dependency_has_its_parameter_types(service: str) -> None:
    app = create_app(load(service), Settings())
    routes = list(api_routes(app.routes))
    unresolved = {found for route in routes for found in _unresolved(route.dependant)}
    assert not unresolved, sorted(unresolved)


def test_the_walk_reaches_routes_of_included_routers() -> None:
    paths = {route.path for route in api_routes(create_app(load("console"), Settings()).routes)}
    assert "/people/{person}" in paths


def _models(cls: type[pydantic.BaseModel]) -> Iterator[type[pydantic.BaseModel]]:
    for sub in cls.__subclasses__():
        if sub.__module__.split(".")[0] in {"shared", "services", "labourx"}:
            yield sub
        yield from _models(sub)


def test_every_model_is_fully_defined() -> None:
    for name in MODULES:
        importlib.import_module(name)
    incomplete = {
        f"{model.__module__}.{model.__qualname__}": str(error)[:200]
        for model in set(_models(pydantic.BaseModel))
        if not model.__pydantic_complete__
        for error in _rebuild_error(model)
    }
    assert not incomplete, incomplete


def _rebuild_error(model: type[pydantic.BaseModel]) -> list[Exception]:
    try:
        model.model_rebuild(raise_errors=True)
    except Exception as error:
        return [error]
    return []


def test_every_table_mapping_configures() -> None:
    for name in MODULES:
        importlib.import_module(name)
    configure_mappers()


def test_every_command_line_parameter_resolves() -> None:
    from labourx.cli import app

    command = typer.main.get_command(app)
    assert command.name is not None
