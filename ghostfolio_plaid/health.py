"""Liveness and readiness for orchestrators: ``/healthz`` (the process answers) and ``/readyz`` (its stores do).

``/healthz`` stays open (it says nothing but "up"); ``/readyz`` names the stores, so it takes ``METRICS_TOKEN``
when one is set, like ``/metrics``.
"""

from __future__ import annotations

import asyncio

from redis.exceptions import RedisError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tortoise import Tortoise

from ghostfolio_plaid.db import DATABASE_DOWN
from ghostfolio_plaid.operator_auth import refuse_without_operator_token
from ghostfolio_plaid.resolvers.services import Services

CHECK_TIMEOUT_SECONDS = 2.0


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
    refusal = refuse_without_operator_token(request)
    if refusal is not None:
        return refusal
    services: Services = request.app.state.services
    checks = {"database": await _database(), "redis": await _redis(services)}
    ready = all(result == "ok" for result in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "unavailable", "checks": checks}, status_code=200 if ready else 503
    )


async def _database() -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await Tortoise.get_connection("default").execute_query("SELECT 1")
    except DATABASE_DOWN as exc:
        return f"unreachable ({type(exc).__name__})"
    return "ok"


async def _redis(services: Services) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await asyncio.to_thread(services.queue.redis.ping)
    except (RedisError, TimeoutError) as exc:
        return f"unreachable ({type(exc).__name__})"
    return "ok"


HEALTH_ROUTES = [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]
