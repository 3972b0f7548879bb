"""Sync jobs in Redis: RQ's retry runs a failed attempt again; abandoned jobs do not block an item."""

from __future__ import annotations

import httpx
from rq.job import Job, JobStatus
from starlette.applications import Starlette

from ghostfolio_plaid.job_queue import SyncQueue, sync_lock_key
from ghostfolio_plaid.models import PlaidItem, SyncJob, SyncStatus, SyncTrigger
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from tests.conftest import Caller, emulator_call
from tests.linking import link_seeded_item
from tests.processes import run_command

API = "/api/v1/plaid"


async def test_rate_limited_attempt_is_retried_by_rq(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, process_env: dict[str, str]
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    plaid_item = await PlaidItem.get(id=item_id)
    fault = {"path": "/investments/holdings/get", "item_id": plaid_item.item_id, "error_code": "RATE_LIMIT_EXCEEDED"}
    await emulator_call(emulator, "POST", "/emulator/faults", fault)
    job_id = (await client.post(f"{API}/sync/{item_id}", headers=alice.headers)).json()["jobId"]
    await run_command(process_env, "worker", "--burst")
    job = await SyncJob.get(id=job_id)
    assert (job.status, job.error) == (SyncStatus.SUCCEEDED, None)
    requests = (await emulator_call(emulator, "GET", "/emulator/requests"))["requests"]
    holdings_calls = [
        r for r in requests if r["path"] == "/investments/holdings/get" and r["item_id"] == plaid_item.item_id
    ]
    assert len(holdings_calls) == 2


async def test_running_job_whose_worker_died_is_released(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, app: Starlette
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    queue: SyncQueue = app.state.services.queue
    first = (await client.post(f"{API}/sync/{item_id}", headers=alice.headers)).json()["jobId"]
    await SyncJob.filter(id=first).update(status=SyncStatus.RUNNING)
    Job.fetch(first, connection=queue.redis).set_status(JobStatus.STARTED)
    queue.redis.set(sync_lock_key(item_id), "worker-alive", ex=30)
    held = await client.post(f"{API}/sync/{item_id}", headers=alice.headers)
    assert held.status_code == 409
    queue.redis.delete(sync_lock_key(item_id))
    released = await client.post(f"{API}/sync/{item_id}", headers=alice.headers)
    assert released.status_code == 202
    abandoned = await SyncJob.get(id=first)
    assert (abandoned.status, abandoned.error) == (SyncStatus.FAILED, "ABANDONED")
    assert abandoned.finished_at is not None and abandoned.finished_at >= abandoned.created_at
    assert await SyncJob.filter(plaid_item_id=item_id, trigger=SyncTrigger.MANUAL).count() == 2
