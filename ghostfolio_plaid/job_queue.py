"""The RQ queue that carries sync jobs. Jobs carry ids only, never tokens.

redis-py and RQ are synchronous, so calls run in a thread; any Redis failure becomes ``QueueUnavailable``.
"""

from __future__ import annotations

import asyncio

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus

from ghostfolio_plaid.errors import ServiceError

SYNC_JOB_FUNCTION = "ghostfolio_plaid.workers.sync.run_sync_job"
SYNC_JOB_TIMEOUT_SECONDS = 3600
_DEAD_STATES = frozenset({JobStatus.FAILED, JobStatus.STOPPED, JobStatus.CANCELED, JobStatus.FINISHED})


class QueueUnavailable(ServiceError):
    """Redis could not be reached; the caller should answer 503 and write nothing."""


class SyncQueue:
    def __init__(self, redis_url: str, queue_name: str) -> None:
        self.redis = Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=5)
        self.queue = Queue(queue_name, connection=self.redis)

    async def enqueue_sync(self, sync_job_id: str) -> None:
        await self._run(self._enqueue, sync_job_id)

    async def is_pending(self, sync_job_id: str) -> bool:
        """Whether RQ still holds the job as something that will run or is running."""
        return bool(await self._run(self._is_pending, sync_job_id))

    def close(self) -> None:
        self.redis.close()

    def _enqueue(self, sync_job_id: str) -> None:
        self.queue.enqueue(
            SYNC_JOB_FUNCTION,
            sync_job_id,
            job_id=sync_job_id,
            job_timeout=SYNC_JOB_TIMEOUT_SECONDS,
            result_ttl=86400,
            failure_ttl=7 * 86400,
        )

    def _is_pending(self, sync_job_id: str) -> bool:
        try:
            status = Job.fetch(sync_job_id, connection=self.redis).get_status(refresh=False)
        except NoSuchJobError:
            return False
        return status not in _DEAD_STATES

    @staticmethod
    async def _run(func: object, *args: str) -> object:
        try:
            return await asyncio.to_thread(func, *args)  # type: ignore[arg-type]
        except RedisError as exc:
            raise QueueUnavailable(f"job queue unavailable ({type(exc).__name__})") from None
