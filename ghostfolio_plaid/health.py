"""Liveness and readiness for orchestrators: ``/healthz`` (the process answers) and ``/readyz`` (its stores do)."""

from __future__ import annotations

import asyncio

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from tortoise import Tortoise

from ghostfolio_plaid.resolvers.services import Services

CHECK_TIMEOUT_SECONDS = 2.0


async def healthz(request: Request) -> Response:
    return JSONResponse({"status": "ok"})


async def readyz(request: Request) -> Response:
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
    except Exception as exc:
        return f"unreachable ({type(exc).__name__})"
    return "ok"


async def _redis(services: Services) -> str:
    try:
        async with asyncio.timeout(CHECK_TIMEOUT_SECONDS):
            await asyncio.to_thread(services.queue.redis.ping)
    except Exception as exc:
        return f"unreachable ({type(exc).__name__})"
    return "ok"


HEALTH_ROUTES = [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]
