"""The emulator's ASGI app: Ghostfolio's routes, the control routes, and what sits in front of them
(the request log, injected faults, Express's lenient trailing slash and NestJS's 404 for unknown routes)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ghostfolio_plaid.ghostfolio_emulator.api_routes import API_ROUTES, LOG_ENTRY
from ghostfolio_plaid.ghostfolio_emulator.config import GhostfolioEmulatorConfig
from ghostfolio_plaid.ghostfolio_emulator.control import CONTROL_ROUTES
from ghostfolio_plaid.ghostfolio_emulator.errors import reason, route_not_found
from ghostfolio_plaid.ghostfolio_emulator.serializers import NestJSONResponse
from ghostfolio_plaid.ghostfolio_emulator.state import EmulatorState, Fault

CONTROL_PREFIX = "/emulator/"


def fault_response(fault: Fault) -> Response | None:
    """The answer an injected fault gives: its body, or NestJS's for that status (429 is the throttler's)."""
    if fault.status is None:
        return None
    if fault.body is not None:
        return NestJSONResponse(fault.body, status_code=fault.status)
    message = "ThrottlerException: Too Many Requests" if fault.status == 429 else reason(fault.status)
    return NestJSONResponse({"statusCode": fault.status, "message": message}, status_code=fault.status)


class RequestLogAndFaults:
    """Logs every Ghostfolio call (method, path, query, status, user id, time; never a header or body, so
    never a token) and applies injected faults before the route runs, like a proxy in front of Ghostfolio."""

    def __init__(self, app: ASGIApp, state: EmulatorState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope["path"]
        if len(path) > 1 and path.endswith("/"):  # Express routes ignore a trailing slash
            path = path.rstrip("/") or "/"
            scope = {**scope, "path": path}
        if path.startswith(CONTROL_PREFIX):
            await self.app(scope, receive, send)
            return
        started = time.monotonic()
        request = Request(scope)
        entry: dict[str, Any] = {
            "method": scope["method"],
            "path": path,
            "query": dict(request.query_params),
            "status": None,
            "user_id": None,
            "time": time.time(),
            "duration_ms": None,
            "fault": False,
        }
        with self.state.lock:
            self.state.requests.append(entry)
        scope[LOG_ENTRY] = entry

        async def logging_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            await send(message)

        fault = self.state.take_fault(scope["method"], path)
        if fault is not None:
            entry["fault"] = True
            if fault.delay_ms:
                await asyncio.sleep(fault.delay_ms / 1000)
            injected = fault_response(fault)
            if injected is not None:
                await injected(scope, receive, logging_send)
                entry["duration_ms"] = round((time.monotonic() - started) * 1000, 1)
                return
        await self.app(scope, receive, logging_send)
        entry["duration_ms"] = round((time.monotonic() - started) * 1000, 1)


async def not_found(request: Request, exc: Exception) -> Response:
    """Express's answer for a path or method no route has (NestJS turns it into a 404, never a 405)."""
    if request.url.path.startswith(CONTROL_PREFIX):
        return NestJSONResponse({"error": f"{request.method} {request.url.path} is not a control endpoint"}, 404)
    error = route_not_found(request.method, request.url.path)
    return NestJSONResponse(error.body, status_code=error.status)


def create_app(config: GhostfolioEmulatorConfig) -> Starlette:
    """A fresh emulated Ghostfolio instance with its own in-memory database, log and faults."""
    state = EmulatorState(config)
    app = Starlette(routes=[*API_ROUTES, *CONTROL_ROUTES], exception_handlers={404: not_found, 405: not_found})
    app.state.ghostfolio = state
    app.add_middleware(RequestLogAndFaults, state=state)
    return app
