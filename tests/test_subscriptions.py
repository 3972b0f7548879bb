"""GraphQL subscriptions over WebSocket (graphql-transport-ws), with a real client against ``serve`` and workers
in their own processes; limits and a Redis outage against the test's own app served by uvicorn in-process."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.routing import WebSocketRoute
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

from ghostfolio_plaid.auth import issue_token
from ghostfolio_plaid.events import EventHub, publish_sync_job
from ghostfolio_plaid.graphql_app import GraphQLApp
from ghostfolio_plaid.job_queue import request_sync
from ghostfolio_plaid.models import PlaidItem, SyncJob, SyncTrigger
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from ghostfolio_plaid.schema.subscriptions import SubscriptionLimits
from tests.conftest import JWT_SECRET, REDIS_URL, Caller
from tests.linking import link_seeded_item
from tests.processes import free_port, run_command
from tests.tcp_proxy import TcpProxy
from tests.test_webhooks import payload, signed

SYNC_JOB = """subscription Job($id: ID!) {
  syncJob(id: $id) { id status transactionsFetched transactionsTotal activitiesCreated error }
}"""
ITEMS_CHANGED = "subscription { plaidItemsChanged { id status error lastSyncedAt ghostfolio { status } } }"


def ws_url(http_url: str) -> str:
    return http_url.replace("http://", "ws://", 1) + "/graphql"


@contextlib.asynccontextmanager
async def live(http_url: str, token: str | None) -> AsyncIterator[ClientConnection]:
    """A connection_ack'ed graphql-transport-ws connection."""
    async with connect(ws_url(http_url), subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        params = {"Authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": params}))
        ack = await receive(ws)
        assert ack["type"] == "connection_ack", ack
        yield ws


async def subscribe(ws: ClientConnection, op_id: str, query: str, variables: dict[str, Any] | None = None) -> None:
    await ws.send(json.dumps({"id": op_id, "type": "subscribe", "payload": {"query": query, "variables": variables}}))


async def receive(ws: ClientConnection, within: float = 20) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), within))
    return message


async def until_complete(ws: ClientConnection, op_id: str, within: float = 60) -> list[dict[str, Any]]:
    """Every ``next`` payload of ``op_id`` until its ``complete``."""
    payloads: list[dict[str, Any]] = []
    deadline = time.monotonic() + within
    while True:
        message = await receive(ws, max(0.1, deadline - time.monotonic()))
        if message.get("id") != op_id:
            continue
        if message["type"] == "complete":
            return payloads
        assert message["type"] == "next", message
        payloads.append(message["payload"])


async def close_code(ws: ClientConnection, within: float = 10) -> tuple[int | None, str | None]:
    with contextlib.suppress(ConnectionClosed):
        while True:
            await asyncio.wait_for(ws.recv(), within)
    return ws.close_code, ws.close_reason


async def nothing_for(ws: ClientConnection, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        message = await asyncio.wait_for(ws.recv(), seconds)
        pytest.fail(f"unexpected message: {message!r}")


async def test_sync_progress_streams_in_order_from_a_worker_process_and_ends_with_the_final_status(
    served: str,
    process_env: dict[str, str],
    app: Starlette,
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
) -> None:
    shape = {"investment_accounts": 1, "transactions_per_account": 1200, "depository_account": False}
    item_id, _ = await link_seeded_item(client, emulator, alice, shape=shape)
    job = await request_sync(app.state.services.queue, await PlaidItem.get(id=item_id), SyncTrigger.MANUAL)
    async with live(served, alice.token) as ws:
        await subscribe(ws, "1", SYNC_JOB, {"id": str(job.id)})
        first = await receive(ws)
        assert first["payload"].get("data"), first
        assert first["payload"]["data"]["syncJob"]["status"] == "QUEUED", first
        await run_command(process_env, "worker", "--burst")
        jobs = [first["payload"]["data"]["syncJob"]] + [p["data"]["syncJob"] for p in await until_complete(ws, "1")]
    order = {"QUEUED": 0, "RUNNING": 1, "SUCCEEDED": 2}
    assert [order[j["status"]] for j in jobs] == sorted(order[j["status"]] for j in jobs)
    fetched = [j["transactionsFetched"] for j in jobs]
    assert fetched == sorted(fetched) and fetched[-1] > 0, jobs
    assert [j["status"] for j in jobs][:2] == ["QUEUED", "RUNNING"]
    assert jobs[-1]["status"] == "SUCCEEDED" and jobs[-1]["transactionsFetched"] == jobs[-1]["transactionsTotal"]
    assert jobs[-1]["activitiesCreated"] > 0


async def test_a_finished_job_answers_once_and_completes(
    served: str, client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    job = await SyncJob.create(id=uuid.uuid4(), plaid_item_id=item_id, trigger=SyncTrigger.MANUAL, status="failed")
    async with live(served, alice.token) as ws:
        await subscribe(ws, "1", SYNC_JOB, {"id": str(job.id)})
        payloads = await until_complete(ws, "1")
    assert [p["data"]["syncJob"]["status"] for p in payloads] == ["FAILED"]


async def test_item_error_webhook_reaches_its_owner_within_a_second_and_nobody_else(
    served: str, client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, bob: Caller
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    plaid_item_id = (await PlaidItem.get(id=item_id)).item_id
    async with live(served, alice.token) as mine, live(served, bob.token) as theirs:
        await subscribe(mine, "a", ITEMS_CHANGED)
        await subscribe(theirs, "b", ITEMS_CHANGED)
        await asyncio.sleep(0.3)  # both subscribed (the server confirms with Redis before reading)
        body = payload(plaid_item_id, "ITEM", "ERROR", error={"error_code": "ITEM_LOGIN_REQUIRED"})
        sent = time.monotonic()
        async with httpx.AsyncClient(base_url=served) as http:
            assert (
                await http.post("/api/v1/plaid/webhook", content=body, headers=signed(emulator, body))
            ).status_code == 200
        message = await receive(mine, within=5)
        assert time.monotonic() - sent < 1.0
        changed = message["payload"]["data"]["plaidItemsChanged"]
        assert (changed["id"], changed["status"], changed["error"]) == (
            item_id,
            "LOGIN_REQUIRED",
            "ITEM_LOGIN_REQUIRED",
        )
        await nothing_for(theirs, 1.0)

        # bob cannot follow alice's jobs either
        job = await SyncJob.create(id=uuid.uuid4(), plaid_item_id=item_id, trigger=SyncTrigger.MANUAL)
        await subscribe(theirs, "c", SYNC_JOB, {"id": str(job.id)})
        refused = await receive(theirs)
        assert refused["type"] in ("next", "error"), refused
        errors = refused["payload"]["errors"] if refused["type"] == "next" else refused["payload"]
        assert errors[0]["extensions"]["code"] == "NOT_FOUND"


@pytest.mark.parametrize("token", [None, "not-a-jwt", issue_token("x", "another-secret-entirely-0123456789abcdef")])
async def test_a_bad_token_closes_the_socket_with_4401(served: str, token: str | None) -> None:
    async with connect(ws_url(served), subprotocols=["graphql-transport-ws"]) as ws:  # type: ignore[list-item]
        params = {"Authorization": f"Bearer {token}"} if token else {}
        await ws.send(json.dumps({"type": "connection_init", "payload": params}))
        code, _ = await close_code(ws)
    assert code == 4401


async def test_the_socket_closes_when_the_token_expires(served: str) -> None:
    token = issue_token(f"expiring-{uuid.uuid4()}", JWT_SECRET, lifetime=timedelta(seconds=2))
    async with live(served, token) as ws:
        await subscribe(ws, "1", ITEMS_CHANGED)
        code, reason = await close_code(ws, within=10)
    assert (code, reason) == (4401, "Token expired")


async def test_subscriptions_are_measured_like_queries(served: str, alice: Caller) -> None:
    deep = "subscription { plaidItemsChanged { " + "accounts { " * 12 + "id" + " }" * 12 + " } }"
    async with live(served, alice.token) as ws:
        await subscribe(ws, "1", deep)
        message = await receive(ws)
    assert message["type"] == "error"
    assert message["payload"][0]["extensions"]["code"] == "BAD_USER_INPUT"


async def test_subscriptions_over_plain_http_are_refused(
    client: httpx.AsyncClient, alice: Caller, caplog: pytest.LogCaptureFixture
) -> None:
    response = await client.post("/graphql", json={"query": ITEMS_CHANGED}, headers=alice.headers)
    (error,) = response.json()["errors"]
    assert error["extensions"]["code"] == "BAD_USER_INPUT" and "WebSocket" in error["message"]
    assert not response.json().get("data")
    assert [r for r in caplog.records if r.levelname == "ERROR"] == []


# --- in-process server: limits and Redis outages ----------------------------------------------------------------


def graphql_endpoint(app: Starlette) -> GraphQLApp:
    route = next(r for r in app.routes if isinstance(r, WebSocketRoute) and r.path == "/graphql")
    endpoint = route.app if isinstance(route.app, GraphQLApp) else route.endpoint
    assert isinstance(endpoint, GraphQLApp)
    return endpoint


@pytest.fixture
async def local(app: Starlette) -> AsyncIterator[str]:
    """The test's own app (its lifespan already running) on a port, in this event loop."""
    port = free_port()
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, lifespan="off", log_level="warning", timeout_graceful_shutdown=2
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    for _ in range(500):
        if server.started:
            break
        await asyncio.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    try:
        await asyncio.wait_for(asyncio.shield(task), timeout=10)
    except TimeoutError:
        server.force_exit = True
        await task


@pytest.fixture
def limits(app: Starlette) -> Iterator[None]:
    endpoint = graphql_endpoint(app)
    original, hub_limit = endpoint.limits, app.state.events.max_per_user
    endpoint.limits = SubscriptionLimits(per_connection=3, per_user=4, idle_seconds=0.6)
    endpoint.max_subscriptions_per_connection = 3
    app.state.events.max_per_user = 4
    yield
    endpoint.limits, endpoint.max_subscriptions_per_connection = original, original.per_connection
    app.state.events.max_per_user = hub_limit


@pytest.mark.usefixtures("limits")
async def test_per_connection_and_per_user_limits(local: str, alice: Caller) -> None:
    async with live(local, alice.token) as first, live(local, alice.token) as second:
        for op in ("1", "2", "3"):
            await subscribe(first, op, ITEMS_CHANGED)
        await subscribe(first, "4", ITEMS_CHANGED)
        refused = await receive(first)
        assert (refused["id"], refused["type"]) == ("4", "error")
        assert "limit" in refused["payload"][0]["message"]
        await subscribe(second, "5", ITEMS_CHANGED)
        await subscribe(second, "6", ITEMS_CHANGED)
        message = await receive(second)
        assert message["id"] == "6"
        errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
        assert errors[0]["extensions"]["code"] == "RATE_LIMITED"


@pytest.mark.usefixtures("limits")
async def test_an_idle_connection_is_closed_and_an_active_one_is_not(local: str, alice: Caller) -> None:
    async with live(local, alice.token) as idle, live(local, alice.token) as busy:
        await subscribe(busy, "1", ITEMS_CHANGED)
        code, reason = await close_code(idle, within=5)
        assert (code, reason) == (4408, "Idle timeout")
        await nothing_for(busy, 0.3)


async def test_redis_down_ends_subscriptions_with_unavailable_and_queries_keep_working(
    app: Starlette, local: str, client: httpx.AsyncClient, alice: Caller
) -> None:
    redis_port = int(REDIS_URL.rsplit(":", 1)[1].split("/")[0])
    proxy = TcpProxy(redis_port)
    await proxy.start()
    original = app.state.events
    db = REDIS_URL.rsplit("/", 1)[1]
    app.state.events = EventHub.for_url(f"redis://127.0.0.1:{proxy.port}/{db}")
    try:
        async with live(local, alice.token) as ws:
            await subscribe(ws, "1", ITEMS_CHANGED)
            await asyncio.sleep(0.3)
            await proxy.stop()
            message = await receive(ws, within=15)
            errors = message["payload"]["errors"] if message["type"] == "next" else message["payload"]
            assert errors[0]["extensions"]["code"] == "UNAVAILABLE"
            assert "subscribe again" in errors[0]["message"]
            response = await client.post("/graphql", json={"query": "{ plaidItems { id } }"}, headers=alice.headers)
            assert response.json() == {"data": {"plaidItems": []}}
            await subscribe(ws, "2", ITEMS_CHANGED)  # still down: refused at once, with the same code
            again = await receive(ws, within=15)
            while again.get("id") != "2":  # the first one's complete
                again = await receive(ws, within=15)
            errors = again["payload"]["errors"] if again["type"] == "next" else again["payload"]
            assert errors[0]["extensions"]["code"] == "UNAVAILABLE"
    finally:
        await app.state.events.close()
        app.state.events = original


async def test_publishing_without_subscribers_or_redis_never_fails(alice: Caller) -> None:
    job = SyncJob(id=uuid.uuid4(), plaid_item_id=uuid.uuid4(), trigger=SyncTrigger.MANUAL)
    await publish_sync_job(job)  # an unknown item: nobody to tell, nothing raised
