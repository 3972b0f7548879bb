"""The sync job: read everything from Plaid, then write it in atomic steps under a per-item lock.

Failure rules: Plaid errors that need the user (ITEM_LOGIN_REQUIRED, INVALID_ACCESS_TOKEN, ITEM_NOT_FOUND, ...)
set the item's error and fail the job at once, with no retries. Passing troubles (rate limits, institution
down, product not ready, 5xx, timeouts) are retried by RQ with exponential backoff, then fail with the error
recorded. A per-item Redis lock with a TTL keeps two syncs of one item apart; if a worker dies, the lock
expires and the job can be released or taken over.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from redis.asyncio import Redis
from redis.exceptions import LockError
from rq import get_current_job
from tortoise import Tortoise
from tortoise.transactions import in_transaction

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.crypto import DecryptionError, TokenCipher
from ghostfolio_plaid.db import tortoise_config
from ghostfolio_plaid.errors import PlaidApiError, PlaidUnavailable
from ghostfolio_plaid.job_queue import SyncQueue, request_sync_soon, sync_lock_key
from ghostfolio_plaid.logs import install_redaction, item_id_var
from ghostfolio_plaid.models import Account, PlaidItem, SyncJob, SyncStatus, SyncTrigger
from ghostfolio_plaid.plaid_client import PlaidClient
from ghostfolio_plaid.rate_limit import RateLimiter
from ghostfolio_plaid.redis_connections import async_redis
from ghostfolio_plaid.workers.activities import write_activities
from ghostfolio_plaid.workers.fetch import fetch_snapshot
from ghostfolio_plaid.workers.portfolio import write_portfolio

log = logging.getLogger(__name__)
RETRYABLE_CODES = frozenset(
    {
        "RATE_LIMIT_EXCEEDED",
        "INSTITUTION_DOWN",
        "INSTITUTION_NOT_RESPONDING",
        "INSTITUTION_NO_LONGER_SUPPORTED_TEMPORARILY",
        "PRODUCT_NOT_READY",
        "INTERNAL_SERVER_ERROR",
        "PLANNED_MAINTENANCE",
        "PLAID_UNAVAILABLE",
    }
)


KeepLock = Callable[[], Awaitable[object]]


class RetryLater(Exception):
    """Raised to RQ so that its Retry policy runs the job again after a backoff."""


def is_retryable(error: PlaidApiError) -> bool:
    return isinstance(error, PlaidUnavailable) or error.error_code in RETRYABLE_CODES or error.status >= 500


@dataclass
class SyncServices:
    settings: Settings
    plaid: PlaidClient
    cipher: TokenCipher
    redis: Redis
    queue: SyncQueue


_host: tuple[asyncio.AbstractEventLoop, SyncServices] | None = None


def host_jobs_on(loop: asyncio.AbstractEventLoop | None, services: SyncServices | None) -> None:
    """Run this process's sync jobs on ``loop`` with ``services`` (the embedded demo: one process, one loop)."""
    global _host
    _host = (loop, services) if loop is not None and services is not None else None


def run_sync_job(sync_job_id: str) -> str:
    """RQ entry point: returns the job's final status, or raises ``RetryLater`` for RQ to retry."""
    current = get_current_job()
    final_attempt = current is None or not current.retries_left
    if _host is not None:
        loop, services = _host
        work = execute_sync(services, sync_job_id, final_attempt=final_attempt)
        return asyncio.run_coroutine_threadsafe(work, loop).result().value
    return asyncio.run(_run(sync_job_id, final_attempt))


async def _run(sync_job_id: str, final_attempt: bool) -> str:
    settings = Settings.from_env(require_jwt=False)
    install_redaction(settings.secret_values())
    redis = async_redis(settings.redis_url)
    plaid = PlaidClient(settings, limiter=RateLimiter(redis, settings.rate_limits_per_minute()))
    queue = SyncQueue(settings.redis_url, settings.sync_queue_name, settings.sync_retry_intervals)
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        services = SyncServices(settings, plaid, settings.cipher(), redis, queue)
        return (await execute_sync(services, sync_job_id, final_attempt=final_attempt)).value
    finally:
        await Tortoise.close_connections()
        await redis.aclose()
        queue.close()
        plaid.close()


async def execute_sync(services: SyncServices, sync_job_id: str, *, final_attempt: bool = True) -> SyncStatus:
    job = await SyncJob.get_or_none(id=sync_job_id)
    if job is None or job.status not in (SyncStatus.QUEUED, SyncStatus.RUNNING):
        log.warning("sync job %s is missing or already finished; skipped", sync_job_id)
        return job.status if job else SyncStatus.FAILED
    item = await PlaidItem.get(id=job.plaid_item_id)
    item_id_var.set(str(item.id))
    if item.disconnected_at is not None:
        return await _finish(job, time.monotonic(), SyncStatus.FAILED, "ITEM_DISCONNECTED")
    lock = services.redis.lock(sync_lock_key(str(item.id)), timeout=services.settings.sync_lock_seconds)
    if not await lock.acquire(blocking=False):
        if final_attempt:
            return await _finish(job, time.monotonic(), SyncStatus.FAILED, "ITEM_LOCKED")
        raise RetryLater("another sync of this item holds its lock")
    try:
        status = await _sync_locked(services, job, item, lock.reacquire, final_attempt)
    finally:
        try:
            await lock.release()
        except LockError:
            log.warning("sync lock of item %s expired before release", item.id)
    if await services.queue.take_followup(str(item.id)):
        await request_sync_soon(services.queue, await PlaidItem.get(id=item.id), SyncTrigger.WEBHOOK)
    return status


async def _sync_locked(
    services: SyncServices, job: SyncJob, item: PlaidItem, keep_lock: KeepLock, final_attempt: bool
) -> SyncStatus:
    started = time.monotonic()
    job.status, job.started_at, job.error = SyncStatus.RUNNING, datetime.now(UTC), None
    await job.save(update_fields=["status", "started_at", "error"])
    try:
        access_token = services.cipher.decrypt(item.access_token, row_id=str(item.id))
    except DecryptionError:
        log.error("access token of item %s cannot be decrypted", item.id)
        return await _finish(job, started, SyncStatus.FAILED, "ACCESS_TOKEN_UNREADABLE")
    today = datetime.now(UTC).date()
    try:
        snapshot = await fetch_snapshot(
            services.plaid,
            access_token,
            start=window_start(services.settings, item, today),
            end=today,
            progress=lambda done, total: _progress(keep_lock, job, done, total),
        )
    except PlaidApiError as error:
        return await _plaid_failure(job, item, started, error, final_attempt)
    linked = {a.plaid_account_id: a for a in await Account.filter(plaid_item_id=item.id) if a.plaid_account_id}
    async with in_transaction():
        portfolio = await write_portfolio(linked, snapshot, today)
    await _progress(keep_lock)
    async with in_transaction():
        counts = await write_activities(item.user_id, linked, snapshot, portfolio.profiles)
    item.last_synced_at, item.error = datetime.now(UTC), None
    await item.save(update_fields=["last_synced_at", "error", "updated_at"])
    job.activities_created, job.activities_updated = counts.created, counts.updated
    job.activities_removed, job.holdings_seen = counts.removed, portfolio.holdings_seen
    log.info(
        "synced item %s: %d transactions in %d pages, %d created, %d updated, %d removed, %d skipped",
        item.id,
        len(snapshot.transactions),
        snapshot.pages,
        counts.created,
        counts.updated,
        counts.removed,
        counts.skipped,
    )
    return await _finish(job, started, SyncStatus.SUCCEEDED, None)


def window_start(settings: Settings, item: PlaidItem, today: date) -> date:
    """24 months back on the first sync; afterwards from the last sync less an overlap Plaid may revise."""
    earliest = today - timedelta(days=settings.sync_history_days)
    if item.last_synced_at is None:
        return earliest
    return max(earliest, item.last_synced_at.date() - timedelta(days=settings.sync_overlap_days))


async def _progress(keep_lock: KeepLock, job: SyncJob | None = None, done: int = 0, total: int = 0) -> None:
    """Renew the item lock, and show how far the fetch is (one small update per page)."""
    await keep_lock()
    if job is not None:
        job.transactions_fetched, job.transactions_total = done, total
        await job.save(update_fields=["transactions_fetched", "transactions_total"])


async def _plaid_failure(
    job: SyncJob, item: PlaidItem, started: float, error: PlaidApiError, final_attempt: bool
) -> SyncStatus:
    if is_retryable(error):
        if not final_attempt:
            job.status, job.error = SyncStatus.QUEUED, error.error_code
            await job.save(update_fields=["status", "error"])
            log.warning("sync of item %s hit %s; RQ retries it later", item.id, error.error_code)
            raise RetryLater(error.error_code)
        return await _finish(job, started, SyncStatus.FAILED, error.error_code)
    item.error = error.error_code
    await item.save(update_fields=["error", "updated_at"])
    log.warning("sync of item %s failed with %s; the item needs attention", item.id, error.error_code)
    return await _finish(job, started, SyncStatus.FAILED, error.error_code)


async def _finish(job: SyncJob, started: float, status: SyncStatus, error: str | None) -> SyncStatus:
    job.status, job.error = status, error
    job.finished_at = datetime.now(UTC)
    job.duration_ms = int((time.monotonic() - started) * 1000)
    await job.save()
    log.info("sync job %s %s%s", job.id, status.value, f" ({error})" if error else "")
    return status
