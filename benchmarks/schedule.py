"""The daily schedule of 10,000 items: how long the scheduler's run takes to enqueue them, spread over the window.

Seeds a scratch database with ``--items`` active items (plus some disconnected, some needing their user and
some with a sync already queued, which the run must skip), then runs ``enqueue_due_syncs`` as the ``rq cron``
job does. Prints its wall time, SQL statements and Redis round trips, and how the jobs are spread over
``SYNC_SPREAD_SECONDS`` (per minute). For comparison, the same work done one item at a time (``request_sync``,
what the run did before) on ``--compare`` items. Everything it put into Redis is deleted afterwards.
Usage: ``uv run python benchmarks/schedule.py [--items 10000]``.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from harness import scratch_database
from redis.connection import Connection
from rq.registry import ScheduledJobRegistry
from tortoise import Tortoise

from ghostfolio_plaid.db import tortoise_config
from ghostfolio_plaid.job_queue import SyncQueue, request_sync
from ghostfolio_plaid.models import PlaidItem, SyncJob, SyncTrigger, User
from ghostfolio_plaid.workers.schedule import enqueue_due_syncs, spread_offset

REDIS_URL = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/0")
SPREAD_SECONDS = 3600


class Counter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


@contextmanager
def counting() -> Iterator[dict[str, int]]:
    """SQL statements (Tortoise's statement log) and Redis round trips (commands or pipelines sent)."""
    counts = {"sql": 0, "redis": 0}
    statements = Counter()
    logger = logging.getLogger("tortoise.db_client")
    logger.setLevel(logging.DEBUG)
    logger.addHandler(statements)
    send = Connection.send_packed_command

    def counted(self: Connection, command: Any, check_health: bool = True) -> None:
        counts["redis"] += 1
        send(self, command, check_health)

    Connection.send_packed_command = counted  # type: ignore[method-assign]
    try:
        yield counts
    finally:
        Connection.send_packed_command = send  # type: ignore[method-assign]
        logger.removeHandler(statements)
        counts["sql"] = statements.count


async def seed(active: int, inactive: int, busy: int, side: SyncQueue) -> list[str]:
    """Items; the first ``busy`` ones with a sync queued on ``side`` (alive, so the run must skip them)."""
    users = [User(id=f"schedule-user-{n}") for n in range(max(1, active // 100))]
    await User.bulk_create(users)
    items = [
        PlaidItem(
            id=uuid.uuid4(), user_id=users[n % len(users)].id, item_id=f"item-{uuid.uuid4().hex}", access_token="-"
        )
        for n in range(active + inactive)
    ]
    for n, item in enumerate(items[active:]):
        if n % 2:
            item.disconnected_at = datetime.now(UTC)
        else:
            item.error = "ITEM_LOGIN_REQUIRED"
    await PlaidItem.bulk_create(items, batch_size=1000)
    running = [SyncJob(id=uuid.uuid4(), plaid_item_id=item.id, trigger=SyncTrigger.MANUAL) for item in items[:busy]]
    await SyncJob.bulk_create(running)
    await side.enqueue_syncs([(str(job.id), 0) for job in running])
    return [str(item.id) for item in items[busy:active]]


def forget(queue: SyncQueue) -> None:
    """Delete the queue, its scheduled registry and every job hash the run created."""
    registry = ScheduledJobRegistry(queue=queue.queue)
    job_ids = registry.get_job_ids() + queue.queue.job_ids
    with queue.redis.pipeline(transaction=False) as pipeline:
        for job_id in job_ids:
            pipeline.delete(f"rq:job:{job_id}")
        pipeline.delete(registry.key, queue.queue.key)
        pipeline.execute()


def spread(queue: SyncQueue, started: float) -> tuple[int, float, float, list[int]]:
    registry = ScheduledJobRegistry(queue=queue.queue)
    scores = [score for _, score in queue.redis.zrange(registry.key, 0, -1, withscores=True)]
    offsets = [score - started for score in scores]
    per_minute = [0] * (SPREAD_SECONDS // 60)
    for offset in offsets:
        per_minute[min(len(per_minute) - 1, max(0, int(offset // 60)))] += 1
    return len(offsets), min(offsets), max(offsets), per_minute


async def one_by_one(item_ids: list[str]) -> tuple[float, dict[str, int]]:
    queue = SyncQueue(REDIS_URL, f"gp-bench-schedule-{uuid.uuid4().hex[:8]}")
    try:
        items = await PlaidItem.filter(id__in=item_ids)
        with counting() as counts:
            started = time.perf_counter()
            for item in items:
                await request_sync(queue, item, SyncTrigger.SCHEDULE, spread_offset(str(item.id), SPREAD_SECONDS))
            elapsed = time.perf_counter() - started
        return elapsed, counts
    finally:
        forget(queue)
        await SyncJob.filter(plaid_item_id__in=item_ids, trigger=SyncTrigger.SCHEDULE).delete()
        queue.close()


async def measure(items: int, compare: int) -> None:
    inactive, busy = items // 50, items // 100
    side = SyncQueue(REDIS_URL, f"gp-bench-schedule-{uuid.uuid4().hex[:8]}")
    try:
        await run(items, compare, inactive, busy, await seed(items, inactive, busy, side))
    finally:
        forget(side)
        side.close()


async def run(items: int, compare: int, inactive: int, busy: int, free: list[str]) -> None:
    print(f"{items:,} active items ({busy} with a sync already queued), {inactive} disconnected or needing their user")
    seconds, before = await one_by_one(free[:compare])
    print(
        f"one by one (request_sync per item, as before), {compare:,} items: {seconds:.2f} s, "
        f"{before['sql']} SQL statements, {before['redis']} Redis round trips "
        f"-> {items:,} items in about {seconds * items / compare:.0f} s"
    )
    queue = SyncQueue(REDIS_URL, f"gp-bench-schedule-{uuid.uuid4().hex[:8]}")
    try:
        started_at = time.time()
        with counting() as counts:
            started = time.perf_counter()
            enqueued = await enqueue_due_syncs(queue, SPREAD_SECONDS)
            elapsed = time.perf_counter() - started
        print(
            f"daily run, batched: {enqueued:,} syncs enqueued in {elapsed:.2f} s ({enqueued / elapsed:,.0f} items/s); "
            f"{counts['sql']} SQL statements, {counts['redis']} Redis round trips (of which about "
            f"{2 * busy} and {busy}: the {busy} busy items, each checked for an abandoned job)"
        )
        scheduled, first, last, per_minute = spread(queue, started_at)
        print(
            f"  spread: {scheduled:,} scheduled from {first:.0f} s to {last:.0f} s after the run "
            f"(+{len(queue.queue.job_ids)} due at once); per minute: min {min(per_minute)}, max {max(per_minute)}"
        )
        rows = await SyncJob.filter(trigger=SyncTrigger.SCHEDULE).count()
        print(f"  SyncJob rows: {rows:,} (expected {items - busy:,}: the busy items were skipped)")
    finally:
        forget(queue)
        queue.close()


async def main(items: int, compare: int) -> None:
    async with scratch_database() as database_url:
        await Tortoise.init(config=tortoise_config(database_url))
        try:
            await measure(items, compare)
        finally:
            await Tortoise.close_connections()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--items", type=int, default=10000)
    parser.add_argument("--compare", type=int, default=1000, help="items of the one-by-one comparison")
    args = parser.parse_args()
    asyncio.run(main(args.items, args.compare))
