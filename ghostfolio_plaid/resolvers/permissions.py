"""Who may do what: the feature gate, the bearer token, and item ownership."""

from __future__ import annotations

import uuid

from ghostfolio_plaid.auth import user_id_from_authorization
from ghostfolio_plaid.errors import BadUserInput, FeatureDisabled, Forbidden, NotFound
from ghostfolio_plaid.models import PlaidItem, User
from ghostfolio_plaid.resolvers.services import Services


async def authenticate(services: Services, authorization: str | None) -> str:
    """The caller's user id. The feature gate comes first so a disabled service reveals nothing else."""
    if not services.settings.enable_feature_plaid:
        raise FeatureDisabled("The Plaid integration is disabled")
    user_id = user_id_from_authorization(authorization, services.settings.jwt_secret_key)
    if user_id not in services.known_users:
        await User.get_or_create(id=user_id)
        services.known_users.add(user_id)
    return user_id


def parse_uuid(value: str, name: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(value))
    except ValueError:
        raise BadUserInput(f"{name} must be a UUID") from None


async def owned_item(user_id: str, plaid_item_id: str) -> PlaidItem:
    item = await PlaidItem.get_or_none(id=parse_uuid(plaid_item_id, "plaidItemId"))
    if item is None:
        raise NotFound("PlaidItem not found")
    if item.user_id != user_id:
        raise Forbidden("You do not have access to this PlaidItem")
    return item
