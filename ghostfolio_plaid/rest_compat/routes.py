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

from ghostfolio_plaid.db import DATABASE_DOWN, DATABASE_DOWN_MESSAGE
from ghostfolio_plaid.errors import DomainError, FeatureDisabled
from ghostfolio_plaid.ghostfolio.status import GhostfolioState, ghostfolio_state
from ghostfolio_plaid.plaid_client import LinkToken
from ghostfolio_plaid.resolvers import items, link, sync, webhooks
from ghostfolio_plaid.resolvers.permissions import authenticate
from ghostfolio_plaid.resolvers.services import Services
from ghostfolio_plaid.rest_compat import contract
from ghostfolio_plaid.rest_compat.bodies import exchange_input, json_object, limited_body
from ghostfolio_plaid.rest_compat.errors import nest_error, status_for

log = logging.getLogger(__name__)
Handler = Callable[[Request, Services, str], Awaitable[Response]]


def iso(value: datetime | None) -> str | None:
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


def link_token_body(token: LinkToken) -> dict[str, Any]:
    return {"linkToken": token.link_token, "expiration": iso(token.expiration)}


def ghostfolio_body(state: GhostfolioState) -> dict[str, Any]:
    return {
        "status": state.status.value,
        "lastPushedAt": iso(state.last_pushed_at),
        "pendingChanges": state.pending_changes,
        "error": state.error,
    }


def nest_errors(
    handler: Callable[[Request, Services], Awaitable[Response]],
) -> Callable[[Request], Awaitable[Response]]:
    """Run the handler and turn domain errors into NestJS error bodies (never a traceback)."""

    @wraps(handler)
    async def endpoint(request: Request) -> Response:
        try:
            return await handler(request, request.app.state.services)
        except DomainError as exc:
            retry_after = exc.extensions.get("retryAfter")
            headers = {"Retry-After": str(retry_after)} if retry_after is not None else None
            return nest_error(status_for(exc.code), exc.message, headers)
        except DATABASE_DOWN as exc:
            log.warning("database unavailable on %s %s: %s", request.method, request.url.path, type(exc).__name__)
            return nest_error(503, DATABASE_DOWN_MESSAGE)
        except Exception:
            log.exception("unhandled error on %s %s", request.method, request.url.path)
            return nest_error(500, "Internal server error")

    return endpoint


def authenticated(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """The caller's bearer token is checked before the handler runs."""

    async def with_user(request: Request, services: Services) -> Response:
        user_id = await authenticate(services, request.headers.get("authorization"))
        return await handler(request, services, user_id)

    return nest_errors(wraps(handler)(with_user))


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
    connector_on = services.settings.ghostfolio_url is not None
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
                    "ghostfolio": ghostfolio_body(ghostfolio_state(entry.item, connector_on=connector_on)),
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


@nest_errors
async def webhook(request: Request, services: Services) -> Response:
    """The one route without a JWT: Plaid's signature is its authentication."""
    if not services.settings.enable_feature_plaid:
        raise FeatureDisabled("The Plaid integration is disabled")
    raw = await limited_body(request, services.settings.webhook_max_body_bytes)
    source = request.client.host if request.client else "unknown"
    await webhooks.handle_webhook(services, request.headers.get("plaid-verification"), raw, source)
    return Response(status_code=200)


@dataclass(frozen=True)
class RestRoute:
    """One route of the contract: what serves it and what it promises (the OpenAPI document is built from it)."""

    method: str
    path: str
    endpoint: Callable[[Request], Awaitable[Response]]
    status: int
    summary: str
    response: contract.Schema | None = None
    request: contract.Schema | None = None
    errors: tuple[int, ...] = (401, 403)
    """Besides these, every route may answer 503 (the database or queue is unavailable)."""
    authenticated: bool = True


ITEM_ERRORS = (400, 401, 403, 404)
BODY_ERRORS = (413, 415)
ROUTES: tuple[RestRoute, ...] = (
    RestRoute(
        "POST",
        "/link-token",
        authenticated(create_link_token),
        200,
        "Create a Plaid Link token",
        contract.LINK_TOKEN,
        errors=(*BODY_ERRORS, 429, 500),
    ),
    RestRoute(
        "POST",
        "/exchange-token",
        authenticated(exchange_token),
        201,
        "Link an item",
        contract.EXCHANGE_RESPONSE,
        contract.EXCHANGE_REQUEST,
        errors=(*BODY_ERRORS, 400, 409, 500),
    ),
    RestRoute(
        "POST",
        "/sync/{plaidItemId}",
        authenticated(sync_item),
        202,
        "Enqueue a sync of an item",
        contract.SYNC_RESPONSE,
        errors=(*ITEM_ERRORS, *BODY_ERRORS, 409, 429),
    ),
    RestRoute("GET", "/items", authenticated(list_items), 200, "List the caller's linked items", contract.ITEMS),
    RestRoute(
        "POST",
        "/link-token/update/{plaidItemId}",
        authenticated(update_link_token),
        200,
        "Create a Link token in update mode",
        contract.LINK_TOKEN,
        errors=(*ITEM_ERRORS, *BODY_ERRORS, 409, 429, 500),
    ),
    RestRoute(
        "DELETE",
        "/items/{plaidItemId}",
        authenticated(disconnect_item),
        200,
        "Disconnect an item",
        contract.MESSAGE,
        errors=(*ITEM_ERRORS, 500),
    ),
    RestRoute(
        "POST",
        "/webhook",
        webhook,
        200,
        "Receive a Plaid webhook",
        None,
        contract.WEBHOOK,
        errors=(400, 401, 403, 503),
        authenticated=False,
    ),
)


def routes() -> list[Route]:
    return [Route(r.path, r.endpoint, methods=[r.method]) for r in ROUTES]
