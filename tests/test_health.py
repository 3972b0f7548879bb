"""Liveness and readiness, including a store that is down."""

import httpx
from starlette.applications import Starlette

from ghostfolio_plaid.job_queue import SyncQueue


async def test_healthz_and_readyz(client: httpx.AsyncClient) -> None:
    assert (await client.get("/healthz")).json() == {"status": "ok"}
    ready = await client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"database": "ok", "redis": "ok"}}


async def test_readyz_names_the_store_that_is_down(client: httpx.AsyncClient, app: Starlette) -> None:
    services = app.state.services
    working = services.queue
    services.queue = SyncQueue("redis://127.0.0.1:1/0", "unreachable")
    try:
        response = await client.get("/readyz")
    finally:
        services.queue = working
    assert response.status_code == 503
    body = response.json()
    assert body["checks"]["database"] == "ok" and body["checks"]["redis"].startswith("unreachable")
