"""The sync job. This revision records the job's life cycle; importing data is added on top of it."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime

from tortoise import Tortoise

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.db import tortoise_config
from ghostfolio_plaid.models import PlaidItem, SyncJob, SyncStatus

log = logging.getLogger(__name__)


def run_sync_job(sync_job_id: str) -> str:
    """RQ entry point: returns the job's final status."""
    return asyncio.run(_with_database(sync_job_id))


async def _with_database(sync_job_id: str) -> str:
    settings = Settings.from_env()
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        return (await execute_sync(sync_job_id)).value
    finally:
        await Tortoise.close_connections()


async def execute_sync(sync_job_id: str) -> SyncStatus:
    job = await SyncJob.get_or_none(id=sync_job_id)
    if job is None or job.status != SyncStatus.QUEUED:
        log.warning("sync job %s is missing or no longer queued; skipped", sync_job_id)
        return job.status if job else SyncStatus.FAILED
    started = time.monotonic()
    job.status, job.started_at = SyncStatus.RUNNING, datetime.now(UTC)
    await job.save(update_fields=["status", "started_at"])
    item = await PlaidItem.get(id=job.plaid_item_id)
    if item.disconnected_at is not None:
        return await _finish(job, started, SyncStatus.FAILED, "ITEM_DISCONNECTED")
    return await _finish(job, started, SyncStatus.SUCCEEDED, None)


async def _finish(job: SyncJob, started: float, status: SyncStatus, error: str | None) -> SyncStatus:
    job.status, job.error = status, error
    job.finished_at = datetime.now(UTC)
    job.duration_ms = int((time.monotonic() - started) * 1000)
    await job.save(update_fields=["status", "error", "finished_at", "duration_ms"])
    log.info("sync job %s %s", job.id, status.value)
    return status
