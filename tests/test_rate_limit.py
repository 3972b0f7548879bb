"""Plaid calls stay under the configured rates across processes, per client and per item: unit checks of the
shared limiter and real workers."""

from __future__ import annotations

import asyncio
import itertools
import time
import uuid

import httpx
from plaid.model.investments_holdings_get_request import InvestmentsHoldingsGetRequest
from plaid.model.item_public_token_exchange_request import ItemPublicTokenExchangeRequest
from redis.asyncio import Redis as AsyncRedis
from rq.job import Job

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.job_queue import SyncQueue, request_sync
from ghostfolio_plaid.models import PlaidItem, SyncJob, SyncStatus, SyncTrigger
from ghostfolio_plaid.plaid_client import item_key
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from ghostfolio_plaid.rate_limit import RateLimiter
from tests.conftest import REDIS_URL, Caller, emulator_call
from tests.linking import link_seeded_item
from tests.processes import command, run_command


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


async def test_an_item_is_paced_by_its_own_limit_and_other_items_are_not() -> None:
    redis = AsyncRedis.from_url(REDIS_URL)
    limiter = RateLimiter(redis, {"item:item_get": 60}, prefix=f"gp:test-limit:{uuid.uuid4()}")
    try:
        assert await limiter.acquire("item_get", item="a") == 0.0
        assert await limiter.acquire("item_get", item="b") == 0.0
        assert await limiter.acquire("item_get") == 0.0
        assert await limiter.acquire("item_get", item="a") > 0.0
    finally:
        await redis.aclose()


async def test_a_call_waiting_for_the_client_slot_takes_no_item_slot_meanwhile() -> None:
    """Both slots are taken in one step: a call never holds its item's slot while it waits for the client's."""
    redis = AsyncRedis.from_url(REDIS_URL)
    limiter = RateLimiter(redis, {"item_get": 60, "item:item_get": 60}, prefix=f"gp:test-limit:{uuid.uuid4()}")
    (_, _), (item_key_y, _) = limiter.keys("item_get", "y")
    try:
        assert await limiter.acquire("item_get", item="x") == 0.0
        waiting = asyncio.create_task(limiter.acquire("item_get", item="y"))
        await asyncio.sleep(0.3)
        assert not waiting.done() and not await redis.exists(item_key_y)
        assert await waiting > 0.0
        assert await redis.exists(item_key_y)
    finally:
        await redis.aclose()


def test_plaids_per_item_limits_are_the_defaults() -> None:
    limits = Settings().rate_limits_per_minute()
    assert limits["item:investments_holdings_get"] == 15
    assert limits["item:investments_transactions_get"] == 30
    assert limits["investments_holdings_get"] == 2000
    overridden = Settings(plaid_rate_limits=(("item:investments_holdings_get", 60),)).rate_limits_per_minute()
    assert overridden["item:investments_holdings_get"] == 60


def test_items_are_limited_under_a_digest_of_their_access_token() -> None:
    token = "access-sandbox-" + uuid.uuid4().hex
    key = item_key(InvestmentsHoldingsGetRequest(access_token=token))
    assert key is not None and token not in key and len(key) == 32
    assert key == item_key(InvestmentsHoldingsGetRequest(access_token=token))
    assert item_key(ItemPublicTokenExchangeRequest(public_token="public-sandbox-x")) is None


async def test_one_items_pages_keep_its_own_limit_in_a_worker(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, process_env: dict[str, str]
) -> None:
    shape = {"investment_accounts": 1, "securities": 5, "transactions_per_account": 1600, "depository_account": False}
    item_id, _ = await link_seeded_item(client, emulator, alice, shape=shape)
    queue_name = f"gp-test-limit-{uuid.uuid4().hex[:8]}"
    queue = SyncQueue(REDIS_URL, queue_name, (0,))
    job = await request_sync(queue, await PlaidItem.get(id=item_id), SyncTrigger.MANUAL)
    env = {**process_env, "SYNC_QUEUE_NAME": queue_name, "PLAID_RATE_LIMITS": "item:investments_transactions_get=120"}
    await run_command(env, "worker", "--burst")
    assert (await SyncJob.get(id=job.id)).status == SyncStatus.SUCCEEDED
    plaid_item_id = (await PlaidItem.get(id=item_id)).item_id
    requests = (await emulator_call(emulator, "GET", "/emulator/requests"))["requests"]
    pages = sorted(
        r["time"] for r in requests if r["path"] == "/investments/transactions/get" and r["item_id"] == plaid_item_id
    )
    assert len(pages) == 4
    gaps = [later - earlier for earlier, later in itertools.pairwise(pages)]
    assert min(gaps) >= 0.45, gaps
    queue.queue.delete(delete_jobs=True)
    queue.close()
