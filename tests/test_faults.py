"""Faults, as an operator meets them: PostgreSQL going away and coming back under a running service,
Redis down for webhooks, and a worker killed with SIGKILL in the middle of a sync."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from pathlib import Path
from urllib.parse import urlsplit

import httpx
from starlette.applications import Starlette

from ghostfolio_plaid.job_queue import SyncQueue
from ghostfolio_plaid.models import Order, PlaidItem, SyncJob, SyncStatus
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from tests.conftest import Caller, emulator_call
from tests.linking import link_seeded_item
from tests.processes import command, run_command
from tests.tcp_proxy import TcpProxy, serve_through


def kill_tree(pid: int) -> None:
    """SIGKILL a worker and its work horse (RQ forks the horse into a session of its own)."""
    children = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if int(fields[1]) == pid:
                children.append(int(stat.parent.name))
    for victim in [*children, pid]:
        with contextlib.suppress(ProcessLookupError):
            os.kill(victim, signal.SIGKILL)


async def test_database_outage_is_503_and_the_service_recovers(alice: Caller, process_env: dict[str, str]) -> None:
    target = urlsplit(process_env["DATABASE_URL"]).port or 5432
    proxy = TcpProxy(target)
    await proxy.start()
    async with (
        serve_through(proxy, process_env) as url,
        httpx.AsyncClient(base_url=url, headers=alice.headers, timeout=15) as http,
    ):
        assert (await http.get("/api/v1/plaid/items")).status_code == 200
        await proxy.stop()
        down = await http.get("/api/v1/plaid/items")
        assert down.status_code == 503
        assert down.json() == {
            "statusCode": 503,
            "message": "The database is unavailable; try again shortly",
            "error": "Service Unavailable",
        }
        graphql = (await http.post("/graphql", json={"query": "{ plaidItems { id } }"})).json()
        assert graphql["errors"][0]["extensions"]["code"] == "UNAVAILABLE"
        ready = await http.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["database"].startswith("unreachable")
        assert (await http.get("/healthz")).status_code == 200
        await proxy.start()
        statuses = []
        for _ in range(5):
            statuses.append((await http.get("/api/v1/plaid/items")).status_code)
            if statuses[-1] == 200:
                break
            await asyncio.sleep(0.2)
        assert statuses[-1] == 200, statuses
        assert (await http.get("/readyz")).status_code == 200
    await proxy.stop()


async def test_webhook_with_redis_down_is_503_so_plaid_retries(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, app: Starlette
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    plaid_item = await PlaidItem.get(id=item_id)
    body = (
        '{\n  "webhook_type": "HOLDINGS",\n  "webhook_code": "DEFAULT_UPDATE",\n  "item_id": "'
        + plaid_item.item_id
        + '"\n}'
    ).encode()
    signer = emulator.app.state.emulator.signer  # type: ignore[attr-defined]
    services = app.state.services
    working = services.queue
    services.queue = SyncQueue("redis://127.0.0.1:1/0", "unreachable")
    try:
        response = await client.post(
            "/api/v1/plaid/webhook", content=body, headers={"Plaid-Verification": signer.sign(body)}
        )
    finally:
        services.queue = working
    assert response.status_code == 503
    assert await SyncJob.filter(plaid_item_id=item_id).count() == 0


async def test_worker_killed_mid_sync_is_released_and_a_rerun_converges(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, process_env: dict[str, str], app: Starlette
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    plaid_item = await PlaidItem.get(id=item_id)
    await emulator_call(
        emulator,
        "POST",
        "/emulator/faults",
        {
            "path": "/investments/transactions/get",
            "item_id": plaid_item.item_id,
            "delay_ms": 30000,
        },
    )
    env = {**process_env, "SYNC_LOCK_SECONDS": "10"}
    job_id = (await client.post(f"/api/v1/plaid/sync/{item_id}", headers=alice.headers)).json()["jobId"]
    worker = await asyncio.create_subprocess_exec(
        *command("worker"),
        env=env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 60
        while (await SyncJob.get(id=job_id)).status != SyncStatus.RUNNING:
            assert time.monotonic() < deadline, "the worker never started the sync"
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
    finally:
        kill_tree(worker.pid)
        await worker.wait()
    assert await Order.filter(account__plaid_item_id=item_id).count() == 0
    assert (await client.post(f"/api/v1/plaid/sync/{item_id}", headers=alice.headers)).status_code == 409
    await emulator_call(emulator, "DELETE", "/emulator/faults")
    await asyncio.sleep(11)
    rerun = await client.post(f"/api/v1/plaid/sync/{item_id}", headers=alice.headers)
    assert rerun.status_code == 202
    killed = await SyncJob.get(id=job_id)
    assert (killed.status, killed.error) == (SyncStatus.FAILED, "ABANDONED")
    assert killed.finished_at is not None and killed.started_at is not None
    assert killed.finished_at > killed.started_at
    await run_command(env, "worker", "--burst")
    assert (await SyncJob.get(id=rerun.json()["jobId"])).status == SyncStatus.SUCCEEDED
    assert await Order.filter(account__plaid_item_id=item_id).count() > 0
