from __future__ import annotations

import strawberry

from ghostfolio_plaid.resolvers import items, sync
from ghostfolio_plaid.schema.context import GraphQLInfo
from ghostfolio_plaid.schema.types import PlaidItem, SyncJob


@strawberry.type
class Query:
    @strawberry.field(description="The caller's linked Plaid items, oldest first, disconnected included.")
    async def plaid_items(self, info: GraphQLInfo) -> list[PlaidItem]:
        user_id = await info.context.user_id()
        return [PlaidItem.from_listed(listed) for listed in await items.list_items(user_id)]

    @strawberry.field
    async def plaid_item(self, info: GraphQLInfo, id: strawberry.ID) -> PlaidItem:
        user_id = await info.context.user_id()
        return PlaidItem.from_listed(await items.get_item(user_id, id))

    @strawberry.field
    async def sync_job(self, info: GraphQLInfo, id: strawberry.ID) -> SyncJob:
        user_id = await info.context.user_id()
        return SyncJob.from_model(await sync.get_sync_job(user_id, id))
