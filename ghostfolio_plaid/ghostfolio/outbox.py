"""After a sync: count what Ghostfolio still lacks and ask for a push (the outbox is durable in PostgreSQL)."""

from __future__ import annotations

import logging

from ghostfolio_plaid.ghostfolio.jobs import request_push
from ghostfolio_plaid.ghostfolio.push import pending_changes
from ghostfolio_plaid.job_queue import QueueUnavailable, SyncQueue
from ghostfolio_plaid.models import PlaidItem

log = logging.getLogger(__name__)


async def hand_to_ghostfolio(queue: SyncQueue, item: PlaidItem) -> None:
    """A queue outage loses nothing: the changes wait in our tables for the next push that is requested."""
    await PlaidItem.filter(id=item.id).update(ghostfolio_pending=await pending_changes(item))
    try:
        await request_push(queue, str(item.id))
    except QueueUnavailable:
        log.warning(
            "push of item %s to Ghostfolio not queued (job queue unavailable); the next sync asks again", item.id
        )
