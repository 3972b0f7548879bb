"""The ASGI application: GraphQL at ``/graphql`` and the REST contract at ``/api/v1/plaid``."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route, WebSocketRoute
from tortoise import Tortoise
from tortoise.contrib.starlette import RegisterTortoise

from ghostfolio_plaid import events
from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.db import API_STATEMENT_TIMEOUT_SECONDS, tortoise_config
from ghostfolio_plaid.favicon import FAVICON_ROUTES
from ghostfolio_plaid.graphiql import asset_routes
from ghostfolio_plaid.graphql_app import GraphQLApp
from ghostfolio_plaid.health import HEALTH_ROUTES
from ghostfolio_plaid.logs import configure_logging, install_redaction
from ghostfolio_plaid.metrics import METRICS_ROUTES, record_request
from ghostfolio_plaid.request_limits import BodyGuard
from ghostfolio_plaid.request_log import RequestLogMiddleware
from ghostfolio_plaid.resolvers.services import Services, build_services
from ghostfolio_plaid.rest_compat.errors import nest_error
from ghostfolio_plaid.rest_compat.openapi import openapi_json
from ghostfolio_plaid.rest_compat.routes import routes as rest_routes
from ghostfolio_plaid.schema.subscriptions import SUBSCRIPTION_LIMITS

REST_PREFIX = "/api/v1/plaid"


async def http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    message = "Cannot " + request.method + " " + request.url.path if status in (404, 405) else "Request failed"
    return nest_error(status, message)


Companion = Callable[[Starlette], AbstractAsyncContextManager[None]]


def create_app(
    settings: Settings,
    services: Services | None = None,
    *,
    extra_routes: Sequence[BaseRoute] = (),
    companion: Companion | None = None,
) -> Starlette:
    """The service; ``extra_routes`` and a ``companion`` (run inside the lifespan) let the demo embed more."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        install_redaction(settings.secret_values())
        app.state.services = services or build_services(settings)
        events.configure(settings.redis_url)
        app.state.events = events.EventHub.for_url(settings.redis_url, max_per_user=SUBSCRIPTION_LIMITS.per_user)
        config = tortoise_config(settings.database_url, statement_timeout=API_STATEMENT_TIMEOUT_SECONDS)
        async with RegisterTortoise(app, config=config):
            await Tortoise.get_connection("default").execute_query("SELECT 1")
            if companion is None:
                yield
            else:
                async with companion(app):
                    yield
        await app.state.events.close()
        if services is None:
            app.state.services.close()

    graphql = GraphQLApp(graphiql=settings.enable_graphiql, introspection=settings.enable_introspection)
    return Starlette(
        routes=[
            *HEALTH_ROUTES,
            *METRICS_ROUTES,
            *FAVICON_ROUTES,
            *(asset_routes() if settings.enable_graphiql else []),
            Route("/graphql", graphql, methods=["GET", "POST"]),
            WebSocketRoute("/graphql", graphql),
            *extra_routes,
            Mount(REST_PREFIX, routes=[*rest_routes(), Route("/openapi.json", openapi_json, methods=["GET"])]),
        ],
        exception_handlers={HTTPException: http_error},
        middleware=[
            Middleware(RequestLogMiddleware, observers=[record_request]),
            Middleware(BodyGuard, max_bytes=settings.max_body_bytes, exempt=(f"{REST_PREFIX}/webhook",)),
        ],
        lifespan=lifespan,
    )


def create_app_from_env() -> Starlette:
    """For ``uvicorn --factory`` with several worker processes: each reads the environment itself."""
    settings = Settings.from_env()
    configure_logging(settings.secret_values(), log_format=settings.log_format or "json")
    return create_app(settings)
