"""The daily sync of every active item, enqueued by ``rq cron`` and spread over a window.

Each item's start is offset by a hash of its id within ``SYNC_SPREAD_SECONDS``: stable from day to day and
even across items, so 10,000 items do not start in the same second. An item that already has a queued or
running sync, is disconnected, or needs its user (login, revoked consent) is skipped.

Enqueuing is batched, so that 10,000 items take seconds rather than minutes: one query reads the active items,
one the syncs already on their way, the new jobs are inserted in bulk and put on the queue in pipelined
batches. Only an item that already has an active job goes the one-by-one way (``request_sync``), which
releases a job whose worker died, as any other request does.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import uuid
from collections.abc import Sequence

from redis import Redis
from rq.cron import CronScheduler
from tortoise import Tortoise
from tortoise.exceptions import IntegrityError
from tortoise.expressions import Q

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.db import tortoise_config
from ghostfolio_plaid.errors import Conflict, Unavailable
from ghostfolio_plaid.job_queue import EnqueuedInPart, SyncQueue, request_sync
from ghostfolio_plaid.models import ACTIVE_SYNC_STATUSES, PlaidItem, SyncJob, SyncTrigger
from ghostfolio_plaid.workers.sync import hosted

log = logging.getLogger(__name__)
NEEDS_USER = ("ITEM_LOGIN_REQUIRED", "USER_PERMISSION_REVOKED", "ITEM_NOT_FOUND", "INVALID_ACCESS_TOKEN")
INSERT_BATCH = 1000


def spread_offset(item_id: str, window_seconds: int) -> int:
    if window_seconds <= 0:
        return 0
    return int.from_bytes(hashlib.sha256(item_id.encode()).digest()[:8], "big") % window_seconds


async def enqueue_due_syncs(queue: SyncQueue, spread_seconds: int) -> int:
    """Enqueue the daily sync of every active item; returns how many were enqueued."""
    due = await PlaidItem.filter(
        Q(error__isnull=True) | ~Q(error__in=NEEDS_USER), disconnected_at__isnull=True
    ).values_list("id", flat=True)
    active = await SyncJob.filter(status__in=list(ACTIVE_SYNC_STATUSES)).values_list("plaid_item_id", flat=True)
    busy = {str(item_id) for item_id in active}
    free = [str(item_id) for item_id in due if str(item_id) not in busy]
    jobs: list[tuple[str, int]] = []
    for start in range(0, len(free), INSERT_BATCH):
        jobs += await _create_jobs(free[start : start + INSERT_BATCH], spread_seconds)
    await _enqueue_all(queue, jobs)
    enqueued = len(jobs)
    for item in await PlaidItem.filter(id__in=sorted(busy & {str(i) for i in due})):
        enqueued += await _enqueue_one(queue, item, spread_seconds)
    log.info("daily run: %d of %d active items enqueued", enqueued, len(due))
    return enqueued


async def _create_jobs(item_ids: Sequence[str], spread_seconds: int) -> list[tuple[str, int]]:
    """SyncJob rows for items that had none active, in one statement; should one of them have gained an active
    job since it was read (a webhook, a user), the batch goes one by one, skipping that item."""
    rows = [SyncJob(id=uuid.uuid4(), plaid_item_id=item_id, trigger=SyncTrigger.SCHEDULE) for item_id in item_ids]
    try:
        await SyncJob.bulk_create(rows)
    except IntegrityError:
        created = []
        for row in rows:
            try:
                await row.save()
            except IntegrityError:
                continue
            created.append(row)
        rows = created
    return [(str(row.id), spread_offset(str(row.plaid_item_id), spread_seconds)) for row in rows]


async def _enqueue_all(queue: SyncQueue, jobs: list[tuple[str, int]]) -> None:
    """Put the jobs on the queue; if Redis goes away, the rows of the jobs it did not take are deleted (as
    ``request_sync`` does for one job), so no item is left with a queued sync that never runs."""
    try:
        await queue.enqueue_syncs(jobs)
    except EnqueuedInPart as gone:
        lost = [job_id for job_id, _ in jobs[gone.enqueued :]]
        for start in range(0, len(lost), INSERT_BATCH):
            await SyncJob.filter(id__in=lost[start : start + INSERT_BATCH]).delete()
        raise Unavailable(f"The job queue is unavailable; {gone.enqueued} of {len(jobs)} syncs enqueued") from None


async def _enqueue_one(queue: SyncQueue, item: PlaidItem, spread_seconds: int) -> int:
    try:
        await request_sync(queue, item, SyncTrigger.SCHEDULE, spread_offset(str(item.id), spread_seconds))
    except Conflict:
        return 0
    return 1


def enqueue_daily_syncs() -> int:
    """RQ entry point of the cron job: on the work horse's open services when it has them."""
    host = hosted()
    if host is not None:
        return host.run(lambda services: enqueue_due_syncs(services.queue, services.settings.sync_spread_seconds))
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
