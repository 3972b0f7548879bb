"""Ghostfolio's REST contract (``/api/v1/plaid``), each route a thin mapping onto one resolver."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from functools import wraps
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ghostfolio_plaid.errors import DomainError
from ghostfolio_plaid.plaid_client import LinkToken
from ghostfolio_plaid.resolvers import items, link, sync
from ghostfolio_plaid.resolvers.permissions import authenticate
from ghostfolio_plaid.resolvers.services import Services
from ghostfolio_plaid.rest_compat.bodies import exchange_input, json_object
from ghostfolio_plaid.rest_compat.errors import nest_error, status_for

log = logging.getLogger(__name__)
Handler = Callable[[Request, Services, str], Awaitable[Response]]


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def link_token_body(token: LinkToken) -> dict[str, Any]:
    return {"linkToken": token.link_token, "expiration": iso(token.expiration)}


def authenticated(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """Authenticate, run the handler, and turn domain errors into NestJS error bodies (never a traceback)."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        services: Services = request.app.state.services
        try:
            user_id = await authenticate(services, request.headers.get("authorization"))
            return await handler(request, services, user_id)
        except DomainError as exc:
            return nest_error(status_for(exc.code), exc.message)
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.url.path)
            return nest_error(500, "Internal server error")

    return endpoint


async def create_link_token(request: Request, services: Services, user_id: str) -> Response:
    return JSONResponse(link_token_body(await link.create_link_token(services, user_id)))


async def exchange_token(request: Request, services: Services, user_id: str) -> Response:
    data = exchange_input(await json_object(request))
    result = await items.exchange_public_token(services, user_id, data)
    return JSONResponse(
        {
            "plaidItemId": str(result.plaid_item_id),
            "accounts": [
                {"accountId": str(a.id), "plaidAccountId": a.plaid_account_id, "name": a.name} for a in result.accounts
            ],
        },
        status_code=201,
    )


async def sync_item(request: Request, services: Services, user_id: str) -> Response:
    job = await sync.request_sync(services, user_id, request.path_params["plaidItemId"])
    return JSONResponse({"jobId": str(job.id), "message": "Sync job enqueued"}, status_code=202)


async def list_items(request: Request, services: Services, user_id: str) -> Response:
    listed = await items.list_items(user_id)
    return JSONResponse(
        {
            "items": [
                {
                    "id": str(entry.item.id),
                    "institutionId": entry.item.institution_id,
                    "institutionName": entry.item.institution_name,
                    "lastSyncedAt": iso(entry.item.last_synced_at),
                    "error": entry.item.error,
                    "consentExpiresAt": iso(entry.item.consent_expires_at),
                    "accountCount": entry.account_count,
                    "createdAt": iso(entry.item.created_at),
                    "status": items.item_status(entry.item).value,
                    "disconnectedAt": iso(entry.item.disconnected_at),
                }
                for entry in listed
            ]
        }
    )


async def update_link_token(request: Request, services: Services, user_id: str) -> Response:
    token = await link.create_update_link_token(services, user_id, request.path_params["plaidItemId"])
    return JSONResponse(link_token_body(token))


async def disconnect_item(request: Request, services: Services, user_id: str) -> Response:
    await items.disconnect_item(services, user_id, request.path_params["plaidItemId"])
    return JSONResponse({"message": "Plaid connection disconnected"})


async def webhook(request: Request) -> Response:
    services: Services = request.app.state.services
    if not services.settings.enable_feature_plaid:
        return nest_error(403, "The Plaid integration is disabled")
    return nest_error(501, "Webhook handling is not implemented yet")


@dataclass(frozen=True)
class RestRoute:
    method: str
    path: str
    endpoint: Callable[[Request], Awaitable[Response]]
    status: int
    summary: str


ROUTES: tuple[RestRoute, ...] = (
    RestRoute("POST", "/link-token", authenticated(create_link_token), 200, "Create a Plaid Link token"),
    RestRoute("POST", "/exchange-token", authenticated(exchange_token), 201, "Link an item"),
    RestRoute("POST", "/sync/{plaidItemId}", authenticated(sync_item), 202, "Enqueue a sync of an item"),
    RestRoute("GET", "/items", authenticated(list_items), 200, "List the caller's linked items"),
    RestRoute(
        "POST",
        "/link-token/update/{plaidItemId}",
        authenticated(update_link_token),
        200,
        "Create a Link token in update mode",
    ),
    RestRoute("DELETE", "/items/{plaidItemId}", authenticated(disconnect_item), 200, "Disconnect an item"),
    RestRoute("POST", "/webhook", webhook, 200, "Receive a Plaid webhook"),
)


def routes() -> list[Route]:
    return [Route(r.path, r.endpoint, methods=[r.method]) for r in ROUTES]
