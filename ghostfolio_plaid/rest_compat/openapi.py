"""The OpenAPI 3.1 document of the REST layer, built from the route table (never kept by hand)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from ghostfolio_plaid.rest_compat import contract
from ghostfolio_plaid.rest_compat.routes import ROUTES, RestRoute

PREFIX = "/api/v1/plaid"


def _json(schema: contract.Schema) -> dict[str, Any]:
    return {"content": {"application/json": {"schema": schema}}}


def _operation_id(route: RestRoute) -> str:
    words = route.path.strip("/").replace("{", "").replace("}", "").replace("/", "_").replace("-", "_")
    return f"{route.method.lower()}_{words}"


def _operation(route: RestRoute) -> dict[str, Any]:
    success: dict[str, Any] = {"description": HTTPStatus(route.status).phrase}
    if route.response is not None:
        success.update(_json(route.response))
    operation: dict[str, Any] = {
        "summary": route.summary,
        "operationId": _operation_id(route),
        "responses": {
            str(route.status): success,
            **{
                str(status): {"description": HTTPStatus(status).phrase, **_json(contract.ERROR)}
                for status in sorted({*route.errors, 503})
            },
        },
        "security": [{"bearerAuth": []}] if route.authenticated else [],
    }
    if "{plaidItemId}" in route.path:
        operation["parameters"] = [{"name": "plaidItemId", "in": "path", "required": True, "schema": contract.UUID}]
    if route.request is not None:
        operation["requestBody"] = {"required": True, **_json(route.request)}
    if not route.authenticated:
        operation["parameters"] = [
            {
                "name": "Plaid-Verification",
                "in": "header",
                "required": True,
                "schema": contract.STRING,
                "description": "Plaid's ES256 JWT over the SHA-256 of the raw body",
            }
        ]
    return operation


def document() -> dict[str, Any]:
    paths: dict[str, dict[str, Any]] = {}
    for route in ROUTES:
        paths.setdefault(PREFIX + route.path, {})[route.method.lower()] = _operation(route)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "ghostfolio-plaid REST compatibility API",
            "version": "1",
            "description": "Ghostfolio's Plaid contract, served on top of the GraphQL resolvers.",
        },
        "paths": paths,
        "components": {"securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}},
    }


async def openapi_json(request: Request) -> Response:
    return JSONResponse(document())
