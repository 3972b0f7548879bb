"""A long-lived work horse: one child process of the worker runs job after job on one loop, services open.

Why: RQ's ``Worker`` forks a horse per job, and each job then built its event loop, its PostgreSQL, Redis and
Plaid connections (and imported what the parent had not): about 0.5 s a job, more than a small item's whole
sync. Here the worker forks a horse once and hands it jobs over a pipe; the horse runs each with RQ's own
``perform_job`` (the same bookkeeping, results, retries and job timeout as a forked horse) on a ``HorseHost``
that keeps the loop and the services, and answers when the job is done.

What a horse per job guaranteed still holds:

- A job that kills its process (a segfault, ``os._exit``, the OOM killer) takes only itself: the worker sees
  the pipe close, fails that job as RQ fails a job whose horse died (its retries included), and forks a new
  horse for the next job.
- A job that hangs: RQ's timeout (SIGALRM) ends it inside the horse; a horse that still has not answered by
  the timeout plus a grace is killed (SIGKILL, its whole process group) by the worker and the job failed.
- Nothing accumulates: a horse retires after ``max_jobs`` jobs, once its resident memory passes ``max_mib``,
  and after any job whose coroutine the timeout left unfinished; the next job gets a fresh horse.
- A SIGKILLed worker: the horse is its child, in a process group of its own, as RQ's horses are. A horse whose
  worker died finishes the job it has (as a forked horse would), notices and exits; the item's lock expires.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import resource
import signal
import time
from dataclasses import dataclass
from multiprocessing import Pipe
from multiprocessing.connection import Connection
from typing import Any

from rq.exceptions import NoSuchJobError
from rq.executions import Execution

from ghostfolio_plaid.workers.host import HorseHost, install, revive_redis

log = logging.getLogger(__name__)
PARENT_CHECK_SECONDS = 1.0
"""How often an idle horse checks that its worker is still alive."""
RETIRE_WAIT_SECONDS = 10.0
"""How long a retiring horse may take to close its connections before it is killed."""
PIPE_ERRORS = (EOFError, OSError)
"""What a pipe whose other end died raises (BrokenPipeError and ConnectionResetError are OSErrors)."""


@dataclass(frozen=True)
class HorseLimits:
    """When a horse retires: after ``max_jobs`` jobs, or once its resident memory passes ``max_mib``."""

    max_jobs: int = 500
    max_mib: int = 512


@dataclass(frozen=True)
class Done:
    """A horse's answer: the job ran (whatever its outcome, RQ recorded it); ``retire``: the horse now exits."""

    job_id: str
    retire: bool


@dataclass(frozen=True)
class Exit:
    """How a horse ended, as ``os.wait4`` tells it (RQ's post-mortem takes the same three values)."""

    pid: int | None
    status: int | None
    rusage: Any


class HorseGone(Exception):
    """The horse's end of the pipe closed before it answered: it died, or is dying."""


class Horse:
    """The worker's handle on its long-lived horse: the child's pid and the worker's end of their pipe."""

    def __init__(self, pid: int, pipe: Connection) -> None:
        self.pid = pid
        self._pipe = pipe

    @classmethod
    def spawn(cls, worker: Any, limits: HorseLimits) -> Horse:
        """Fork a horse from ``worker`` (the parent keeps running the RQ loop, the child serves jobs)."""
        ours, theirs = Pipe()
        pid = os.fork()
        if pid == 0:  # the horse
            ours.close()
            code = 1
            try:
                code = serve(worker, theirs, limits)
            except Exception:  # logged, and the worker fails the job it handed over (the pipe closes)
                log.exception("work horse %s failed outside any job", os.getpid())
            finally:
                os._exit(code)
        theirs.close()
        log.info("forked work horse %s", pid)
        return cls(pid, ours)

    def hand(self, job_id: str, queue_name: str, execution_id: str) -> None:
        try:
            self._pipe.send(("job", job_id, queue_name, execution_id))
        except PIPE_ERRORS as exc:
            raise HorseGone(f"work horse {self.pid} is gone ({type(exc).__name__})") from None

    def answer(self, timeout: float) -> Done | None:
        """The horse's answer, or None if it has not answered within ``timeout`` seconds."""
        try:
            if not self._pipe.poll(timeout):
                return None
            done: Done = self._pipe.recv()
        except PIPE_ERRORS as exc:
            raise HorseGone(f"work horse {self.pid} is gone ({type(exc).__name__})") from None
        return done

    def kill(self) -> None:
        """SIGKILL the horse's process group (the horse leads it), or the horse alone if it has none yet."""
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGKILL)

    def reap(self, timeout: float = RETIRE_WAIT_SECONDS) -> Exit:
        """Wait for the horse to end (killing it after ``timeout``) and collect its exit status."""
        self._pipe.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            ended = self._wait(os.WNOHANG)
            if ended is None or ended.pid:
                return ended or Exit(None, None, None)
            time.sleep(0.01)
        self.kill()
        return self._wait(0) or Exit(None, None, None)

    def retire(self) -> Exit:
        """Ask the horse to finish (it closes its connections and exits), then reap it."""
        with contextlib.suppress(*PIPE_ERRORS):
            self._pipe.send(("stop",))
        return self.reap()

    def _wait(self, options: int) -> Exit | None:
        """``os.wait4`` on the horse; None if it was reaped already (RQ's cold shutdown reaps it itself)."""
        try:
            pid, status, rusage = os.wait4(self.pid, options)
        except ChildProcessError:
            return None
        return Exit(pid, status, rusage)


def serve(worker: Any, pipe: Connection, limits: HorseLimits) -> int:
    """The horse's life: run the jobs the worker hands over until told to stop, a limit is reached, or the
    worker is gone. Set up as RQ sets up a forked horse: its own process group, a fresh random seed, Ctrl+C
    ignored (the worker decides), SIGTERM fatal."""
    os.setpgrp()
    random.seed()
    worker.setup_work_horse_signals()
    worker._is_horse = True
    worker.log = logging.getLogger("rq.worker")
    parent = os.getppid()
    host = HorseHost()
    install(host)
    jobs = 0
    while (message := _next_message(pipe, parent)) is not None:
        _, job_id, queue_name, execution_id = message
        _perform(worker, job_id, queue_name, execution_id)
        jobs += 1
        rss = resident_mib()
        retire = host.tainted or jobs >= limits.max_jobs or rss > limits.max_mib
        if retire:
            why = "a job left its loop unfinished" if host.tainted else f"{jobs} jobs, {rss:.0f} MiB resident"
            log.info("work horse %s retires (%s)", os.getpid(), why)
        with contextlib.suppress(*PIPE_ERRORS):
            pipe.send(Done(job_id, retire))
        if retire:
            break
    host.close()
    return 0


def _next_message(pipe: Connection, parent: int) -> tuple[str, str, str, str] | None:
    """The next job, or None to stop: told to, the worker's end closed, or the worker gone (re-parented)."""
    while True:
        try:
            if pipe.poll(PARENT_CHECK_SECONDS):
                message: tuple[str, str, str, str] = pipe.recv()
                return message if message[0] == "job" else None
        except PIPE_ERRORS:
            return None
        if os.getppid() != parent:
            log.warning("work horse %s: its worker %s is gone; exiting", os.getpid(), parent)
            return None


def _perform(worker: Any, job_id: str, queue_name: str, execution_id: str) -> None:
    """Run one job exactly as a forked horse does, from the ids the worker dequeued and prepared."""
    revive_redis(worker.connection)
    try:
        job = worker.job_class.fetch(job_id, connection=worker.connection, serializer=worker.serializer)
    except NoSuchJobError:
        log.warning("job %s was deleted before it could start", job_id)
        return
    queue = worker.queue_class(
        queue_name,
        connection=worker.connection,
        job_class=worker.job_class,
        serializer=worker.serializer,
        death_penalty_class=worker.death_penalty_class,
    )
    worker.execution = Execution.fetch(execution_id, job.id, connection=worker.connection)
    os.environ["RQ_JOB_ID"] = job.id
    worker.perform_job(job, queue)


def resident_mib() -> float:
    """This process's resident memory now (``/proc``), or its peak where there is no ``/proc``."""
    try:
        with open("/proc/self/statm") as statm:
            pages = int(statm.read().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 1048576
    except (OSError, ValueError, IndexError):
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
