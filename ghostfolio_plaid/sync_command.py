"""``ghostfolio-plaid sync ITEM_ID [--wait | --inline]``: start a sync and watch its progress from a terminal."""

from __future__ import annotations

import asyncio
import sys
import uuid
from typing import TextIO

from tortoise import Tortoise

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.db import tortoise_config
from ghostfolio_plaid.errors import DomainError
from ghostfolio_plaid.job_queue import SyncQueue, request_sync
from ghostfolio_plaid.models import PlaidItem, SyncJob, SyncStatus, SyncTrigger
from ghostfolio_plaid.plaid_client import PlaidClient
from ghostfolio_plaid.redis_connections import async_redis
from ghostfolio_plaid.workers.sync import SyncServices, execute_sync

BAR_WIDTH = 30
FINISHED = (SyncStatus.SUCCEEDED, SyncStatus.FAILED)


def progress_line(job: SyncJob) -> str:
    total = job.transactions_total
    if not total:
        bar, counts = "." * BAR_WIDTH, f"{job.transactions_fetched} transactions"
    else:
        done = min(BAR_WIDTH, BAR_WIDTH * job.transactions_fetched // total)
        bar, counts = "#" * done + "." * (BAR_WIDTH - done), f"{job.transactions_fetched}/{total} transactions"
    return f"[{bar}] {counts} {job.status.value}"


async def find_item(reference: str) -> PlaidItem | None:
    """Our id (a UUID) or Plaid's item_id."""
    try:
        return await PlaidItem.get_or_none(id=uuid.UUID(reference))
    except ValueError:
        return await PlaidItem.get_or_none(item_id=reference)


async def watch(job_id: str, out: TextIO, interval: float = 0.5) -> SyncJob:
    while True:
        job = await SyncJob.get(id=job_id)
        out.write("\r" + progress_line(job))
        out.flush()
        if job.status in FINISHED:
            out.write("\n")
            return job
        await asyncio.sleep(interval)


async def run(reference: str, *, wait: bool, inline: bool, out: TextIO = sys.stderr) -> int:
    settings = Settings.from_env(require_jwt=False)
    queue = SyncQueue(settings.redis_url, settings.sync_queue_name, settings.sync_retry_intervals)
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        item = await find_item(reference)
        if item is None:
            out.write(f"no Plaid item {reference}\n")
            return 2
        try:
            job = await request_sync(queue, item, SyncTrigger.MANUAL)
        except DomainError as exc:
            out.write(f"{exc.message}\n")
            return 1
        print(job.id)
        if inline:
            redis = async_redis(settings.redis_url)
            plaid = PlaidClient(settings)
            services = SyncServices(settings, plaid, settings.cipher(), redis, queue)
            watcher = asyncio.create_task(watch(str(job.id), out))
            try:
                await execute_sync(services, str(job.id))
                job = await watcher
            finally:
                watcher.cancel()
                await redis.aclose()
                plaid.close()
        elif wait:
            job = await watch(str(job.id), out)
        else:
            return 0
        if job.status != SyncStatus.SUCCEEDED:
            out.write(f"sync failed: {job.error}\n")
            return 1
        out.write(
            f"created {job.activities_created}, updated {job.activities_updated}, removed {job.activities_removed} "
            f"activities; {job.holdings_seen} holdings\n"
        )
        return 0
    finally:
        await Tortoise.close_connections()
        queue.close()
