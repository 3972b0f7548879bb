"""Plaid calls stay under the configured rate across processes: a unit check and two real workers."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid

import httpx
from redis.asyncio import Redis as AsyncRedis
from rq.job import Job

from ghostfolio_plaid.job_queue import SyncQueue, request_sync
from ghostfolio_plaid.models import PlaidItem, SyncJob, SyncStatus, SyncTrigger
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from ghostfolio_plaid.rate_limit import RateLimiter
from tests.conftest import REDIS_URL, Caller, emulator_call
from tests.linking import link_seeded_item
from tests.processes import command


async def test_limiters_sharing_redis_pace_calls_together() -> None:
    first, second = AsyncRedis.from_url(REDIS_URL), AsyncRedis.from_url(REDIS_URL)
    prefix = f"gp:test-limit:{uuid.uuid4()}"
    limits = {"item_get": 600}
    try:
        a, b = RateLimiter(first, limits, prefix=prefix), RateLimiter(second, limits, prefix=prefix)
        started = time.monotonic()
        await asyncio.gather(*(limiter.acquire("item_get") for limiter in (a, b, a, b, a, b)))
        assert time.monotonic() - started >= 0.45
        assert await a.acquire("unlimited_endpoint") == 0.0
    finally:
        await first.aclose()
        await second.aclose()


async def test_two_workers_share_the_plaid_limit(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, process_env: dict[str, str]
) -> None:
    queue_name = f"gp-test-limit-{uuid.uuid4().hex[:8]}"
    queue = SyncQueue(REDIS_URL, queue_name, (0,))
    shape = {"investment_accounts": 1, "securities": 3, "transactions_per_account": 5, "depository_account": False}
    item_ids = [(await link_seeded_item(client, emulator, alice, shape=shape))[0] for _ in range(8)]
    jobs = [await request_sync(queue, await PlaidItem.get(id=i), SyncTrigger.MANUAL) for i in item_ids]
    env = {**process_env, "SYNC_QUEUE_NAME": queue_name, "PLAID_RATE_LIMITS": "investments_holdings_get=120"}
    workers = [
        await asyncio.create_subprocess_exec(
            *command("worker", "--burst"),
            env=env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    async with asyncio.timeout(120):
        assert [await worker.wait() for worker in workers] == [0, 0]
    assert {j.status for j in await SyncJob.filter(id__in=[j.id for j in jobs])} == {SyncStatus.SUCCEEDED}
    requests = (await emulator_call(emulator, "GET", "/emulator/requests"))["requests"]
    plaid_item_ids = {p.item_id for p in await PlaidItem.filter(id__in=item_ids)}
    times = sorted(
        r["time"] for r in requests if r["path"] == "/investments/holdings/get" and r["item_id"] in plaid_item_ids
    )
    assert len(times) == 8
    gaps = [later - earlier for earlier, later in itertools.pairwise(times)]
    assert min(gaps) >= 0.45, gaps
    worker_names = {Job.fetch(str(j.id), connection=queue.redis).worker_name for j in jobs}
    assert len(worker_names) == 2
    queue.queue.delete(delete_jobs=True)
    queue.close()
