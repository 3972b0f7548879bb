"""The worker process across a Redis restart: scheduled retries resume within seconds, not RQ's 10 minutes,
and its long-lived horse (up since a sync before the restart) carries on; the horse across PostgreSQL
connections cut between two jobs.

A Redis of the test's own (never the shared one) is killed under a running ``ghostfolio-plaid worker`` and
started again, empty, on the same port. RQ's scheduler process died with the connection; a sync whose first
attempt is rate limited must still be retried (a 1 s backoff, through the scheduler) and succeed promptly.
"""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import threading
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from redis import Redis
from redis.exceptions import ConnectionError as RedisConnectionError
from rq import Queue
from rq.job import Job

from ghostfolio_plaid.job_queue import SyncQueue, request_sync
from ghostfolio_plaid.models import PlaidItem, SyncJob, SyncStatus, SyncTrigger
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from ghostfolio_plaid.workers.runner import SyncWorker
from tests.conftest import REDIS_URL, Caller, emulator_call
from tests.linking import link_seeded_item
from tests.processes import command, free_port
from tests.tcp_proxy import TcpProxy
from tests.test_faults import kill_tree

RESUME_WITHIN_SECONDS = 30


class PrivateRedis:
    """``redis-server`` on a free port, without persistence: a restart comes back empty, as after a crash."""

    def __init__(self) -> None:
        self.port = free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        client = Redis.from_url(self.url)
        try:
            for _ in range(100):
                with contextlib.suppress(RedisConnectionError):
                    if client.ping():
                        return
                time.sleep(0.05)
        finally:
            client.close()
        raise AssertionError("redis-server did not start")

    def kill(self) -> None:
        assert self.process is not None
        self.process.kill()
        self.process.wait(timeout=10)


@pytest.fixture
def private_redis() -> Iterator[PrivateRedis]:
    redis = PrivateRedis()
    redis.start()
    yield redis
    if redis.process is not None and redis.process.poll() is None:
        redis.kill()


@contextlib.asynccontextmanager
async def worker_process(env: dict[str, str], log_path: Path) -> AsyncIterator[asyncio.subprocess.Process]:
    with log_path.open("wb") as log_file:
        worker = await asyncio.create_subprocess_exec(
            *command("worker"), env=env, stdout=log_file, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            yield worker
        finally:
            kill_tree(worker.pid)
            await worker.wait()


def log_tail(log_path: Path) -> str:
    return log_path.read_text()[-4000:]


async def wait_for(condition: Callable[[], Awaitable[bool]], seconds: float, what: str, log_path: Path) -> None:
    deadline = time.monotonic() + seconds
    while not await condition():
        assert time.monotonic() < deadline, f"{what}; worker log:\n{log_tail(log_path)}"
        await asyncio.sleep(0.1)


async def sync_once(
    redis_url: str, queue_name: str, client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, log: Path
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    queue = SyncQueue(redis_url, queue_name)
    try:
        job = await request_sync(queue, await PlaidItem.get(id=item_id), SyncTrigger.MANUAL)
    finally:
        queue.close()

    async def succeeded() -> bool:
        return (await SyncJob.get(id=job.id)).status == SyncStatus.SUCCEEDED

    await wait_for(succeeded, 60, "the first sync did not run", log)


async def test_scheduled_retries_resume_within_seconds_after_redis_comes_back(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    process_env: dict[str, str],
    private_redis: PrivateRedis,
    tmp_path: Path,
) -> None:
    env = {**process_env, "REDIS_URL": private_redis.url}
    queue_name = env["SYNC_QUEUE_NAME"]
    log_path = tmp_path / "worker.log"
    async with worker_process(env, log_path):
        probe = Redis.from_url(private_redis.url)

        async def scheduler_running() -> bool:
            return bool(probe.exists(f"rq:scheduler-lock:{queue_name}"))

        await wait_for(scheduler_running, 30, "the worker's scheduler never started", log_path)
        await sync_once(private_redis.url, queue_name, client, emulator, alice, log_path)  # the horse is up
        private_redis.kill()
        await asyncio.sleep(3)
        private_redis.start()
        back = time.monotonic()

        item_id, _ = await link_seeded_item(client, emulator, alice)
        plaid_item_id = (await PlaidItem.get(id=item_id)).item_id
        fault = {"path": "/investments/holdings/get", "item_id": plaid_item_id, "error_code": "RATE_LIMIT_EXCEEDED"}
        await emulator_call(emulator, "POST", "/emulator/faults", fault)
        queue = SyncQueue(private_redis.url, queue_name, retry_intervals=(1,))
        try:
            job = await request_sync(queue, await PlaidItem.get(id=item_id), SyncTrigger.MANUAL)

            async def succeeded() -> bool:
                return (await SyncJob.get(id=job.id)).status == SyncStatus.SUCCEEDED

            await wait_for(succeeded, RESUME_WITHIN_SECONDS, "the retry did not run", log_path)
        finally:
            queue.close()
            probe.close()
    assert time.monotonic() - back < RESUME_WITHIN_SECONDS
    requests = (await emulator_call(emulator, "GET", "/emulator/requests"))["requests"]
    holdings = [r for r in requests if r["path"] == "/investments/holdings/get" and r["item_id"] == plaid_item_id]
    assert len(holdings) == 2


def test_a_redis_outage_between_two_jobs_does_not_end_the_worker(private_redis: PrivateRedis) -> None:
    """RQ's own loop quits on a connection error at its top (maintenance, suspension check); this one waits."""
    connection = Redis.from_url(private_redis.url)
    worker = SyncWorker([Queue("outage", connection=connection)], connection=connection)
    private_redis.kill()
    worker.run_maintenance_tasks()
    comes_back = threading.Timer(1.5, private_redis.start)
    comes_back.start()
    started = time.monotonic()
    try:
        worker.check_for_suspension(False)
    finally:
        comes_back.join()
        connection.close()
    assert 1.5 <= time.monotonic() - started < 10


async def test_a_horse_whose_database_connections_were_cut_runs_the_next_sync_at_once(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, process_env: dict[str, str], tmp_path: Path
) -> None:
    """The long-lived horse keeps its PostgreSQL pool between jobs: connections that died meanwhile (a database
    restart, a proxy timing them out) are replaced by the next job, which must not fail or need RQ's retry."""
    target = urlsplit(process_env["DATABASE_URL"]).port or 5432
    proxy = TcpProxy(target)
    await proxy.start()
    queue_name = f"gp-test-horse-db-{uuid.uuid4().hex[:8]}"
    env = {
        **process_env,
        "DATABASE_URL": process_env["DATABASE_URL"].replace(f":{target}/", f":{proxy.port}/"),
        "SYNC_QUEUE_NAME": queue_name,
    }
    queue = SyncQueue(REDIS_URL, queue_name, retry_intervals=(0,))
    first, second = [(await link_seeded_item(client, emulator, alice))[0] for _ in range(2)]
    log_path = tmp_path / "worker.log"
    try:
        async with worker_process(env, log_path):
            for item_id in (first, second):
                job = await request_sync(queue, await PlaidItem.get(id=item_id), SyncTrigger.MANUAL)

                async def succeeded(job_id: str = str(job.id)) -> bool:
                    return (await SyncJob.get(id=job_id)).status == SyncStatus.SUCCEEDED

                await wait_for(succeeded, 60, f"the sync of {item_id} did not succeed", log_path)
                assert Job.fetch(str(job.id), connection=queue.redis).retries_left == 1
                await proxy.stop()
                await proxy.start()
    finally:
        await proxy.stop()
        queue.queue.delete(delete_jobs=True)
        queue.close()
