"""The emulator's ASGI app: Plaid's endpoints behind Plaid's own envelope (credentials, request ids, errors)."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ghostfolio_plaid.plaid_emulator.config import EmulatorConfig
from ghostfolio_plaid.plaid_emulator.control import CONTROL_ROUTES
from ghostfolio_plaid.plaid_emulator.errors import PlaidErrorResponse
from ghostfolio_plaid.plaid_emulator.index import index_route
from ghostfolio_plaid.plaid_emulator.items import record_update
from ghostfolio_plaid.plaid_emulator.plaid_routes import PLAID_ROUTES, Handler
from ghostfolio_plaid.plaid_emulator.request_fields import check_recognised
from ghostfolio_plaid.plaid_emulator.state import EmulatorState, Fault
from ghostfolio_plaid.plaid_emulator.webhooks import drain

log = logging.getLogger(__name__)
# Request fields that are safe to show in /emulator/requests: never credentials, access or public tokens.
LOGGED_FIELDS = ("institution_id", "webhook", "webhook_code", "webhook_type", "start_date", "end_date", "key_id")
LOGGED_OPTIONS = ("count", "offset", "account_ids", "webhook")
_REQUEST_ID_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


def _request_id() -> str:
    """15 characters from Plaid's alphabet, like Plaid's own request ids."""
    number = uuid.uuid4().int
    chars = []
    for _ in range(15):
        number, index = divmod(number, len(_REQUEST_ID_ALPHABET))
        chars.append(_REQUEST_ID_ALPHABET[index])
    return "".join(chars)


def _record(state: EmulatorState, path: str, body: dict[str, Any] | None) -> dict[str, Any]:
    """Log the call without secrets: the item it concerns, which fields were sent, and the harmless ones."""
    body = body or {}
    token = body.get("access_token")
    raw_options = body.get("options")
    options = raw_options if isinstance(raw_options, dict) else {}
    entry: dict[str, Any] = {
        "method": "POST",
        "path": path,
        "time": time.time(),
        "item_id": None,
        "fields": sorted(body),
        "options": {k: options[k] for k in LOGGED_OPTIONS if k in options} if isinstance(raw_options, dict) else None,
        **{name: body.get(name) for name in LOGGED_FIELDS},
        "update_mode": token is not None if path == "/link/token/create" else None,
        "status": None,
        "error_code": None,
    }
    with state.lock:
        if isinstance(token, str):
            entry["item_id"] = state.access_tokens.get(token)
        state.requests.append(entry)
    return entry


def _fault_response(fault: Fault, request_id: str) -> Response | None:
    if fault.error_code is not None:
        error = PlaidErrorResponse(fault.error_code, status=fault.status)
        return JSONResponse(error.body(request_id), status_code=error.status)
    if fault.status is not None and fault.body is None:
        error = PlaidErrorResponse.for_status(fault.status)
        return JSONResponse(error.body(request_id), status_code=fault.status)
    if fault.body is not None:
        return Response(fault.body, status_code=fault.status or 200, media_type="application/json")
    return None


def _parse(content_type: str | None, raw: bytes) -> dict[str, Any]:
    """Plaid takes only a JSON object sent as ``application/json`` (any other or no Content-Type: INVALID_BODY)."""
    if (content_type or "").partition(";")[0].strip().lower() != "application/json":
        raise PlaidErrorResponse("INVALID_BODY")
    try:
        body = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise PlaidErrorResponse("INVALID_BODY") from None
    if not isinstance(body, dict):
        raise PlaidErrorResponse("INVALID_BODY", "body must be a JSON object")
    return body


def plaid_endpoint(path: str, handler: Handler, config: EmulatorConfig) -> Route:
    """One Plaid endpoint: parse, log, authenticate, refuse unknown fields, apply faults, answer (always with a
    request_id), and note the outcome of investments calls in the item's ``status``."""

    async def endpoint(request: Request) -> Response:
        state: EmulatorState = request.app.state.emulator
        request_id = _request_id()
        try:
            body = _parse(request.headers.get("content-type"), await request.body())
        except PlaidErrorResponse as error:
            return _error(error, request_id, _record(state, path, None))
        entry = _record(state, path, body)
        try:
            client_id = request.headers.get("plaid-client-id") or body.get("client_id")
            secret = request.headers.get("plaid-secret") or body.get("secret")
            if client_id != config.client_id or secret != config.secret:
                raise PlaidErrorResponse("INVALID_API_KEYS")
            check_recognised(path, body)
            fault = state.take_fault(path, entry["item_id"])
            if fault is not None:
                if fault.delay_ms:
                    await asyncio.sleep(fault.delay_ms / 1000)
                injected = _fault_response(fault, request_id)
                if injected is not None:
                    entry["status"] = injected.status_code
                    entry["error_code"] = fault.error_code
                    if fault.error_code is not None:
                        record_update(state, path, entry["item_id"], PlaidErrorResponse(fault.error_code))
                    return injected
            answer = await handler(state, body)
        except PlaidErrorResponse as error:
            record_update(state, path, entry["item_id"], error)
            return _error(error, request_id, entry)
        except Exception:  # a bug here must still look like Plaid to the client, not a bare 500 page
            log.exception("emulator handler for %s failed", path)
            return _error(PlaidErrorResponse("INTERNAL_SERVER_ERROR"), request_id, entry)
        record_update(state, path, entry["item_id"], None)
        if config.state_file:
            state.save(Path(config.state_file))
        entry["status"] = 200
        return JSONResponse({**answer, "request_id": request_id})

    return Route(path, endpoint, methods=["POST"])


def _error(error: PlaidErrorResponse, request_id: str, entry: dict[str, Any]) -> Response:
    entry["status"], entry["error_code"] = error.status, error.error_code
    return JSONResponse(error.body(request_id), status_code=error.status)


async def not_found(request: Request, exc: Exception) -> Response:
    error = PlaidErrorResponse("NOT_FOUND", f"{request.method} {request.url.path} is not an endpoint of this emulator")
    return JSONResponse(error.body(_request_id()), status_code=404)


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    """A fresh emulator: its own items, tokens, request log and signing key (state files aside)."""
    config = config or EmulatorConfig()
    state = EmulatorState(public_token_ttl=config.public_token_ttl_seconds)
    if config.state_file:
        state.load(Path(config.state_file))

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await drain(state)

    app = Starlette(
        routes=[
            index_route(config),
            *(plaid_endpoint(path, handler, config) for path, handler in PLAID_ROUTES.items()),
            *CONTROL_ROUTES,
        ],
        exception_handlers={404: not_found, 405: not_found},
        lifespan=lifespan,
    )
    app.state.emulator = state
    return app
