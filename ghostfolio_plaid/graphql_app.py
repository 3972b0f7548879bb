"""Strawberry's ASGI app with our per-request context, strict JSON, and request errors answered as JSON."""

from __future__ import annotations

from cross_web import AsyncHTTPRequestAdapter, HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.types import Receive, Scope, Send
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL
from strawberry.http import GraphQLRequestData

from ghostfolio_plaid.errors import BadUserInput, NotFound
from ghostfolio_plaid.graphiql import render_page
from ghostfolio_plaid.request_limits import MalformedJSON, parse_json
from ghostfolio_plaid.resolvers.services import Services
from ghostfolio_plaid.schema import build_schema, schema
from ghostfolio_plaid.schema.context import Context


def request_error(status: int, message: str) -> JSONResponse:
    """A request Strawberry refuses before running it (bad JSON, GET for a query, batching...), in GraphQL's own
    error shape: Strawberry's default is a plain-text body no GraphQL client parses."""
    code = NotFound.code if status == 404 else BadUserInput.code
    return JSONResponse({"errors": [{"message": message, "extensions": {"code": code}}]}, status_code=status)


class GraphQLApp(GraphQL[Context, None]):
    def __init__(self, *, graphiql: bool, introspection: bool = True) -> None:
        super().__init__(
            schema if introspection else build_schema(introspection=False),
            graphql_ide="graphiql" if graphiql else None,
            allow_queries_via_get=False,
        )

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
        return Context(services=services, authorization=request.headers.get("authorization"))
