"""Strawberry's ASGI app with our per-request context."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.websockets import WebSocket
from strawberry.asgi import GraphQL

from ghostfolio_plaid.graphiql import render_page
from ghostfolio_plaid.resolvers.services import Services
from ghostfolio_plaid.schema import build_schema, schema
from ghostfolio_plaid.schema.context import Context


class GraphQLApp(GraphQL[Context, None]):
    def __init__(self, *, graphiql: bool, introspection: bool = True) -> None:
        super().__init__(
            schema if introspection else build_schema(introspection=False),
            graphql_ide="graphiql" if graphiql else None,
            allow_queries_via_get=False,
        )

    async def render_graphql_ide(self, request: Request) -> HTMLResponse:
        return HTMLResponse(render_page())

    async def get_context(self, request: Request | WebSocket, response: Response | WebSocket) -> Context:
        services: Services = request.app.state.services
        return Context(services=services, authorization=request.headers.get("authorization"))
