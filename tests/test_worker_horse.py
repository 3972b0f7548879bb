"""The long-lived work horse keeps what a horse per job guaranteed: a job that crashes, hangs or leaks takes no
other job with it, and a horse does not outlive its worker.

Workers run as processes on a queue of the test's own; the jobs are the small functions below (the horse
imports this module by name, so it must not import ``tests.conftest``, which claims a Redis database at import).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from redis import Redis
from rq import Queue
from rq.command import send_stop_job_command
from rq.job import Job, JobStatus

from ghostfolio_plaid.workers.horse import resident_mib
from ghostfolio_plaid.workers.sync import hosted
from tests.processes import command

_LEAKED: list[bytearray] = []

HANGING_WORKER = """
import sys
from redis import Redis
from rq import Queue
from ghostfolio_plaid.workers.runner import SyncWorker
import tests.test_worker_horse

connection = Redis.from_url(sys.argv[1])
worker = SyncWorker([Queue(sys.argv[2], connection=connection)], connection=connection, job_monitoring_interval=1)
worker.hang_grace_seconds = 1
worker.work(burst=True)
"""


def horse_pid() -> int:
    return os.getpid()


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def nap(seconds: float) -> None:
    time.sleep(seconds)


def hang() -> None:
    """Deaf to RQ's own timeout (SIGALRM): only the worker can end it."""
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    time.sleep(600)


def sleep_on_the_host(seconds: float) -> None:
    """A coroutine on the horse's loop that the job timeout interrupts while the loop waits."""
    host = hosted()
    assert host is not None
    host.run(lambda services: asyncio.sleep(seconds))


def leak(mib: int) -> tuple[int, float]:
    _LEAKED.append(bytearray(b"\x01") * (mib << 20))
    return os.getpid(), resident_mib()


@pytest.fixture
def queue(process_env: dict[str, str]) -> Iterator[Queue]:
    connection = Redis.from_url(process_env["REDIS_URL"])
    queue = Queue(f"gp-test-horse-{uuid.uuid4().hex[:8]}", connection=connection)
    yield queue
    kill_processes_serving(queue.name)
    queue.delete(delete_jobs=True)
    connection.close()


def kill_processes_serving(queue_name: str) -> None:
    """Leave nothing behind: a horse still busy with a hung job when its worker was killed would run on."""
    marker = f"SYNC_QUEUE_NAME={queue_name}".encode()
    for environ in Path("/proc").glob("[0-9]*/environ"):
        with contextlib.suppress(OSError, ValueError):
            if marker in environ.read_bytes().split(b"\0"):
                os.kill(int(environ.parent.name), signal.SIGKILL)


def enqueue(queue: Queue, func: Callable[..., Any], *args: Any, timeout: int = 60) -> Job:
    return queue.enqueue(func, *args, job_timeout=timeout, result_ttl=600, failure_ttl=600)


async def drain(process_env: dict[str, str], queue: Queue, *options: str) -> None:
    """``ghostfolio-plaid worker --burst`` on the test's queue, to its end."""
    env = {**process_env, "SYNC_QUEUE_NAME": queue.name}
    worker = await asyncio.create_subprocess_exec(
        *command("worker", "--burst", *options),
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )
    async with asyncio.timeout(120):
        output, _ = await worker.communicate()
    assert worker.returncode == 0, output.decode()


def outcome(job: Job) -> tuple[JobStatus, Any]:
    job.refresh()
    status = job.get_status()
    if status == JobStatus.FINISHED:
        return status, job.return_value()
    result = job.latest_result()
    return status, result.exc_string if result is not None else None


def process_ended(pid: int) -> bool:
    """Gone, or a zombie nobody has reaped yet: either way it runs nothing any more."""
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return True
    return state in ("Z", "X")


@contextlib.asynccontextmanager
async def running_worker(
    process_env: dict[str, str], queue: Queue, log_path: Path
) -> AsyncIterator[asyncio.subprocess.Process]:
    env = {**process_env, "SYNC_QUEUE_NAME": queue.name}
    with log_path.open("wb") as log:
        worker = await asyncio.create_subprocess_exec(*command("worker"), env=env, stdout=log, stderr=log)
        try:
            yield worker
        finally:
            with contextlib.suppress(ProcessLookupError):
                worker.kill()
            await worker.wait()


async def eventually(condition: Callable[[], bool], seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.1)
    return True


async def test_one_horse_runs_many_jobs_then_a_fresh_one_takes_over(process_env: dict[str, str], queue: Queue) -> None:
    jobs = [enqueue(queue, horse_pid) for _ in range(5)]
    await drain(process_env, queue, "--max-jobs-per-horse", "3")
    outcomes = [outcome(job) for job in jobs]
    assert {status for status, _ in outcomes} == {JobStatus.FINISHED}
    pids = [pid for _, pid in outcomes]
    assert pids[0] == pids[1] == pids[2] != pids[3] == pids[4]
    assert os.getpid() not in pids


async def test_a_job_that_kills_its_horse_fails_alone(process_env: dict[str, str], queue: Queue) -> None:
    before, crash, after = enqueue(queue, horse_pid), enqueue(queue, die), enqueue(queue, horse_pid)
    await drain(process_env, queue)
    (status_before, first_pid), (status_crash, reason), (status_after, second_pid) = map(
        outcome, (before, crash, after)
    )
    assert (status_before, status_after) == (JobStatus.FINISHED, JobStatus.FINISHED)
    assert status_crash == JobStatus.FAILED
    assert "Work-horse terminated unexpectedly" in reason and "(signal 9)" in reason
    assert first_pid != second_pid


async def test_a_hung_job_is_killed_and_the_next_job_runs(process_env: dict[str, str], queue: Queue) -> None:
    hung, after = enqueue(queue, hang, timeout=2), enqueue(queue, horse_pid)
    worker = await asyncio.create_subprocess_exec(
        sys.executable, "-c", HANGING_WORKER, process_env["REDIS_URL"], queue.name, env=process_env
    )
    async with asyncio.timeout(120):
        assert await worker.wait() == 0
    status, reason = outcome(hung)
    assert status == JobStatus.FAILED and "(signal 9)" in reason
    assert outcome(after)[0] == JobStatus.FINISHED


async def test_a_job_its_user_stops_ends_with_its_horse_and_the_next_job_runs(
    process_env: dict[str, str], queue: Queue
) -> None:
    """RQ's ``send_stop_job_command`` kills the horse of the job (as it kills a forked one): only that job."""
    stopped, after = enqueue(queue, nap, 120), enqueue(queue, horse_pid)
    env = {**process_env, "SYNC_QUEUE_NAME": queue.name}
    worker = await asyncio.create_subprocess_exec(
        *command("worker", "--burst"), env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL
    )
    try:
        assert await eventually(lambda: stopped.get_status(refresh=True) == JobStatus.STARTED, 60)
        send_stop_job_command(queue.connection, stopped.id)
        async with asyncio.timeout(60):
            assert await worker.wait() == 0
    finally:
        with contextlib.suppress(ProcessLookupError):
            worker.kill()
    assert stopped.get_status(refresh=True) == JobStatus.STOPPED
    assert outcome(after)[0] == JobStatus.FINISHED


async def test_a_timeout_that_interrupts_the_loop_retires_the_horse(process_env: dict[str, str], queue: Queue) -> None:
    before = enqueue(queue, horse_pid)
    interrupted = enqueue(queue, sleep_on_the_host, 60, timeout=3)
    after = enqueue(queue, horse_pid)
    await drain(process_env, queue)
    status, reason = outcome(interrupted)
    assert status == JobStatus.FAILED and "JobTimeoutException" in reason
    assert outcome(before)[1] != outcome(after)[1]


async def test_a_leaking_horse_is_replaced_once_it_passes_its_memory_limit(
    process_env: dict[str, str], queue: Queue
) -> None:
    jobs = [enqueue(queue, leak, 40) for _ in range(12)]
    await drain(process_env, queue, "--max-horse-mib", "300")
    outcomes = [outcome(job) for job in jobs]
    assert {status for status, _ in outcomes} == {JobStatus.FINISHED}
    pids = [pid for _, (pid, _) in outcomes]
    assert len(set(pids)) > 1
    assert max(rss for _, (_, rss) in outcomes) < 300 + 40 + 16


async def test_a_horse_outlives_its_worker_by_seconds_only(
    process_env: dict[str, str], queue: Queue, tmp_path: Path
) -> None:
    job = enqueue(queue, horse_pid)
    log_path = tmp_path / "worker.log"
    async with running_worker(process_env, queue, log_path) as worker:

        def ran() -> bool:
            return bool(job.get_status(refresh=True) == JobStatus.FINISHED)

        assert await eventually(ran, 60), f"the job never ran:\n{log_path.read_text()[-3000:]}"
        horse = outcome(job)[1]
        assert not process_ended(horse)
        worker.kill()
        await worker.wait()
        assert await eventually(lambda: process_ended(horse), 10), "the horse outlived its worker"
