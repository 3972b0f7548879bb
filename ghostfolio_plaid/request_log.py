"""One log line per HTTP request, with a request id echoed as ``X-Request-ID``; observers (metrics) see each too."""

from __future__ import annotations

import logging
import re
import time
import uuid
from collections.abc import Callable, Sequence

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ghostfolio_plaid.logs import request_id_var
from ghostfolio_plaid.routes_naming import method_name, route_template

RequestObserver = Callable[[str, str, int, float], None]
"""Called with the method (a known one or ``other``), the route template, the status and the seconds taken."""
REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestLogMiddleware:
    """One log line per request, with a request id (the caller's X-Request-ID or a new one) echoed back.

    ``observers`` see every request's method, route template, status and seconds (the metrics use this).
    """

    def __init__(self, app: ASGIApp, observers: Sequence[RequestObserver] = ()) -> None:
        self.app = app
        self.observers = observers
        self.log = logging.getLogger("ghostfolio_plaid.access")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        given = headers.get(b"x-request-id", b"").decode("latin-1")
        request_id = given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def tag(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await self.app(scope, receive, tag)
        finally:
            seconds = time.perf_counter() - started
            route = route_template(scope)
            for observe in self.observers:
                observe(method_name(scope), route, status, seconds)
            self.log.info(
                "%s %s %s",
                scope["method"],
                route,
                status,
                extra={
                    "method": scope["method"],
                    "route": route,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 1),
                },
            )
            request_id_var.reset(token)
