"""The daily run: every active item once, spread over the window, written and enqueued in batches; the rq cron
registration."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, datetime

import httpx
import pytest
from redis.exceptions import ConnectionError as RedisConnectionError
from rq.exceptions import NoSuchJobError
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from rq.scheduler import RQScheduler
from starlette.applications import Starlette

from ghostfolio_plaid import job_queue
from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.errors import Unavailable
from ghostfolio_plaid.job_queue import SyncQueue
from ghostfolio_plaid.models import PlaidItem, SyncJob, SyncTrigger, User
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from ghostfolio_plaid.workers.schedule import _create_jobs, build_cron, enqueue_due_syncs, spread_offset
from tests.conftest import REDIS_URL, Caller, SQLCounter
from tests.linking import link_seeded_item

API = "/api/v1/plaid"


async def test_daily_run_enqueues_active_items_spread_over_the_window(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, app: Starlette
) -> None:
    queue: SyncQueue = app.state.services.queue
    active, disconnected, login, busy = [(await link_seeded_item(client, emulator, alice))[0] for _ in range(4)]
    await PlaidItem.filter(id=disconnected).update(disconnected_at=datetime.now(UTC))
    await PlaidItem.filter(id=login).update(error="ITEM_LOGIN_REQUIRED")
    assert (await client.post(f"{API}/sync/{busy}", headers=alice.headers)).status_code == 202
    await enqueue_due_syncs(queue, spread_seconds=3600)
    scheduled = await SyncJob.filter(
        trigger=SyncTrigger.SCHEDULE, plaid_item_id__in=[active, disconnected, login, busy]
    )
    assert [str(j.plaid_item_id) for j in scheduled] == [active]
    registry = ScheduledJobRegistry(queue=queue.queue)
    assert str(scheduled[0].id) in registry.get_job_ids()
    assert await SyncJob.filter(plaid_item_id=busy).count() == 1


def test_spread_is_stable_and_even() -> None:
    offsets = [spread_offset(f"item-{n}", 3600) for n in range(10000)]
    assert offsets[:50] == [spread_offset(f"item-{n}", 3600) for n in range(50)]
    per_minute = [0] * 60
    for offset in offsets:
        per_minute[offset // 60] += 1
    assert max(per_minute) < 250 and min(per_minute) > 100
    assert spread_offset("item", 0) == 0


def test_cron_registers_the_daily_job(settings: Settings, app: Starlette) -> None:
    queue: SyncQueue = app.state.services.queue
    (job,) = build_cron(settings, queue.redis).get_jobs()
    assert job.cron == settings.sync_schedule == "0 3 * * *"
    assert job.func_name == "ghostfolio_plaid.workers.schedule.enqueue_daily_syncs"
    assert job.queue_name == settings.sync_queue_name


async def new_items(count: int) -> list[str]:
    user, _ = await User.get_or_create(id=f"schedule-user-{uuid.uuid4()}")
    items = [
        await PlaidItem.create(id=uuid.uuid4(), user=user, item_id=f"schedule-{uuid.uuid4().hex}", access_token="-")
        for _ in range(count)
    ]
    return [str(item.id) for item in items]


def on_the_queue(queue: SyncQueue) -> set[str]:
    return set(ScheduledJobRegistry(queue=queue.queue).get_job_ids()) | set(queue.queue.job_ids)


@pytest.fixture
async def private_queue(settings: Settings) -> AsyncIterator[SyncQueue]:
    """A queue of the test's own: the daily run enqueues every active item of the database, so whatever it put
    there (rows and RQ jobs) is removed again afterwards."""
    queue = SyncQueue(REDIS_URL, f"gp-test-schedule-{uuid.uuid4().hex[:8]}", settings.sync_retry_intervals)
    yield queue
    job_ids = on_the_queue(queue)
    await SyncJob.filter(id__in=sorted(job_ids)).delete()
    for job_id in job_ids:
        with contextlib.suppress(NoSuchJobError):
            Job.fetch(job_id, connection=queue.redis).delete()
    queue.queue.delete(delete_jobs=True)
    queue.close()


async def test_daily_run_inserts_in_one_statement_and_enqueues_in_pipelines(
    private_queue: SyncQueue, sql_counter: SQLCounter, monkeypatch: pytest.MonkeyPatch
) -> None:
    item_ids = await new_items(25)
    monkeypatch.setattr(job_queue, "ENQUEUE_CHUNK", 10)
    pipelines: list[int] = []
    enqueue_pipelined = private_queue._enqueue_pipelined

    def counted(jobs: Sequence[tuple[str, int]]) -> None:
        pipelines.append(len(jobs))
        enqueue_pipelined(jobs)

    monkeypatch.setattr(private_queue, "_enqueue_pipelined", counted)
    sql_counter.statements.clear()
    before = datetime.now(UTC)
    await enqueue_due_syncs(private_queue, spread_seconds=3600)
    jobs = await SyncJob.filter(plaid_item_id__in=item_ids)
    assert sorted(str(j.plaid_item_id) for j in jobs) == sorted(item_ids)
    assert {j.trigger for j in jobs} == {SyncTrigger.SCHEDULE}
    writing_ours = [s for s in sql_counter.statements if sum(str(j.id) in s for j in jobs) > 1]
    assert len(writing_ours) == 1 and all(str(j.id) in writing_ours[0] for j in jobs)
    assert max(pipelines) == 10 and len(pipelines) == -(-sum(pipelines) // 10)
    registry = ScheduledJobRegistry(queue=private_queue.queue)
    for job in jobs:
        rq_job = Job.fetch(str(job.id), connection=private_queue.redis)
        assert (rq_job.timeout, rq_job.retries_left) == (3600, len(private_queue.retry_intervals))
        offset = spread_offset(str(job.plaid_item_id), 3600)
        if offset:
            delay = (registry.get_scheduled_time(rq_job) - before).total_seconds()
            assert offset - 5 <= delay <= offset + 60


async def test_redis_gone_midway_leaves_no_queued_sync_that_never_runs(
    private_queue: SyncQueue, monkeypatch: pytest.MonkeyPatch
) -> None:
    item_ids = await new_items(25)
    monkeypatch.setattr(job_queue, "ENQUEUE_CHUNK", 10)
    enqueue_pipelined = private_queue._enqueue_pipelined
    pipelines: list[int] = []

    def redis_goes_away(jobs: Sequence[tuple[str, int]]) -> None:
        pipelines.append(len(jobs))
        if len(pipelines) > 1:
            raise RedisConnectionError("Connection refused")
        enqueue_pipelined(jobs)

    monkeypatch.setattr(private_queue, "_enqueue_pipelined", redis_goes_away)
    before = datetime.now(UTC)
    with pytest.raises(Unavailable):
        await enqueue_due_syncs(private_queue, spread_seconds=3600)
    left = await SyncJob.filter(trigger=SyncTrigger.SCHEDULE, created_at__gte=before)
    assert len(left) == 10
    assert {str(j.id) for j in left} == on_the_queue(private_queue)
    assert await SyncJob.filter(plaid_item_id__in=item_ids).count() == sum(
        str(j.plaid_item_id) in item_ids for j in left
    )


async def test_an_item_that_gains_a_sync_meanwhile_is_skipped_alone() -> None:
    first, busy, last = await new_items(3)
    manual = await SyncJob.create(plaid_item_id=busy, trigger=SyncTrigger.MANUAL)
    try:
        created = await _create_jobs([first, busy, last], spread_seconds=3600)
        rows = await SyncJob.filter(id__in=[job_id for job_id, _ in created])
        assert sorted(str(r.plaid_item_id) for r in rows) == sorted([first, last])
        assert [j.id for j in await SyncJob.filter(plaid_item_id=busy)] == [manual.id]
    finally:
        await SyncJob.filter(plaid_item_id__in=[first, busy, last]).delete()


async def test_one_pipeline_takes_due_and_delayed_jobs_alike(private_queue: SyncQueue) -> None:
    due, later, also_due = (str(uuid.uuid4()) for _ in range(3))
    await private_queue.enqueue_syncs([(due, 0), (later, 30), (also_due, 0)])
    assert private_queue.queue.job_ids == [due, also_due]
    assert ScheduledJobRegistry(queue=private_queue.queue).get_job_ids() == [later]
    for job_id in (due, later, also_due):
        job = Job.fetch(job_id, connection=private_queue.redis)
        assert (job.func_name, job.args, job.timeout) == (job_queue.SYNC_JOB_FUNCTION, (job_id,), 3600)


async def test_a_batch_scheduled_job_is_what_enqueue_in_makes_and_the_scheduler_queues_it(
    private_queue: SyncQueue,
) -> None:
    alone, batched = str(uuid.uuid4()), str(uuid.uuid4())
    await private_queue.enqueue_sync(alone, 1)
    await private_queue.enqueue_syncs([(batched, 1)])
    stored = [private_queue.redis.hgetall(f"rq:job:{job_id}") for job_id in (alone, batched)]
    moments = {b"created_at", b"enqueued_at", b"data", b"description", b"last_heartbeat"}
    assert {k: v for k, v in stored[0].items() if k not in moments} == {
        k: v for k, v in stored[1].items() if k not in moments
    }
    registry = ScheduledJobRegistry(queue=private_queue.queue)
    assert sorted(registry.get_job_ids()) == sorted([alone, batched])
    await asyncio.sleep(1.1)
    scheduler = RQScheduler([private_queue.queue], connection=private_queue.redis)
    assert scheduler.acquire_locks()
    try:
        scheduler.enqueue_scheduled_jobs()
    finally:
        scheduler.release_locks()
    assert sorted(private_queue.queue.job_ids) == sorted([alone, batched])
