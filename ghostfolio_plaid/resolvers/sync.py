"""Requesting syncs and reading their state: one job, an item's jobs page by page, its latest job."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q
from tortoise.functions import Max

from ghostfolio_plaid.errors import BadUserInput, NotFound
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


MAX_SYNC_JOBS_PAGE = 100


@dataclass(frozen=True)
class SyncJobPage:
    jobs: list[SyncJob]
    has_next_page: bool
    total_count: int


def encode_sync_job_cursor(job: SyncJob) -> str:
    return base64.urlsafe_b64encode(f"{job.created_at.isoformat()}|{job.id}".encode()).decode()


def _decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        moment, _, job_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(moment), uuid.UUID(job_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadUserInput("after is not a cursor this API issued") from None


async def sync_jobs_page(plaid_item_id: uuid.UUID, first: int, after: str | None) -> SyncJobPage:
    """An item's sync jobs, newest first, keyed on (created_at, id) so pages stay stable while jobs are added.
    The caller has already proven it owns the item."""
    if not 1 <= first <= MAX_SYNC_JOBS_PAGE:
        raise BadUserInput(f"first must be between 1 and {MAX_SYNC_JOBS_PAGE}")
    query = SyncJob.filter(plaid_item_id=plaid_item_id)
    total = await query.count()
    if after is not None:
        moment, job_id = _decode_cursor(after)
        query = query.filter(Q(created_at__lt=moment) | Q(created_at=moment, id__lt=job_id))
    jobs = await query.order_by("-created_at", "-id").limit(first + 1)
    return SyncJobPage(jobs=jobs[:first], has_next_page=len(jobs) > first, total_count=total)


async def last_sync_jobs(plaid_item_ids: Sequence[uuid.UUID]) -> list[SyncJob | None]:
    """The newest sync job of each item (the DataLoader's batch), in the order of ``plaid_item_ids``: two
    queries however many jobs the items have."""
    if not plaid_item_ids:
        return []
    newest = (
        await SyncJob.filter(plaid_item_id__in=list(plaid_item_ids))
        .annotate(newest=Max("created_at"))
        .group_by("plaid_item_id")
        .values("plaid_item_id", "newest")
    )
    latest: dict[uuid.UUID, SyncJob] = {}
    if newest:
        wanted = Q(*(Q(plaid_item_id=row["plaid_item_id"], created_at=row["newest"]) for row in newest), join_type="OR")
        for job in await SyncJob.filter(wanted).order_by("-created_at", "-id"):
            latest.setdefault(uuid.UUID(str(job.plaid_item_id)), job)
    return [latest.get(item_id) for item_id in plaid_item_ids]
