"""Requesting syncs: at most one queued or running per item, enforced by a unique index."""

from __future__ import annotations

import logging

from tortoise.exceptions import IntegrityError

from ghostfolio_plaid.errors import Conflict, NotFound, Unavailable
from ghostfolio_plaid.job_queue import QueueUnavailable
from ghostfolio_plaid.models import ACTIVE_SYNC_STATUSES, PlaidItem, SyncJob, SyncStatus, SyncTrigger
from ghostfolio_plaid.resolvers.permissions import owned_item, parse_uuid
from ghostfolio_plaid.resolvers.services import Services

log = logging.getLogger(__name__)


async def request_sync(services: Services, user_id: str, plaid_item_id: str) -> SyncJob:
    item = await owned_item(user_id, plaid_item_id)
    return await enqueue_sync(services, item, SyncTrigger.MANUAL)


async def enqueue_sync(services: Services, item: PlaidItem, trigger: SyncTrigger) -> SyncJob:
    if item.disconnected_at is not None:
        raise Conflict("PlaidItem is disconnected and cannot be synced")
    job = await _create_job(services, item, trigger)
    try:
        await services.queue.enqueue_sync(str(job.id))
    except QueueUnavailable:
        await job.delete()
        raise Unavailable("The job queue is unavailable; try again later") from None
    log.info("enqueued sync %s of plaid item %s (%s)", job.id, item.id, trigger.value)
    return job


async def get_sync_job(user_id: str, sync_job_id: str) -> SyncJob:
    job = await SyncJob.get_or_none(id=parse_uuid(sync_job_id, "id")).select_related("plaid_item")
    if job is None or job.plaid_item.user_id != user_id:
        raise NotFound("SyncJob not found")
    return job


async def _create_job(services: Services, item: PlaidItem, trigger: SyncTrigger) -> SyncJob:
    try:
        return await SyncJob.create(plaid_item=item, trigger=trigger)
    except IntegrityError:
        pass
    if not await _release_abandoned(services, item):
        raise Conflict("A sync of this PlaidItem is already queued or running")
    try:
        return await SyncJob.create(plaid_item=item, trigger=trigger)
    except IntegrityError:
        raise Conflict("A sync of this PlaidItem is already queued or running") from None


async def _release_abandoned(services: Services, item: PlaidItem) -> bool:
    """Fail an active job the queue no longer holds (e.g. Redis was flushed) so it cannot block forever."""
    active = await SyncJob.filter(plaid_item_id=item.id, status__in=list(ACTIVE_SYNC_STATUSES)).first()
    if active is None:
        return True
    try:
        pending = await services.queue.is_pending(str(active.id))
    except QueueUnavailable:
        raise Unavailable("The job queue is unavailable; try again later") from None
    if pending:
        return False
    updated = await SyncJob.filter(id=active.id, status=active.status).update(
        status=SyncStatus.FAILED, error="ABANDONED"
    )
    return updated > 0
