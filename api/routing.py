"""Which route owns a path, and which methods a path accepts.

Starlette tries routes in order and answers a wrong method with the first route whose path matched,
so `/v1/profiles/mappings` (POST) was claimed by `/v1/profiles/{user_id}` (GET): `DELETE` answered
405 with `Allow: GET`, and `GET` tried to read a profile called "mappings". Two rules fix that:
a literal path beats a path parameter (`LiteralFirstRoute`), and a 405 names the methods of every
route that owns the path (`allowed_methods`).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from fastapi.routing import APIRoute, iter_route_contexts
from starlette.routing import Match, get_route_path
from starlette.types import Scope


def routes_on_path(scope: Scope) -> Iterator[Any]:
    """The app's HTTP routes (as FastAPI resolves them, prefixes included) whose path matches the request's."""
    app = scope.get("app")
    path = get_route_path(scope)
    for route in iter_route_contexts(app.routes if app is not None else []):
        regex = getattr(route, "path_regex", None)
        if route.methods and regex is not None and regex.match(path):
            yield route


def claimed_by_literal_route(scope: Scope) -> bool:
    """Whether a route without path parameters has exactly this request's path."""
    return any(not route.param_convertors for route in routes_on_path(scope))


class LiteralFirstRoute(APIRoute):
    """A route whose path parameters never capture a path that another route spells out literally."""

    def matches(self, scope: Scope) -> tuple[Match, Scope]:
        match, child_scope = super().matches(scope)
        if match is not Match.NONE and self.param_convertors and claimed_by_literal_route(scope):
            return Match.NONE, {}
        return match, child_scope


def allowed_methods(scope: Scope) -> list[str]:
    """Every method the routes owning this request's path accept, sorted (the `Allow` of a 405).

    The owners are the literal routes of the path when there are any, else the templated ones, as
    `LiteralFirstRoute` decides."""
    routes = list(routes_on_path(scope))
    literal = [route for route in routes if not route.param_convertors]
    methods: set[str] = set()
    for route in literal or routes:
        methods |= route.methods
    return sorted(methods)
