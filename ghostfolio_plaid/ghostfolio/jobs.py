"""Push jobs: one RQ job per item delivers its outbox; Ghostfolio unreachable means a later job, forever.

Jobs carry the item id only. A push requested while one is queued joins it; one requested while a push runs
leaves a mark that the running push consumes by queueing one more, so no change waits for the next sync.
Retries back off (5 s doubling, capped by ``GHOSTFOLIO_RETRY_MAX_SECONDS``) and are scheduled RQ jobs in
Redis, so they survive restarts of every process.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from typing import Any

from redis.exceptions import LockError
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from tortoise import Tortoise

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.db import tortoise_config
from ghostfolio_plaid.errors import GhostfolioUnavailable
from ghostfolio_plaid.ghostfolio.client import GhostfolioClient
from ghostfolio_plaid.ghostfolio.push import push_item
from ghostfolio_plaid.job_queue import SyncQueue
from ghostfolio_plaid.logs import install_redaction
from ghostfolio_plaid.models import PlaidItem
from ghostfolio_plaid.redis_connections import async_redis

log = logging.getLogger(__name__)
PUSH_JOB_FUNCTION = "ghostfolio_plaid.ghostfolio.jobs.run_push_job"
_WAITING = frozenset({JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED})


def push_job_id(item_id: str) -> str:
    return f"gf-push-{item_id}"


def retry_job_id(item_id: str) -> str:
    """Each retry has an id of its own: the push that schedules it is itself a job, and RQ rewrites that job's
    record when the push finishes, which would wipe a retry scheduled under the same id."""
    return f"gf-push-retry-{item_id}-{uuid.uuid4().hex[:12]}"


def push_lock_key(item_id: str) -> str:
    return f"gp:gf-push-lock:{item_id}"


def push_followup_key(item_id: str) -> str:
    return f"gp:gf-push-followup:{item_id}"


def retry_delay(attempts: int, ceiling: int) -> int:
    return int(min(ceiling, 5 * 2 ** min(attempts, 20)))


async def request_push(queue: SyncQueue, item_id: str, delay_seconds: int = 0) -> None:
    await SyncQueue._run(_enqueue, queue, item_id, delay_seconds)


def _enqueue(queue: SyncQueue, item_id: str, delay_seconds: int) -> None:
    options: dict[str, Any] = {"job_timeout": 3600, "result_ttl": 3600, "failure_ttl": 7 * 86400}
    if delay_seconds > 0:
        options["job_id"] = retry_job_id(item_id)
        queue.queue.enqueue_in(timedelta(seconds=delay_seconds), PUSH_JOB_FUNCTION, item_id, **options)
        return
    job_id = push_job_id(item_id)
    try:
        status = Job.fetch(job_id, connection=queue.redis).get_status(refresh=False)
    except NoSuchJobError:
        status = None
    if status in _WAITING:
        return
    if status == JobStatus.STARTED:
        queue.redis.set(push_followup_key(item_id), "1", ex=86400)
        return
    queue.queue.enqueue(PUSH_JOB_FUNCTION, item_id, job_id=job_id, **options)


def run_push_job(item_id: str) -> str:
    """RQ entry point."""
    from ghostfolio_plaid.workers import sync as sync_worker

    host = sync_worker.hosted()
    if host is not None:
        return host.run(lambda services: deliver(services.settings, services.queue, item_id))
    return asyncio.run(_run(item_id))


async def _run(item_id: str) -> str:
    settings = Settings.from_env(require_jwt=False)
    install_redaction(settings.secret_values())
    queue = SyncQueue(settings.redis_url, settings.sync_queue_name, settings.sync_retry_intervals)
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        return await deliver(settings, queue, item_id)
    finally:
        await Tortoise.close_connections()
        queue.close()


async def deliver(settings: Settings, queue: SyncQueue, item_id: str, *, replay: bool = False) -> str:
    """Push the item under its lock; schedule a retry while Ghostfolio is unavailable. Answers the outcome."""
    if settings.ghostfolio_url is None:
        return "off"
    redis = async_redis(settings.redis_url)
    client = GhostfolioClient(
        settings.ghostfolio_url, settings.jwt_secret_key, timeout_seconds=settings.ghostfolio_timeout_seconds
    )
    lock = redis.lock(push_lock_key(item_id), timeout=3600)
    try:
        if not await lock.acquire(blocking=False):
            await redis.set(push_followup_key(item_id), "1", ex=86400)
            return "busy"
        try:
            run = await push_item(
                client,
                item_id,
                data_source=settings.ghostfolio_data_source,
                batch=settings.ghostfolio_import_batch,
                replay=replay,
            )
        except GhostfolioUnavailable as exc:
            item = await PlaidItem.get(id=item_id)
            delay = retry_delay(item.ghostfolio_attempts, settings.ghostfolio_retry_max_seconds)
            log.warning("Ghostfolio unavailable for item %s (%s); retrying in %d s", item_id, exc, delay)
            await request_push(queue, item_id, delay)
            return "retrying"
        finally:
            try:
                await lock.release()
            except LockError:
                log.warning("push lock of item %s expired before release", item_id)
        if await redis.getdel(push_followup_key(item_id)) is not None:
            await request_push(queue, item_id)
        return run.outcome
    finally:
        await client.aclose()
        await redis.aclose()
