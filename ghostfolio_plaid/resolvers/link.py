"""Plaid Link tokens: for a new connection, and in update mode to re-authenticate an existing one."""

from __future__ import annotations

from ghostfolio_plaid.errors import Conflict
from ghostfolio_plaid.plaid_client import LinkToken
from ghostfolio_plaid.resolvers.items import access_token_of
from ghostfolio_plaid.resolvers.permissions import owned_item
from ghostfolio_plaid.resolvers.plaid_errors import plaid_errors
from ghostfolio_plaid.resolvers.services import Services


async def create_link_token(services: Services, user_id: str) -> LinkToken:
    with plaid_errors():
        return await services.plaid.create_link_token(client_user_id=user_id)


async def create_update_link_token(services: Services, user_id: str, plaid_item_id: str) -> LinkToken:
    item = await owned_item(user_id, plaid_item_id)
    if item.disconnected_at is not None:
        raise Conflict("PlaidItem is disconnected; link the institution again instead")
    access_token = access_token_of(services, item)
    with plaid_errors():
        return await services.plaid.create_link_token(client_user_id=user_id, access_token=access_token)
