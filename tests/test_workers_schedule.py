"""The daily run: every active item once, spread over the window; the rq cron registration."""

from __future__ import annotations

from datetime import UTC, datetime

import httpx
from rq.registry import ScheduledJobRegistry
from starlette.applications import Starlette

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.job_queue import SyncQueue
from ghostfolio_plaid.models import PlaidItem, SyncJob, SyncTrigger
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from ghostfolio_plaid.workers.schedule import build_cron, enqueue_due_syncs, spread_offset
from tests.conftest import Caller
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
