"""``ghostfolio-plaid push ITEM_ID`` as a process against the Ghostfolio emulator: a replay repairs what was
deleted there, never duplicates, and says in words how it went (exit 0, 1 or 2)."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from redis import Redis
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry

from ghostfolio_plaid.models import Account, GhostfolioPush, PlaidItem
from ghostfolio_plaid.plaid_emulator import EmulatorServer, ThreadedServer
from ghostfolio_plaid.workers.sync import SyncServices
from tests.conftest import Caller
from tests.processes import command
from tests.test_ghostfolio_push import activities_expected, synced_item

CLOSED_PORT_URL = "http://127.0.0.1:1"


@dataclass
class Finished:
    status: int
    out: str
    err: str


async def push(env: dict[str, str], reference: str, ghostfolio_url: str | None) -> Finished:
    """Run ``ghostfolio-plaid push`` to its end; GHOSTFOLIO_URL is set only when ``ghostfolio_url`` is."""
    process_env = {k: v for k, v in env.items() if k != "GHOSTFOLIO_URL"}
    if ghostfolio_url is not None:
        process_env["GHOSTFOLIO_URL"] = ghostfolio_url
    process = await asyncio.create_subprocess_exec(
        *command("push", reference), env=process_env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    async with asyncio.timeout(120):
        out, err = await process.communicate()
    assert process.returncode is not None
    return Finished(process.returncode, out.decode(), err.decode())


async def gf(ghostfolio: ThreadedServer, method: str, path: str, body: Any = None, token: str | None = None) -> Any:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    async with httpx.AsyncClient(base_url=ghostfolio.url) as http:
        response = await http.request(method, path, json=body, headers=headers)
    response.raise_for_status()
    return response.json()


async def comments(ghostfolio: ThreadedServer, user_id: str) -> list[str]:
    state = await gf(ghostfolio, "GET", f"/emulator/state?userId={user_id}")
    return sorted(a["comment"] for a in state["activities"])


async def test_push_replays_the_item_restores_deleted_activities_and_then_has_nothing_to_send(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    sync_services: SyncServices,
    ghostfolio: ThreadedServer,
    process_env: dict[str, str],
) -> None:
    item = await synced_item(client, emulator, alice, sync_services)
    orders = await activities_expected(await Account.filter(plaid_item_id=item.id))
    first = await push(process_env, str(item.id), ghostfolio.url)
    assert first.status == 0, first.err
    assert f"push succeeded: {orders} created, 0 updated, 0 deleted," in first.out
    delivered = await comments(ghostfolio, alice.id)
    assert len(delivered) == len(set(delivered)) == orders

    state = await gf(ghostfolio, "GET", f"/emulator/state?userId={alice.id}")
    victim = state["activities"][0]
    await gf(ghostfolio, "DELETE", f"/api/v1/activities/{victim['id']}", token=alice.token)
    assert len(await comments(ghostfolio, alice.id)) == orders - 1
    second = await push(process_env, item.item_id, ghostfolio.url)  # Plaid's item_id names it too
    assert second.status == 0, second.err
    assert "push succeeded: 1 created, 0 updated, 0 deleted, 0 balances" in second.out
    assert await comments(ghostfolio, alice.id) == delivered

    await gf(ghostfolio, "DELETE", "/emulator/requests")
    third = await push(process_env, str(item.id), ghostfolio.url)
    assert third.status == 0, third.err
    assert "push succeeded: nothing to change" in third.out
    sent = (await gf(ghostfolio, "GET", "/emulator/requests"))["requests"]
    assert sent and {entry["method"] for entry in sent} == {"GET"}, "a replay with nothing to change only reads"
    assert f"({len(sent)} requests)" in third.out
    assert await comments(ghostfolio, alice.id) == delivered
    last = await GhostfolioPush.filter(plaid_item_id=item.id).order_by("-started_at").first()
    assert last is not None and (last.outcome, last.created, last.updated, last.deleted) == ("succeeded", 0, 0, 0)


@pytest.fixture
async def faults_cleared(ghostfolio: ThreadedServer) -> Any:
    yield
    await gf(ghostfolio, "DELETE", "/emulator/faults")


async def test_a_refusal_exits_1_and_prints_ghostfolios_reason(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    bob: Caller,
    sync_services: SyncServices,
    ghostfolio: ThreadedServer,
    process_env: dict[str, str],
    faults_cleared: None,
) -> None:
    item = await synced_item(client, emulator, bob, sync_services)
    fault = {"path": "/api/v1/account", "method": "GET", "status": 400, "body": {"message": "no accounts for you"}}
    await gf(ghostfolio, "POST", "/emulator/faults", fault)
    refused = await push(process_env, str(item.id), ghostfolio.url)
    assert refused.status == 1, refused.err
    assert "push refused" in refused.out
    assert "Ghostfolio refused the push: Ghostfolio answered 400: no accounts for you" in refused.err
    assert "Traceback" not in refused.err
    assert (await PlaidItem.get(id=item.id)).ghostfolio_error == "Ghostfolio answered 400: no accounts for you"


async def test_ghostfolio_unreachable_exits_1_and_says_a_retry_was_scheduled(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    sync_services: SyncServices,
    process_env: dict[str, str],
    redis_client: Redis,
) -> None:
    item = await synced_item(client, emulator, alice, sync_services)
    down = await push(process_env, str(item.id), CLOSED_PORT_URL)
    assert down.status == 1, down.err
    assert "push retrying" in down.out
    assert f"Ghostfolio at {CLOSED_PORT_URL} is unavailable" in down.err
    assert "a retry was scheduled in 10 s" in down.err
    assert "Traceback" not in down.err
    queue = Queue(process_env["SYNC_QUEUE_NAME"], connection=redis_client)
    (job_id,) = [
        j for j in ScheduledJobRegistry(queue=queue).get_job_ids() if j.startswith(f"gf-push-retry-{item.id}-")
    ]
    Job.fetch(job_id, connection=redis_client).delete()


async def test_without_ghostfolio_url_or_with_an_unknown_item_it_exits_2(
    process_env: dict[str, str], ghostfolio: ThreadedServer
) -> None:
    unset = await push(process_env, "item-sandbox-unknown", None)
    assert unset.status == 2 and unset.out == ""
    assert "GHOSTFOLIO_URL: required by push" in unset.err and "Traceback" not in unset.err
    unknown = await push(process_env, "item-sandbox-unknown", ghostfolio.url)
    assert unknown.status == 2 and unknown.out == ""
    assert unknown.err.strip() == "no Plaid item item-sandbox-unknown"
