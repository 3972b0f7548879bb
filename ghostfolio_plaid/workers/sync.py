"""The sync job: read everything from Plaid, then write it in atomic steps under a per-item lock.

Failure rules: Plaid errors that need the user (ITEM_LOGIN_REQUIRED, INVALID_ACCESS_TOKEN, ITEM_NOT_FOUND, ...)
set the item's error and fail the job at once, with no retries. Passing troubles (rate limits, institution
down, product not ready, 5xx, timeouts) are retried by RQ with exponential backoff, then fail with the error
recorded. One exception: ``PRODUCT_NOT_READY`` on an item's first sync is Plaid still preparing the history
(normal for a new item): while the item has never synced and is younger than ``FIRST_SYNC_PATIENCE``, the job
keeps waiting (RQ retries it at its longest interval, beyond its retry budget) instead of failing; Plaid's
``INVESTMENTS_TRANSACTIONS:HISTORICAL_UPDATE`` webhook also asks for a sync. A per-item Redis lock with a TTL
keeps two syncs of one item apart; if a worker dies, the lock expires and the job can be released or taken
over. Any other exception (a bug, the database going away) is logged with its traceback, recorded on the job
(``INTERNAL_ERROR``: QUEUED while RQ retries, FAILED on the last attempt) and re-raised, so no job stays
RUNNING and RQ marks it failed; the lock is released on every path.

The item row is shared with the webhook handler, which may flag it at any moment: a sync never saves the item
it read, it updates single columns, and clears an error only if the row still holds what it read (see
``_mark_synced``).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial

from redis.asyncio import Redis
from redis.exceptions import LockError
from rq import get_current_job
from tortoise.transactions import in_transaction

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.crypto import DecryptionError, TokenCipher
from ghostfolio_plaid.errors import PlaidApiError, PlaidUnavailable
from ghostfolio_plaid.events import publish_item, publish_sync_job
from ghostfolio_plaid.ghostfolio.outbox import hand_to_ghostfolio
from ghostfolio_plaid.job_queue import SyncQueue, request_sync_soon, sync_lock_key
from ghostfolio_plaid.logs import item_id_var
from ghostfolio_plaid.models import ACTIVE_SYNC_STATUSES, Account, PlaidItem, SyncJob, SyncStatus, SyncTrigger
from ghostfolio_plaid.plaid_client import PlaidClient
from ghostfolio_plaid.workers.activities import write_activities
from ghostfolio_plaid.workers.fetch import PlaidSnapshot, fetch_snapshot
from ghostfolio_plaid.workers.host import JobHost, LoopThreadHost, close_services, installed, open_services
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
        "PLAID_BAD_RESPONSE",
        "PLAID_INCOMPLETE_READ",
    }
)
NOT_CLEARED_BY_SYNC = frozenset(
    {"PENDING_EXPIRATION", "PENDING_DISCONNECT", "USER_PERMISSION_REVOKED", "USER_ACCOUNT_REVOKED"}
)
"""Item errors a successful read does not disprove: they announce the future or need the user's consent."""
INTERNAL_ERROR = "INTERNAL_ERROR"
NOT_READY = "PRODUCT_NOT_READY"
FIRST_SYNC_PATIENCE = timedelta(hours=48)
"""How long a never-synced item's sync keeps waiting for Plaid to prepare its history before it may fail."""
FINISH_FIELDS = (
    "status",
    "error",
    "finished_at",
    "duration_ms",
    "activities_created",
    "activities_updated",
    "activities_removed",
    "holdings_seen",
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


def hosted() -> JobHost | None:
    """What jobs run on in this process: a long-lived work horse's loop and services, the demo's loop, or None
    (then a job builds its services itself and closes them again)."""
    if (horse := installed()) is not None:
        return horse
    return LoopThreadHost(*_host) if _host is not None else None


def run_sync_job(sync_job_id: str) -> str:
    """RQ entry point: returns the job's final status, or raises ``RetryLater`` for RQ to retry."""
    current = get_current_job()
    final_attempt = current is None or not current.retries_left
    can_wait = current is not None
    try:
        host = hosted()
        if host is not None:
            work = partial(execute_sync, sync_job_id=sync_job_id, final_attempt=final_attempt, can_wait=can_wait)
            return host.run(work).value
        return asyncio.run(_run(sync_job_id, final_attempt, can_wait=can_wait))
    except RetryLater:
        if final_attempt and current is not None:
            current.retries_left = 1  # the first sync keeps waiting for Plaid: one more retry, at the last interval
        raise


async def _run(sync_job_id: str, final_attempt: bool, *, can_wait: bool = False) -> str:
    services = await open_services(Settings.from_env(require_jwt=False))
    try:
        return (await execute_sync(services, sync_job_id, final_attempt=final_attempt, can_wait=can_wait)).value
    finally:
        await close_services(services)


async def execute_sync(
    services: SyncServices, sync_job_id: str, *, final_attempt: bool = True, can_wait: bool = False
) -> SyncStatus:
    """Run one attempt. ``can_wait``: a retrier (RQ) will run a ``RetryLater`` again even on the final attempt,
    so a first sync may keep waiting for Plaid to prepare the item (see the module docstring)."""
    job = await SyncJob.get_or_none(id=sync_job_id)
    if job is None or job.status not in ACTIVE_SYNC_STATUSES:
        log.warning("sync job %s is missing or already finished; skipped", sync_job_id)
        return job.status if job else SyncStatus.FAILED
    started = time.monotonic()
    try:
        return await _execute(services, job, final_attempt, can_wait)
    except RetryLater:
        raise
    except Exception:
        log.exception("sync job %s failed unexpectedly", job.id)
        await _unexpected_failure(job, started, final_attempt)
        raise


async def _execute(services: SyncServices, job: SyncJob, final_attempt: bool, can_wait: bool = False) -> SyncStatus:
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
        status = await _sync_locked(services, job, item, lock.reacquire, final_attempt, can_wait)
    finally:
        try:
            await lock.release()
        except LockError:
            log.warning("sync lock of item %s expired before release", item.id)
    if await services.queue.take_followup(str(item.id)):
        await request_sync_soon(services.queue, await PlaidItem.get(id=item.id), SyncTrigger.WEBHOOK)
    return status


async def _unexpected_failure(job: SyncJob, started: float, final_attempt: bool) -> None:
    """Record a failure nobody planned for: FAILED on the last attempt, else QUEUED for RQ's retry.

    Conditional on the job still being active, so a job released meanwhile keeps what it was given.
    """
    active = SyncJob.filter(id=job.id, status__in=list(ACTIVE_SYNC_STATUSES))
    if not final_attempt:
        await active.update(status=SyncStatus.QUEUED, error=INTERNAL_ERROR)
        return
    duration_ms = int((time.monotonic() - started) * 1000)
    await active.update(
        status=SyncStatus.FAILED, error=INTERNAL_ERROR, finished_at=datetime.now(UTC), duration_ms=duration_ms
    )
    await publish_sync_job(job)


async def _sync_locked(
    services: SyncServices,
    job: SyncJob,
    item: PlaidItem,
    keep_lock: KeepLock,
    final_attempt: bool,
    can_wait: bool = False,
) -> SyncStatus:
    started = time.monotonic()
    job.status, job.started_at, job.error = SyncStatus.RUNNING, datetime.now(UTC), None
    await job.save(update_fields=["status", "started_at", "error"])
    await publish_sync_job(job)
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
        return await _plaid_failure(job, item, started, error, final_attempt, can_wait)
    linked = await covered_accounts(item, snapshot)
    async with in_transaction():
        portfolio = await write_portfolio(linked, snapshot, today)
    await _progress(keep_lock)
    async with in_transaction():
        counts = await write_activities(item.user_id, linked, snapshot, portfolio.profiles, portfolio.currencies)
    await _mark_synced(item)
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
    status = await _finish(job, started, SyncStatus.SUCCEEDED, None)
    if services.settings.ghostfolio_url is not None:
        await hand_to_ghostfolio(services.queue, item)
    return status


async def covered_accounts(item: PlaidItem, snapshot: PlaidSnapshot) -> dict[str, Account]:
    """The item's linked accounts that Plaid's answer reports, by Plaid account id: the only ones written.

    An account missing from the answer (no longer shared, or a partial answer) keeps its activities, holdings
    and balance: its absence proves nothing, and reconciling it against nothing would invent closing orders.
    """
    reported = {account["account_id"] for account in snapshot.accounts}
    return {
        a.plaid_account_id: a
        for a in await Account.filter(plaid_item_id=item.id)
        if a.plaid_account_id is not None and a.plaid_account_id in reported
    }


def window_start(settings: Settings, item: PlaidItem, today: date) -> date:
    """24 months back on the first sync; afterwards from the last sync less an overlap Plaid may revise."""
    earliest = today - timedelta(days=settings.sync_history_days)
    if item.last_synced_at is None:
        return earliest
    return max(earliest, item.last_synced_at.date() - timedelta(days=settings.sync_overlap_days))


async def _mark_synced(item: PlaidItem) -> None:
    """Record a successful sync on the item without overwriting what changed while it ran.

    ``item`` is the row as read before the first Plaid call. Its error is cleared only if a successful read
    disproves it and the row still holds exactly that (same error, not updated since): an ``ITEM:ERROR``
    webhook that arrived after the sync's last Plaid call stays. One conditional UPDATE, so nothing can slip
    in between the check and the write.
    """
    now = datetime.now(UTC)
    if item.error is not None and item.error not in NOT_CLEARED_BY_SYNC:
        cleared = await PlaidItem.filter(id=item.id, error=item.error, updated_at=item.updated_at).update(
            error=None, updated_at=now
        )
        if not cleared:
            log.info("item %s changed during its sync; its error %s is left for the next sync", item.id, item.error)
    await PlaidItem.filter(id=item.id).update(last_synced_at=now, updated_at=now)
    await publish_item(item)


async def _progress(keep_lock: KeepLock, job: SyncJob | None = None, done: int = 0, total: int = 0) -> None:
    """Renew the item lock, and show how far the fetch is (one small update per page)."""
    await keep_lock()
    if job is not None:
        job.transactions_fetched, job.transactions_total = done, total
        await job.save(update_fields=["transactions_fetched", "transactions_total"])
        await publish_sync_job(job)


def waits_for_plaid(item: PlaidItem, error: PlaidApiError) -> bool:
    """Plaid still preparing a new item's history: normal, so the first sync waits instead of failing."""
    young = datetime.now(UTC) - item.created_at < FIRST_SYNC_PATIENCE
    return error.error_code == NOT_READY and item.last_synced_at is None and young


async def _plaid_failure(
    job: SyncJob, item: PlaidItem, started: float, error: PlaidApiError, final_attempt: bool, can_wait: bool = False
) -> SyncStatus:
    if is_retryable(error):
        if not final_attempt or (can_wait and waits_for_plaid(item, error)):
            job.status, job.error = SyncStatus.QUEUED, error.error_code
            await job.save(update_fields=["status", "error"])
            log.warning(
                "sync of item %s hit %s (%s); RQ retries it later", item.id, error.error_code, error.error_message
            )
            raise RetryLater(error.error_code)
        log.warning("sync of item %s failed with %s (%s)", item.id, error.error_code, error.error_message)
        return await _finish(job, started, SyncStatus.FAILED, error.error_code)
    await PlaidItem.filter(id=item.id).update(error=error.error_code, updated_at=datetime.now(UTC))
    await publish_item(item)
    log.warning("sync of item %s failed with %s; the item needs attention", item.id, error.error_code)
    return await _finish(job, started, SyncStatus.FAILED, error.error_code)


async def _finish(job: SyncJob, started: float, status: SyncStatus, error: str | None) -> SyncStatus:
    job.status, job.error = status, error
    job.finished_at = datetime.now(UTC)
    job.duration_ms = int((time.monotonic() - started) * 1000)
    await job.save(update_fields=list(FINISH_FIELDS))
    await publish_sync_job(job)
    log.info("sync job %s %s%s", job.id, status.value, f" ({error})" if error else "")
    return status
