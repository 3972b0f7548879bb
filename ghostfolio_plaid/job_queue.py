"""Sync jobs: a SyncJob row plus an RQ job with the same id. Jobs carry ids only, never tokens.

At most one queued or running SyncJob per item is a unique index; a job that the queue lost, or whose
worker died (its item lock expired), is released so it cannot block an item forever.
"""

from __future__ import annotations

import asyncio
import calendar
import logging
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from redis.exceptions import RedisError
from rq import Queue, Retry
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import ScheduledJobRegistry
from tortoise.exceptions import IntegrityError

from ghostfolio_plaid.errors import Conflict, ServiceError, Unavailable
from ghostfolio_plaid.models import ACTIVE_SYNC_STATUSES, PlaidItem, SyncJob, SyncStatus, SyncTrigger
from ghostfolio_plaid.redis_connections import sync_redis

log = logging.getLogger(__name__)
T = TypeVar("T")
SYNC_JOB_FUNCTION = "ghostfolio_plaid.workers.sync.run_sync_job"
SYNC_JOB_TIMEOUT_SECONDS = 3600
ENQUEUE_CHUNK = 1000
_DEAD_STATES = frozenset({JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED, JobStatus.FINISHED})


def sync_lock_key(item_id: str) -> str:
    return f"gp:sync-lock:{item_id}"


def followup_key(item_id: str) -> str:
    return f"gp:sync-followup:{item_id}"


class QueueUnavailable(ServiceError):
    """Redis could not be reached; the caller should answer 503 and write nothing."""


class EnqueuedInPart(QueueUnavailable):
    """Redis went away during a batch: the first ``enqueued`` jobs are on the queue, the others are not."""

    def __init__(self, message: str, enqueued: int) -> None:
        super().__init__(message)
        self.enqueued = enqueued


class SyncQueue:
    def __init__(self, redis_url: str, queue_name: str, retry_intervals: tuple[int, ...] = (30, 120, 600)) -> None:
        self.redis = sync_redis(redis_url)
        self.queue = Queue(queue_name, connection=self.redis)
        self.retry_intervals = retry_intervals

    async def enqueue_sync(self, sync_job_id: str, delay_seconds: int = 0) -> None:
        await self._run(self._enqueue, sync_job_id, delay_seconds)

    async def enqueue_syncs(self, jobs: Sequence[tuple[str, int]], *, chunk: int | None = None) -> None:
        """Enqueue many syncs, each ``(sync job id, delay in seconds)``: one MULTI/EXEC pipeline per ``chunk``
        jobs instead of several round trips per job, so the daily run of 10,000 items takes seconds. Raises
        ``EnqueuedInPart`` (saying how many are on the queue, from the first) if Redis goes away."""
        size = chunk or ENQUEUE_CHUNK
        enqueued = 0
        for start in range(0, len(jobs), size):
            part = jobs[start : start + size]
            try:
                await asyncio.to_thread(self._enqueue_pipelined, part)
            except RedisError as exc:
                raise EnqueuedInPart(f"job queue unavailable ({type(exc).__name__})", enqueued) from None
            enqueued += len(part)

    async def is_pending(self, job: SyncJob) -> bool:
        """Whether the job will still run or is running (a running one must hold its item's lock)."""
        return await self._run(self._is_pending, str(job.id), str(job.plaid_item_id), job.status)

    async def mark_followup(self, item_id: str) -> None:
        """Remember that an update arrived while a sync of the item was running."""
        await self._run(self.redis.set, followup_key(item_id), "1", 86400)

    async def take_followup(self, item_id: str) -> bool:
        """Consume the mark; exactly one of any number of callers gets True."""
        return await self._run(self.redis.getdel, followup_key(item_id)) is not None

    def close(self) -> None:
        self.redis.close()

    def _enqueue_pipelined(self, jobs: Sequence[tuple[str, int]]) -> None:
        """One MULTI/EXEC for all ``jobs``. RQ's ``enqueue_in`` adds a job to the scheduled registry outside the
        pipeline it is given (a round trip per job), so delayed jobs are saved here as RQ saves them and added
        to the registry with one ZADD; the scheduler moves each onto the queue when it is due."""
        due_at: dict[str, int] = {}
        with self.redis.pipeline() as pipeline:
            pipeline.multi()  # explicitly, before RQ's enqueue would (it refuses once commands are queued)
            for sync_job_id, delay_seconds in jobs:
                if delay_seconds > 0:
                    job = self.queue.create_job(
                        SYNC_JOB_FUNCTION,
                        args=(sync_job_id,),
                        timeout=SYNC_JOB_TIMEOUT_SECONDS,
                        status=JobStatus.SCHEDULED,
                        **self._options(sync_job_id),
                    )
                    job.save(pipeline=pipeline)
                    due = datetime.now(UTC) + timedelta(seconds=delay_seconds)
                    due_at[sync_job_id] = calendar.timegm(due.utctimetuple())
                else:
                    options = {"job_timeout": SYNC_JOB_TIMEOUT_SECONDS, **self._options(sync_job_id)}
                    self.queue.enqueue(SYNC_JOB_FUNCTION, sync_job_id, pipeline=pipeline, **options)
            if due_at:
                pipeline.sadd(self.queue.redis_queues_keys, self.queue.key)
                pipeline.zadd(ScheduledJobRegistry(queue=self.queue).key, due_at)
            pipeline.execute()

    def _options(self, sync_job_id: str) -> dict[str, Any]:
        return {
            "job_id": sync_job_id,
            "result_ttl": 86400,
            "failure_ttl": 7 * 86400,
            "retry": Retry(max=len(self.retry_intervals), interval=list(self.retry_intervals)),
        }

    def _enqueue(self, sync_job_id: str, delay_seconds: int) -> None:
        options: dict[str, Any] = {"job_timeout": SYNC_JOB_TIMEOUT_SECONDS, **self._options(sync_job_id)}
        if delay_seconds > 0:
            self.queue.enqueue_in(timedelta(seconds=delay_seconds), SYNC_JOB_FUNCTION, sync_job_id, **options)
        else:
            self.queue.enqueue(SYNC_JOB_FUNCTION, sync_job_id, **options)

    def _is_pending(self, sync_job_id: str, item_id: str, status: SyncStatus) -> bool:
        try:
            rq_status = Job.fetch(sync_job_id, connection=self.redis).get_status(refresh=False)
        except NoSuchJobError:
            return False
        if rq_status in _DEAD_STATES:
            return False
        if status == SyncStatus.RUNNING:
            return bool(self.redis.exists(sync_lock_key(item_id)))
        return True

    @staticmethod
    async def _run(func: Callable[..., T], *args: Any) -> T:
        try:
            return await asyncio.to_thread(func, *args)
        except RedisError as exc:
            raise QueueUnavailable(f"job queue unavailable ({type(exc).__name__})") from None


REVOKED = frozenset({"USER_PERMISSION_REVOKED"})


async def request_sync(queue: SyncQueue, item: PlaidItem, trigger: SyncTrigger, delay_seconds: int = 0) -> SyncJob:
    """Create the SyncJob and enqueue it, or raise Conflict (one already active) / Unavailable (no Redis)."""
    if item.disconnected_at is not None:
        raise Conflict("PlaidItem is disconnected and cannot be synced")
    if item.error in REVOKED:
        raise Conflict("Access to this PlaidItem was revoked at the institution; link it again")
    job = await _create_job(queue, item, trigger)
    try:
        await queue.enqueue_sync(str(job.id), delay_seconds)
    except QueueUnavailable:
        await job.delete()
        raise Unavailable("The job queue is unavailable; try again later") from None
    log.info("enqueued sync %s of plaid item %s (%s)", job.id, item.id, trigger.value)
    return job


async def request_sync_soon(queue: SyncQueue, item: PlaidItem, trigger: SyncTrigger) -> None:
    """A sync that sees every update received until now, without piling up jobs.

    A queued sync will read the update anyway; a running one may have read past it, so it gets exactly one
    follow-up (the worker consumes the mark when it finishes; whoever consumes it enqueues). The active job is
    looked up first, so the common case of a burst costs one query and one Redis read.
    """
    active = await SyncJob.filter(plaid_item_id=item.id, status__in=list(ACTIVE_SYNC_STATUSES)).first()
    if active is None or not await queue.is_pending(active):
        await _enqueue_ignoring_conflict(queue, item, trigger)
        return
    if active.status == SyncStatus.QUEUED:
        return
    await queue.mark_followup(str(item.id))
    if not await SyncJob.filter(id=active.id, status=SyncStatus.RUNNING).exists() and await queue.take_followup(
        str(item.id)
    ):
        await _enqueue_ignoring_conflict(queue, item, trigger)


async def _enqueue_ignoring_conflict(queue: SyncQueue, item: PlaidItem, trigger: SyncTrigger) -> None:
    try:
        await request_sync(queue, item, trigger)
    except Conflict:
        log.info("a sync of plaid item %s is already on its way", item.id)


async def _create_job(queue: SyncQueue, item: PlaidItem, trigger: SyncTrigger) -> SyncJob:
    try:
        return await SyncJob.create(plaid_item=item, trigger=trigger)
    except IntegrityError:
        pass
    if not await _release_abandoned(queue, item):
        raise Conflict("A sync of this PlaidItem is already queued or running")
    try:
        return await SyncJob.create(plaid_item=item, trigger=trigger)
    except IntegrityError:
        raise Conflict("A sync of this PlaidItem is already queued or running") from None


async def _release_abandoned(queue: SyncQueue, item: PlaidItem) -> bool:
    """Fail the item's active job if nothing will ever finish it (its RQ job is gone or dead, or its worker
    let the lock expire). It ends like any other job: FAILED, with an error and a ``finished_at``."""
    active = await SyncJob.filter(plaid_item_id=item.id, status__in=list(ACTIVE_SYNC_STATUSES)).first()
    if active is None:
        return True
    try:
        pending = await queue.is_pending(active)
    except QueueUnavailable:
        raise Unavailable("The job queue is unavailable; try again later") from None
    if pending:
        return False
    released = await SyncJob.filter(id=active.id, status=active.status).update(
        status=SyncStatus.FAILED, error="ABANDONED", finished_at=datetime.now(UTC)
    )
    log.warning("released abandoned sync %s of plaid item %s", active.id, item.id)
    return released > 0
