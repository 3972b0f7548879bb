"""The ``worker`` process: an RQ worker (with RQ's scheduler, for retries) on the sync queue.

Why a Worker subclass: RQ 2.12 runs its scheduler (which moves retries whose backoff has passed back onto the
queue) in a forked process that dies as soon as Redis goes away, and the worker starts it again only in its
maintenance pass, every 10 minutes by default. After a Redis outage, scheduled retries would stall for up to
10 minutes while the item answers 409. ``SyncWorker`` looks at the scheduler every time its loop turns and
starts it again at once; the loop turns at least every ``DEQUEUE_TIMEOUT_SECONDS`` while idle, every
``MAX_RECONNECT_WAIT_SECONDS`` at most while Redis is away, and every job-monitoring interval while a job runs.
RQ also ends the worker when Redis is away at the top of its loop (between two jobs); this worker waits for
Redis there too, so an outage never needs a restart of the process.
"""

from __future__ import annotations

import logging
import time
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from rq import Queue, Worker

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.redis_connections import sync_redis

log = logging.getLogger(__name__)
DEQUEUE_TIMEOUT_SECONDS = 5
MAX_RECONNECT_WAIT_SECONDS = 2.0


class SyncWorker(Worker):  # type: ignore[misc]
    """An RQ worker whose scheduler comes back within seconds of Redis (see the module docstring)."""

    max_connection_wait_time = MAX_RECONNECT_WAIT_SECONDS

    def __init__(self, *args: Any, keep_scheduler: bool = True, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.keep_scheduler = keep_scheduler

    @property
    def dequeue_timeout(self) -> int:
        """Block on the queue for seconds, not RQ's ~7 minutes, so the loop gets to check the scheduler."""
        return DEQUEUE_TIMEOUT_SECONDS

    @property
    def should_run_maintenance_tasks(self) -> bool:
        """RQ asks this on every turn of its loops (idle or reconnecting): the hook for the scheduler check."""
        self.keep_scheduler_alive()
        return bool(super().should_run_maintenance_tasks)

    def maintain_heartbeats(self, job: Any) -> None:
        """Called while a job runs (every job-monitoring interval): other jobs' retries must not wait for it."""
        super().maintain_heartbeats(job)
        self.keep_scheduler_alive()

    def check_for_suspension(self, burst: bool) -> None:
        """RQ's first Redis call of each turn, outside its reconnect handling: an outage there (between two
        jobs) would end the worker. Wait for Redis instead, backing off as the dequeue loop does."""
        wait = 1.0
        while True:
            try:
                super().check_for_suspension(burst)
                return
            except RedisConnectionError as exc:
                log.error("Redis unavailable (%s); retrying in %.0f s", type(exc).__name__, wait)
                time.sleep(wait)
                wait = min(wait * self.exponential_backoff_factor, self.max_connection_wait_time)

    def run_maintenance_tasks(self) -> None:
        """Registry cleaning is not worth dying for: without Redis it is skipped and tried again next turn."""
        try:
            super().run_maintenance_tasks()
        except RedisConnectionError as exc:
            log.warning("RQ maintenance skipped: Redis unavailable (%s)", type(exc).__name__)

    def keep_scheduler_alive(self) -> None:
        """Start the scheduler again if its process died (it does whenever Redis goes away).

        Skipped before the first maintenance pass (``work()`` has just started it) and in burst mode (where
        RQ's scheduler runs once, in the worker itself). While Redis is still away this fails quietly: the
        worker's own loop is already backing off and retrying, and the next turn tries again.
        """
        scheduler = self.scheduler
        if not self.keep_scheduler or scheduler is None or self.last_cleaned_at is None or self._stop_requested:
            return
        process = scheduler._process
        if process is not None and process.is_alive():
            return
        try:
            if scheduler.acquire_locks(auto_start=True):
                log.info("RQ scheduler restarted for %s", ", ".join(sorted(scheduler.acquired_locks)))
        except RedisError as exc:
            log.debug("RQ scheduler not restarted yet: %s", type(exc).__name__)


def run_worker(settings: Settings, *, burst: bool = False) -> None:
    connection = sync_redis(settings.redis_url)
    queue = Queue(settings.sync_queue_name, connection=connection)
    SyncWorker([queue], connection=connection, keep_scheduler=not burst).work(with_scheduler=True, burst=burst)
