"""The daily sync of every active item, enqueued by ``rq cron`` and spread over a window.

Each item's start is offset by a hash of its id within ``SYNC_SPREAD_SECONDS``: stable from day to day and
even across items, so 10,000 items do not start in the same second. An item that already has a queued or
running sync, is disconnected, or needs its user (login, revoked consent) is skipped.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging

from redis import Redis
from rq.cron import CronScheduler
from tortoise import Tortoise
from tortoise.expressions import Q

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.db import tortoise_config
from ghostfolio_plaid.errors import Conflict
from ghostfolio_plaid.job_queue import SyncQueue, request_sync
from ghostfolio_plaid.models import PlaidItem, SyncTrigger

log = logging.getLogger(__name__)
NEEDS_USER = ("ITEM_LOGIN_REQUIRED", "USER_PERMISSION_REVOKED", "ITEM_NOT_FOUND", "INVALID_ACCESS_TOKEN")


def spread_offset(item_id: str, window_seconds: int) -> int:
    if window_seconds <= 0:
        return 0
    return int.from_bytes(hashlib.sha256(item_id.encode()).digest()[:8], "big") % window_seconds


async def enqueue_due_syncs(queue: SyncQueue, spread_seconds: int) -> int:
    enqueued = 0
    items = await PlaidItem.filter(
        Q(error__isnull=True) | ~Q(error__in=NEEDS_USER), disconnected_at__isnull=True
    ).order_by("id")
    for item in items:
        try:
            await request_sync(queue, item, SyncTrigger.SCHEDULE, spread_offset(str(item.id), spread_seconds))
        except Conflict:
            continue
        enqueued += 1
    log.info("daily run: %d of %d active items enqueued", enqueued, len(items))
    return enqueued


def enqueue_daily_syncs() -> int:
    """RQ entry point of the cron job."""
    return asyncio.run(_enqueue_daily_syncs())


async def _enqueue_daily_syncs() -> int:
    settings = Settings.from_env(require_jwt=False)
    queue = SyncQueue(settings.redis_url, settings.sync_queue_name, settings.sync_retry_intervals)
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        return await enqueue_due_syncs(queue, settings.sync_spread_seconds)
    finally:
        await Tortoise.close_connections()
        queue.close()


def build_cron(settings: Settings, connection: Redis) -> CronScheduler:
    """The ``rq cron`` scheduler with the daily job at ``SYNC_SCHEDULE`` (UTC)."""
    cron = CronScheduler(connection=connection, name="ghostfolio-plaid-scheduler")
    cron.register(
        enqueue_daily_syncs,
        queue_name=settings.sync_queue_name,
        cron=settings.sync_schedule,
        job_timeout=3600,
        name="ghostfolio-plaid-daily-sync",
    )
    return cron
