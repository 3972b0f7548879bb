"""``ghostfolio-plaid push ITEM_ID``: replay an item's whole state into Ghostfolio, for repairs.

A replay first asks Ghostfolio what it still holds (accounts, activities), so whatever someone deleted there is
sent again, and then delivers the outbox as a worker would; Ghostfolio skips duplicates and the ledger knows
the rest, so running it twice changes nothing the second time. It runs in this process, under the item's push
lock, and reports the push run it made (its GhostfolioPush row) in words for the person at the terminal.
"""

from __future__ import annotations

import sys
from datetime import datetime
from typing import TextIO

from tortoise import Tortoise

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.db import tortoise_config
from ghostfolio_plaid.ghostfolio.jobs import deliver, retry_delay
from ghostfolio_plaid.job_queue import QueueUnavailable, SyncQueue
from ghostfolio_plaid.models import GhostfolioPush, PlaidItem
from ghostfolio_plaid.store_checks import public_url
from ghostfolio_plaid.sync_command import find_item

SUCCEEDED = "succeeded"
REFUSED = "refused"
RETRYING = "retrying"
BUSY = "busy"


def summary(run: GhostfolioPush) -> str:
    """One line a person reads: what changed in Ghostfolio and how many requests it took."""
    changes = f"{run.created} created, {run.updated} updated, {run.deleted} deleted, {run.balances} balances"
    if run.outcome == SUCCEEDED and (run.created, run.updated, run.deleted, run.balances) == (0, 0, 0, 0):
        changes = "nothing to change, Ghostfolio already had every activity and balance"
    requests = "1 request" if run.requests == 1 else f"{run.requests} requests"
    return f"push {run.outcome}: {changes} ({requests})"


async def newest_start(item: PlaidItem) -> datetime | None:
    """When the item's latest push run began (so that this command finds its own run afterwards)."""
    newest = await GhostfolioPush.filter(plaid_item_id=item.id).order_by("-started_at").first()
    return newest.started_at if newest is not None else None


async def run_of_this_push(item: PlaidItem, after: datetime | None) -> GhostfolioPush | None:
    """The first run that began after ``after``: pushes of an item are serialized by its lock, so it is ours."""
    runs = GhostfolioPush.filter(plaid_item_id=item.id)
    if after is not None:
        runs = runs.filter(started_at__gt=after)
    return await runs.order_by("started_at").first()


async def push(settings: Settings, queue: SyncQueue, item: PlaidItem, where: str, out: TextIO, err: TextIO) -> int:
    """Replay the item; 0 when Ghostfolio has it all, 1 when it refused, is unreachable or another push runs."""
    before = await newest_start(item)
    try:
        outcome = await deliver(settings, queue, str(item.id), replay=True)
    except QueueUnavailable as exc:
        err.write(f"Ghostfolio is unavailable and no retry could be scheduled: {exc}; run push again later\n")
        return 1
    if outcome == BUSY:
        err.write(f"another push of item {item.id} is running; run push again when it has finished\n")
        return 1
    run = await run_of_this_push(item, before)
    if run is not None:
        out.write(summary(run) + "\n")
    item = await PlaidItem.get(id=item.id)
    if outcome == SUCCEEDED:
        return 0
    if outcome == REFUSED:
        err.write(f"Ghostfolio refused the push: {item.ghostfolio_error}\n")
    elif outcome == RETRYING:
        delay = retry_delay(item.ghostfolio_attempts, settings.ghostfolio_retry_max_seconds)
        err.write(
            f"Ghostfolio at {where} is unavailable ({item.ghostfolio_error}); a retry was "
            f"scheduled in {delay} s, run by a worker\n"
        )
    else:
        err.write(f"the push ended as {outcome}\n")
    return 1


async def run(settings: Settings, reference: str, *, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    """Exit status: 0 pushed, 1 refused/unavailable/busy, 2 without GHOSTFOLIO_URL or for an unknown item."""
    if settings.ghostfolio_url is None:
        err.write("GHOSTFOLIO_URL is not set: there is no Ghostfolio to push to\n")
        return 2
    where = public_url(settings.ghostfolio_url)
    queue = SyncQueue(settings.redis_url, settings.sync_queue_name, settings.sync_retry_intervals)
    await Tortoise.init(config=tortoise_config(settings.database_url))
    try:
        item = await find_item(reference)
        if item is None:
            err.write(f"no Plaid item {reference}\n")
            return 2
        return await push(settings, queue, item, where, out, err)
    finally:
        await Tortoise.close_connections()
        queue.close()
