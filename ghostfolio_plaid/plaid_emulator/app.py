"""The emulator's ASGI app: Plaid's endpoints behind Plaid's own envelope (credentials, request ids, errors)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from ghostfolio_plaid.plaid_emulator.config import EmulatorConfig
from ghostfolio_plaid.plaid_emulator.control import CONTROL_ROUTES
from ghostfolio_plaid.plaid_emulator.errors import PlaidErrorResponse
from ghostfolio_plaid.plaid_emulator.plaid_routes import PLAID_ROUTES, Handler
from ghostfolio_plaid.plaid_emulator.state import EmulatorState, Fault

SECRET_FIELDS = frozenset({"secret", "client_id", "access_token", "public_token"})


def _request_id() -> str:
    return uuid.uuid4().hex[:15]


def _record(state: EmulatorState, path: str, body: dict[str, Any]) -> str | None:
    """Log the call without secrets: the item it concerns, and which fields were sent."""
    item_id = None
    token = body.get("access_token")
    with state.lock:
        if isinstance(token, str):
            item_id = state.access_tokens.get(token)
        state.requests.append(
            {
                "method": "POST",
                "path": path,
                "time": time.time(),
                "item_id": item_id,
                "fields": sorted(body),
                "options": body.get("options") if isinstance(body.get("options"), dict) else None,
                "webhook": body.get("webhook"),
                "update_mode": body.get("access_token") is not None if path == "/link/token/create" else None,
            }
        )
    return item_id


def _fault_response(fault: Fault, request_id: str) -> Response | None:
    if fault.error_code is not None:
        error = PlaidErrorResponse(fault.error_code, status=fault.status)
        return JSONResponse(error.body(request_id), status_code=error.status)
    if fault.status is not None:
        return Response(
            fault.body if fault.body is not None else "", status_code=fault.status, media_type="application/json"
        )
    if fault.body is not None:
        return Response(fault.body, status_code=200, media_type="application/json")
    return None


def plaid_endpoint(path: str, handler: Handler, config: EmulatorConfig) -> Route:
    async def endpoint(request: Request) -> Response:
        state: EmulatorState = request.app.state.emulator
        request_id = _request_id()
        try:
            try:
                body = json.loads(await request.body())
            except (ValueError, UnicodeDecodeError):
                raise PlaidErrorResponse("INVALID_BODY", "body could not be parsed as JSON") from None
            if not isinstance(body, dict):
                raise PlaidErrorResponse("INVALID_BODY", "body must be a JSON object")
            item_id = _record(state, path, body)
            client_id = request.headers.get("plaid-client-id") or body.get("client_id")
            secret = request.headers.get("plaid-secret") or body.get("secret")
            if client_id != config.client_id or secret != config.secret:
                raise PlaidErrorResponse("INVALID_API_KEYS")
            fault = state.take_fault(path, item_id)
            if fault is not None:
                if fault.delay_ms:
                    await asyncio.sleep(fault.delay_ms / 1000)
                injected = _fault_response(fault, request_id)
                if injected is not None:
                    return injected
            answer = await handler(state, body)
        except PlaidErrorResponse as error:
            return JSONResponse(error.body(request_id), status_code=error.status)
        if config.state_file:
            state.save(Path(config.state_file))
        return JSONResponse({**answer, "request_id": request_id})

    return Route(path, endpoint, methods=["POST"])


async def not_found(request: Request, exc: Exception) -> Response:
    error = PlaidErrorResponse("NOT_FOUND", f"{request.url.path} is not a Plaid endpoint of this emulator")
    return JSONResponse(error.body(_request_id()), status_code=404)


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    config = config or EmulatorConfig()
    app = Starlette(
        routes=[*(plaid_endpoint(path, handler, config) for path, handler in PLAID_ROUTES.items()), *CONTROL_ROUTES],
        exception_handlers={404: not_found, 405: not_found},
    )
    app.state.emulator = EmulatorState(public_token_ttl=config.public_token_ttl_seconds)
    if config.state_file:
        app.state.emulator.load(Path(config.state_file))
    return app
