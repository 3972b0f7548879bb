from __future__ import annotations

import strawberry

from ghostfolio_plaid.resolvers import items, link, sync
from ghostfolio_plaid.schema.context import GraphQLInfo
from ghostfolio_plaid.schema.types import (
    ExchangePublicTokenInput,
    ExchangePublicTokenPayload,
    LinkToken,
    PlaidItem,
    SyncJob,
)


@strawberry.type
class Mutation:
    @strawberry.mutation(description="A Plaid Link token to connect a new institution.")
    async def create_link_token(self, info: GraphQLInfo) -> LinkToken:
        user_id = await info.context.user_id()
        return LinkToken.from_plaid(await link.create_link_token(info.context.services, user_id))

    @strawberry.mutation
    async def exchange_public_token(
        self, info: GraphQLInfo, input: ExchangePublicTokenInput
    ) -> ExchangePublicTokenPayload:
        user_id = await info.context.user_id()
        result = await items.exchange_public_token(info.context.services, user_id, input.to_input())
        return ExchangePublicTokenPayload.from_result(result)

    @strawberry.mutation(description="Enqueue a sync; fails with CONFLICT while one is queued or running.")
    async def sync_plaid_item(self, info: GraphQLInfo, plaid_item_id: strawberry.ID) -> SyncJob:
        user_id = await info.context.user_id()
        return SyncJob.from_model(await sync.request_sync(info.context.services, user_id, plaid_item_id))

    @strawberry.mutation(description="A Plaid Link token in update mode, to re-authenticate an item.")
    async def reauth_plaid_item(self, info: GraphQLInfo, plaid_item_id: strawberry.ID) -> LinkToken:
        user_id = await info.context.user_id()
        token = await link.create_update_link_token(info.context.services, user_id, plaid_item_id)
        return LinkToken.from_plaid(token)

    @strawberry.mutation(
        description="After Link in update mode succeeded: clear the item's error (Plaid confirms) and sync it."
    )
    async def complete_plaid_item_reauth(self, info: GraphQLInfo, plaid_item_id: strawberry.ID) -> PlaidItem:
        user_id = await info.context.user_id()
        await link.complete_reauth(info.context.services, user_id, plaid_item_id)
        return PlaidItem.from_listed(await items.get_item(user_id, plaid_item_id))

    @strawberry.mutation(description="Remove the item at Plaid and mark it disconnected; its data stays.")
    async def disconnect_plaid_item(self, info: GraphQLInfo, plaid_item_id: strawberry.ID) -> PlaidItem:
        user_id = await info.context.user_id()
        await items.disconnect_item(info.context.services, user_id, plaid_item_id)
        return PlaidItem.from_listed(await items.get_item(user_id, plaid_item_id))
