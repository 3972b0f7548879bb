"""GraphQL subscriptions (graphql-transport-ws over WebSocket at ``/graphql``): live sync jobs and items.

A subscription listens on its caller's event channel (``ghostfolio_plaid.events``); an event only says what
changed, so each one makes the subscription read the row again, exactly as a query would, and answer it when
what a front end sees has changed. A caller therefore only ever receives its own objects, and nothing a query
would not give it.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import Any

import strawberry

from ghostfolio_plaid import models
from ghostfolio_plaid.errors import BadUserInput, Forbidden, NotFound
from ghostfolio_plaid.events import EventHub, EventKind, Listener
from ghostfolio_plaid.ghostfolio.status import ghostfolio_state
from ghostfolio_plaid.resolvers import items, sync
from ghostfolio_plaid.resolvers.items import item_status
from ghostfolio_plaid.schema.context import GraphQLInfo
from ghostfolio_plaid.schema.types import PlaidItem, SyncJob

WEBSOCKET_ONLY = "Subscriptions are served over WebSocket at /graphql with the graphql-transport-ws protocol"


@dataclass(frozen=True)
class SubscriptionLimits:
    """Limits of live updates; documents are measured by the same guard as queries (``schema/limits.py``)."""

    per_connection: int = 10
    """Operations in flight on one WebSocket."""
    per_user: int = 20
    """Open subscriptions of one user in one API process."""
    idle_seconds: float = 300.0
    """A connection with no subscription open (and no message received) for this long is closed (4408)."""
    connection_init_seconds: float = 10.0
    """Time a client has to send ``connection_init`` after opening the socket (4408 after)."""


SUBSCRIPTION_LIMITS = SubscriptionLimits()


def _hub(info: GraphQLInfo) -> EventHub:
    if info.context.hub is None:
        raise BadUserInput(WEBSOCKET_ONLY)
    return info.context.hub


async def _changed(listener: Listener, kind: EventKind) -> list[str]:
    """The ids of the objects of ``kind`` that changed, in the order first seen: waits for one event, then takes
    every event already waiting as well (one read of the row answers them all)."""
    ids: dict[str, None] = {}
    while not ids:
        events = [await listener.next(), *listener.drain()]
        ids.update((event.id, None) for event in events if event.kind == kind)
    return list(ids)


def _job_state(job: models.SyncJob) -> tuple[Any, ...]:
    return (
        job.status,
        job.error,
        job.started_at,
        job.finished_at,
        job.transactions_fetched,
        job.transactions_total,
        job.activities_created,
        job.activities_updated,
        job.activities_removed,
        job.holdings_seen,
    )


def _item_state(item: models.PlaidItem, connector_on: bool) -> tuple[Any, ...]:
    return (
        item_status(item),
        item.error,
        item.last_synced_at,
        item.consent_expires_at,
        item.disconnected_at,
        item.new_accounts_available,
        ghostfolio_state(item, connector_on=connector_on),
    )


@strawberry.type
class Subscription:
    @strawberry.subscription(
        description="The sync job now, then again each time it changes (progress, counts, status), until it "
        "finishes: the last answer has its final status."
    )
    async def sync_job(self, info: GraphQLInfo, id: strawberry.ID) -> AsyncGenerator[SyncJob, None]:
        user_id = await info.context.user_id()
        hub = _hub(info)
        await sync.get_sync_job(user_id, id)  # refuse an unknown job before opening anything
        async with hub.listen(user_id) as listener:
            job = await sync.get_sync_job(user_id, id)  # read after subscribing: no change can fall in between
            last = _job_state(job)
            yield SyncJob.from_model(job)
            while job.status in models.ACTIVE_SYNC_STATUSES:
                if str(job.id) not in await _changed(listener, "sync_job"):
                    continue
                job = await sync.get_sync_job(user_id, id)
                if (state := _job_state(job)) != last:
                    last = state
                    yield SyncJob.from_model(job)

    @strawberry.subscription(
        description="Each of the caller's items whenever its status, error, lastSyncedAt, consent or Ghostfolio "
        "push status changes (webhooks, syncs, re-authentication, disconnects). Nothing is sent on subscribing: "
        "query plaidItems first."
    )
    async def plaid_items_changed(self, info: GraphQLInfo) -> AsyncGenerator[PlaidItem, None]:
        user_id = await info.context.user_id()
        hub = _hub(info)
        connector_on = info.context.services.settings.ghostfolio_url is not None
        async with hub.listen(user_id) as listener:
            seen = {
                str(listed.item.id): _item_state(listed.item, connector_on)
                for listed in await items.list_items(user_id)
            }
            while True:
                for item_id in await _changed(listener, "item"):
                    try:
                        listed = await items.get_item(user_id, item_id)
                    except (NotFound, Forbidden, BadUserInput):
                        continue
                    state = _item_state(listed.item, connector_on)
                    if seen.get(item_id) != state:
                        seen[item_id] = state
                        yield PlaidItem.from_listed(listed)
