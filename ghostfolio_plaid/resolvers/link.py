"""Plaid Link tokens: for a new connection, and in update mode to re-authenticate an existing one."""

from __future__ import annotations

from ghostfolio_plaid.errors import Conflict
from ghostfolio_plaid.events import publish_item
from ghostfolio_plaid.job_queue import request_sync_soon
from ghostfolio_plaid.models import PlaidItem, SyncTrigger
from ghostfolio_plaid.plaid_client import LinkToken
from ghostfolio_plaid.resolvers.items import access_token_of
from ghostfolio_plaid.resolvers.permissions import owned_item
from ghostfolio_plaid.resolvers.plaid_errors import plaid_errors
from ghostfolio_plaid.resolvers.services import Services


async def create_link_token(services: Services, user_id: str) -> LinkToken:
    await services.user_limits.check("link_token", user_id)
    with plaid_errors():
        return await services.plaid.create_link_token(client_user_id=user_id)


async def create_update_link_token(services: Services, user_id: str, plaid_item_id: str) -> LinkToken:
    item = await owned_item(user_id, plaid_item_id)
    if item.disconnected_at is not None:
        raise Conflict("PlaidItem is disconnected; link the institution again instead")
    access_token = access_token_of(services, item)
    await services.user_limits.check("link_token", user_id)
    with plaid_errors():
        return await services.plaid.create_link_token(client_user_id=user_id, access_token=access_token)


async def complete_reauth(services: Services, user_id: str, plaid_item_id: str) -> PlaidItem:
    """After Link in update mode succeeded: ask Plaid, clear the item's error, and sync it.

    Plaid's own item status decides, so a client cannot clear an error the institution still reports.
    """
    item = await owned_item(user_id, plaid_item_id)
    if item.disconnected_at is not None:
        raise Conflict("PlaidItem is disconnected; link the institution again instead")
    with plaid_errors():
        status = await services.plaid.get_item(access_token_of(services, item))
    if status.error_code is not None:
        raise Conflict(f"Plaid still reports {status.error_code} for this item; finish Link in update mode first")
    item.error = None
    item.consent_expires_at = status.consent_expires_at or item.consent_expires_at
    await item.save(update_fields=["error", "consent_expires_at", "updated_at"])
    await publish_item(item)
    await request_sync_soon(services.queue, item, SyncTrigger.MANUAL)
    return item
