"""Strawberry's ASGI app with our per-request context, strict JSON, and request errors answered as JSON; and
the same endpoint's WebSocket side: subscriptions over graphql-transport-ws, authenticated in ``connection_init``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncGenerator
from datetime import timedelta
from typing import Any

import jwt
from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import ASGIWebSocketAdapter, GraphQL
from strawberry.http import GraphQLRequestData
from strawberry.http.exceptions import NonJsonMessageReceived
from strawberry.subscriptions import GRAPHQL_TRANSPORT_WS_PROTOCOL
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import BaseGraphQLTransportWSHandler
from strawberry.subscriptions.protocols.graphql_transport_ws.types import ConnectionInitMessage, Message
from strawberry.types.unset import UNSET, UnsetType

from ghostfolio_plaid.errors import BadUserInput, DomainError, FeatureDisabled, NotFound
from ghostfolio_plaid.graphiql import render_page
from ghostfolio_plaid.request_limits import MalformedJSON, parse_json
from ghostfolio_plaid.resolvers.services import Services
from ghostfolio_plaid.schema import build_schema, schema
from ghostfolio_plaid.schema.context import Context
from ghostfolio_plaid.schema.subscriptions import SUBSCRIPTION_LIMITS, SubscriptionLimits

log = logging.getLogger(__name__)

CLOSE_UNAUTHORIZED = 4401
"""A missing, invalid or expired token in ``connection_init``, or the token expiring while connected."""
CLOSE_FORBIDDEN = 4403
"""The Plaid integration is disabled."""
CLOSE_IDLE = 4408
"""No subscription open for ``SubscriptionLimits.idle_seconds`` (or no ``connection_init`` in time)."""
CLOSE_INTERNAL = 1011


def request_error(status: int, message: str) -> JSONResponse:
    """A request Strawberry refuses before running it (bad JSON, GET for a query, batching...), in GraphQL's own
    error shape: Strawberry's default is a plain-text body no GraphQL client parses."""
    code = NotFound.code if status == 404 else BadUserInput.code
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status)


class WebSocketAdapter(ASGIWebSocketAdapter):
    """Our strict ``decode_json`` refuses a malformed message with an HTTP error; on a socket that is a 4400."""

    async def iter_json(self, *, ignore_parsing_errors: bool = False) -> AsyncGenerator[object, None]:
        try:
            async for message in super().iter_json(ignore_parsing_errors=ignore_parsing_errors):
                yield message
        except HTTPException:
            raise NonJsonMessageReceived from None


class LiveConnection(BaseGraphQLTransportWSHandler[Context, None]):
    """One WebSocket: authenticated by ``connection_init``, closed when its token expires or when it has had no
    subscription for ``idle_seconds``."""

    view: GraphQLApp

    def on_request_accepted(self) -> None:
        super().on_request_accepted()
        self.last_activity = time.monotonic()
        self.watchdog = asyncio.create_task(self._watch(), name="graphql-ws-watchdog")

    async def shutdown(self) -> None:
        self.watchdog.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self.watchdog
        await super().shutdown()

    async def handle_message(self, message: Message) -> None:
        self.last_activity = time.monotonic()
        await super().handle_message(message)

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        try:
            await super().handle_connection_init(message)
        except FeatureDisabled as exc:
            await self.websocket.close(code=CLOSE_FORBIDDEN, reason=exc.message[:120])
        except DomainError as exc:
            await self.websocket.close(code=CLOSE_UNAUTHORIZED, reason=exc.message[:120])
        except Exception:
            log.exception("GraphQL WebSocket connection_init failed")
            await self.websocket.close(code=CLOSE_INTERNAL, reason="Internal server error")

    async def _watch(self) -> None:
        limits = self.view.limits
        tick = max(0.05, min(1.0, limits.idle_seconds / 4))
        while True:
            await asyncio.sleep(tick)
            now = time.monotonic()
            expires_at = self.context.expires_at
            if expires_at is not None and time.time() >= expires_at:
                await self._close(CLOSE_UNAUTHORIZED, "Token expired")
                return
            if not self.operations and now - self.last_activity >= limits.idle_seconds:
                await self._close(CLOSE_IDLE, "Idle timeout")
                return
            if self.operations:
                self.last_activity = now

    async def _close(self, code: int, reason: str) -> None:
        for operation_id in list(self.operations):
            await self.cleanup_operation(operation_id)
        with contextlib.suppress(Exception):
            await self.websocket.close(code=code, reason=reason)


class GraphQLApp(GraphQL[Context, None]):
    websocket_adapter_class = WebSocketAdapter
    graphql_transport_ws_handler_class = LiveConnection

    def __init__(
        self, *, graphiql: bool, introspection: bool = True, limits: SubscriptionLimits = SUBSCRIPTION_LIMITS
    ) -> None:
        super().__init__(
            schema if introspection else build_schema(introspection=False),
            graphql_ide="graphiql" if graphiql else None,
            allow_queries_via_get=False,
            subscription_protocols=[GRAPHQL_TRANSPORT_WS_PROTOCOL],
            connection_init_wait_timeout=timedelta(seconds=limits.connection_init_seconds),
            max_subscriptions_per_connection=limits.per_connection,
        )
        self.limits = limits

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        try:
            response = await self.run(Request(scope, receive))
        except HTTPException as exc:
            response = request_error(exc.status_code, exc.reason)
        await response(scope, receive, send)

    def decode_json(self, data: str | bytes) -> object:
        """Strawberry decodes the request body (bytes) and the ``variables`` and ``extensions`` of a GET (strings)
        here. It only expects a JSON syntax error, and reads a body that is not an object or an array with
        ``.get()``: anything else was a 500."""
        try:
            value = parse_json(data)
        except MalformedJSON as exc:
            raise HTTPException(400, str(exc)) from None
        if isinstance(data, bytes) and not isinstance(value, dict | list):
            raise HTTPException(400, "The request body must be a JSON object")
        return value

    async def parse_http_body(self, request: AsyncHTTPRequestAdapter) -> GraphQLRequestData | list[GraphQLRequestData]:
        parsed = await super().parse_http_body(request)
        if isinstance(parsed, GraphQLRequestData) and not isinstance(parsed.operation_name, str | None):
            raise HTTPException(400, "The GraphQL operation's `operationName` must be a string or null, if provided.")
        return parsed

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(render_page())

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        services: Services = request.app.state.services
        if isinstance(request, WebSocket):
            return Context(services=services, authorization=None, hub=request.app.state.events, cache=False)
        return Context(services=services, authorization=request.headers.get("authorization"))

    async def on_ws_connect(self, context: Context) -> UnsetType | dict[str, object] | None:
        """``connection_init``'s payload carries the token (``{"Authorization": "Bearer ..."}``); raises the
        domain error a query would (``LiveConnection`` turns it into a close code)."""
        params = context.connection_params or {}
        header = params.get("Authorization", params.get("authorization"))
        context.authorization = header if isinstance(header, str) else None
        await context.user_id()
        context.expires_at = _expiry(context.authorization)
        unset: UnsetType = UNSET
        return unset


def _expiry(authorization: str | None) -> float | None:
    """The verified token's ``exp`` (the signature was checked by ``authenticate`` just before)."""
    token = (authorization or "").partition(" ")[2].strip()
    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return None
    exp = claims.get("exp")
    return float(exp) if isinstance(exp, int | float) else None
