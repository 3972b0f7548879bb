"""The ``worker`` process: an RQ worker (with RQ's scheduler, for retries) on the sync queue.

Why a Worker subclass: RQ 2.12 runs its scheduler (which moves retries whose backoff has passed back onto the
queue) in a forked process that dies as soon as Redis goes away, and the worker starts it again only in its
maintenance pass, every 10 minutes by default. After a Redis outage, scheduled retries would stall for up to
10 minutes while the item answers 409. ``SyncWorker`` looks at the scheduler every time its loop turns and
starts it again at once; the loop turns at least every ``DEQUEUE_TIMEOUT_SECONDS`` while idle, every
``MAX_RECONNECT_WAIT_SECONDS`` at most while Redis is away, and every job-monitoring interval while a job runs.
RQ also ends the worker when Redis is away at the top of its loop (between two jobs); this worker waits for
Redis there too, so an outage never needs a restart of the process.

Jobs run in a long-lived work horse (``horse.py``), not in a horse forked per job: the fork, the imports, the
event loop and the connections cost more than a small item's sync. The horse is still a child process, so a
job that crashes, leaks or hangs takes no other job with it (see ``horse.py`` for how each case ends).
"""

from __future__ import annotations

import importlib
import logging
import os
import time
from typing import Any

from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from rq import Queue, Worker
from rq.exceptions import InvalidJobOperation
from rq.job import JobStatus
from rq.utils import now
from rq.worker import WorkerStatus

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.redis_connections import sync_redis
from ghostfolio_plaid.workers.horse import Exit, Horse, HorseGone, HorseLimits

log = logging.getLogger(__name__)
DEQUEUE_TIMEOUT_SECONDS = 5
MAX_RECONNECT_WAIT_SECONDS = 2.0
HANG_GRACE_SECONDS = 60
"""How long past its timeout a job's horse may stay silent before the worker kills it (RQ's own margin)."""
JOB_MODULES = (
    "ghostfolio_plaid.workers.sync",
    "ghostfolio_plaid.ghostfolio.jobs",
    "ghostfolio_plaid.workers.schedule",
)
"""Imported by the worker before it forks horses, so that a new horse starts with them loaded."""


class SyncWorker(Worker):  # type: ignore[misc]
    """An RQ worker whose scheduler comes back within seconds of Redis (see the module docstring)."""

    max_connection_wait_time = MAX_RECONNECT_WAIT_SECONDS
    hang_grace_seconds = HANG_GRACE_SECONDS

    def __init__(
        self, *args: Any, keep_scheduler: bool = True, horse_limits: HorseLimits | None = None, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.keep_scheduler = keep_scheduler
        self.horse_limits = horse_limits or HorseLimits()
        self._horse: Horse | None = None

    def execute_job(self, job: Any, queue: Any) -> None:
        """Hand the job to the long-lived horse (forking one if there is none) and watch it until it answers."""
        self.prepare_execution(job)
        horse = self._hand_over(job, queue)
        if horse is not None:
            self._horse_pid = horse.pid
            self.procline(f"Horse {horse.pid} runs {job.id} since {time.time()}")
            self._watch(horse, job, queue)
            self._horse_pid = 0
            self.set_current_job_working_time(0)
        self.set_state(WorkerStatus.IDLE)

    def teardown(self) -> None:
        """The horse leaves with the worker: asked to close its connections and exit, killed if it does not."""
        if not self.is_horse and self._horse is not None:
            horse, self._horse = self._horse, None
            horse.retire()
        super().teardown()

    def _hand_over(self, job: Any, queue: Any) -> Horse | None:
        """The horse that took the job. An idle horse may have died (the OOM killer, a signal): then a new one
        is forked. If a fresh horse dies too, the job fails (RQ's retries apply) rather than being lost."""
        for _ in range(2):
            horse = self._horse or Horse.spawn(self, self.horse_limits)
            self._horse = horse
            try:
                horse.hand(job.id, queue.name, self.execution.id)
                return horse
            except HorseGone as gone:
                log.warning("%s before job %s; forking another", gone, job.id)
                self._bury(horse)
        job.ended_at = now()
        self.handle_job_failure(job, queue=queue, exc_string="Work horses died before they could take the job")
        return None

    def _watch(self, horse: Horse, job: Any, queue: Any) -> None:
        """Wait for the horse's answer, keeping the heartbeats (and the scheduler) alive meanwhile; kill a horse
        that stays silent past the job's timeout and grace, and fail the job of a horse that died."""
        job.started_at = now()
        while True:
            try:
                done = horse.answer(self.job_monitoring_interval)
            except HorseGone:
                self._post_mortem(self._bury(horse), job, queue)
                return
            if done is not None:
                if done.retire:
                    self._bury(horse, retire=True)
                return
            self.set_current_job_working_time((now() - job.started_at).total_seconds())
            if self._overdue(job):
                log.error("job %s ran past its timeout; killing work horse %s", job.id, horse.pid)
                horse.kill()
                self._post_mortem(self._bury(horse), job, queue)
                return
            self.maintain_heartbeats(job)

    def _overdue(self, job: Any) -> bool:
        timeout = job.timeout or self.queue_class.DEFAULT_TIMEOUT
        return bool(timeout != -1 and self.current_job_working_time > timeout + self.hang_grace_seconds)

    def _bury(self, horse: Horse, *, retire: bool = False) -> Exit:
        if self._horse is horse:
            self._horse = None
        return horse.retire() if retire else horse.reap()

    def _post_mortem(self, ended: Exit, job: Any, queue: Any) -> None:
        """What RQ does when a forked horse dies during its job: fail it (retries apply) unless it had finished,
        or record it as stopped when a user stopped it (``send_stop_job_command`` kills the horse)."""
        try:
            job_status = job.get_status()
        except InvalidJobOperation:
            return
        if self._stopped_job_id == job.id:
            log.warning("job %s stopped by user, work horse %s terminated", job.id, ended.pid)
            if job.stopped_callback:
                job.execute_stopped_callback(self.death_penalty_class)
            self.handle_job_failure(job, queue=queue, exc_string="Job stopped by user, work-horse terminated.")
        elif job_status not in (JobStatus.FINISHED, JobStatus.FAILED):
            job.ended_at = now()
            signalled = ended.status is not None and os.WIFSIGNALED(ended.status)
            signal_note = f" (signal {os.WTERMSIG(ended.status)})" if signalled and ended.status else ""
            reason = f"Work-horse terminated unexpectedly; waitpid returned {ended.status}{signal_note}; "
            log.warning("job %s failed: %s", job.id, reason)
            self.handle_work_horse_killed(job, ended.pid, ended.status, ended.rusage)
            self.handle_job_failure(job, queue=queue, exc_string=reason)

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


def run_worker(settings: Settings, *, burst: bool = False, horse_limits: HorseLimits | None = None) -> None:
    for module in JOB_MODULES:
        importlib.import_module(module)
    connection = sync_redis(settings.redis_url)
    queue = Queue(settings.sync_queue_name, connection=connection)
    worker = SyncWorker([queue], connection=connection, keep_scheduler=not burst, horse_limits=horse_limits)
    worker.work(with_scheduler=True, burst=burst)
