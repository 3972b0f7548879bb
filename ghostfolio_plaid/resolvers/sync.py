"""Requesting syncs and reading their state."""

from __future__ import annotations

from ghostfolio_plaid.errors import NotFound
from ghostfolio_plaid.job_queue import request_sync as enqueue
from ghostfolio_plaid.models import SyncJob, SyncTrigger
from ghostfolio_plaid.resolvers.permissions import owned_item, parse_uuid
from ghostfolio_plaid.resolvers.services import Services


async def request_sync(services: Services, user_id: str, plaid_item_id: str) -> SyncJob:
    item = await owned_item(user_id, plaid_item_id)
    await services.user_limits.check("manual_sync", user_id)
    return await enqueue(services.queue, item, SyncTrigger.MANUAL)


async def get_sync_job(user_id: str, sync_job_id: str) -> SyncJob:
    job = await SyncJob.get_or_none(id=parse_uuid(sync_job_id, "id")).select_related("plaid_item")
    if job is None or job.plaid_item.user_id != user_id:
        raise NotFound("SyncJob not found")
    return job
