"""Names of requests for logs and metrics, taken from bounded sets only.

A metric label made from what a client sends (a raw path, a method, an operation name) lets anyone grow
``/metrics`` without bound. A request is named by the template of the route that answered it
(``/api/v1/plaid/sync/{plaidItemId}``), read from the route table, or ``unmatched``; its method by the HTTP
methods the service knows, or ``other``.
"""

from __future__ import annotations

from typing import Any

from starlette.types import Scope

UNMATCHED = "unmatched"
OTHER = "other"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})

_templates_by_router: dict[int, tuple[Any, dict[int, str]]] = {}
"""Per router (kept alive here so that its id stays its own): route id -> full path template."""


def route_template(scope: Scope) -> str:
    """The template of the route that answered, or ``unmatched`` (also when a mounted router found nothing)."""
    route, router = scope.get("route"), scope.get("router")
    if route is None or router is None or getattr(route, "routes", None):
        return UNMATCHED
    return _templates(router).get(id(route), UNMATCHED)


def method_name(scope: Scope) -> str:
    method: str = scope.get("method", "")
    return method if method in KNOWN_METHODS else OTHER


def _templates(router: Any) -> dict[int, str]:
    known = _templates_by_router.get(id(router))
    if known is None or known[0] is not router:
        known = (router, dict(_walk(router.routes, "")))
        _templates_by_router[id(router)] = known
    return known[1]


def _walk(routes: list[Any], prefix: str) -> list[tuple[int, str]]:
    """Every route with its full template; a mount of a plain app (static files) is one template for all."""
    found: list[tuple[int, str]] = []
    for route in routes:
        path_format: str | None = getattr(route, "path_format", None)
        if path_format is None:
            continue
        inner = getattr(route, "routes", None)
        if inner is None:
            found.append((id(route), prefix + path_format))
            continue
        mount_prefix = prefix + path_format.removesuffix("/{path}")
        found.append((id(route), mount_prefix + "/{path}"))
        found.extend(_walk(inner, mount_prefix))
    return found
