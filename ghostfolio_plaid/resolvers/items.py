"""Linked Plaid items: create one from a public token, list them, disconnect one."""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum

from tortoise.exceptions import IntegrityError
from tortoise.functions import Count
from tortoise.transactions import in_transaction

from ghostfolio_plaid.errors import Conflict, FeatureDisabled, PlaidApiError
from ghostfolio_plaid.models import Account, PlaidItem, Platform
from ghostfolio_plaid.resolvers.inputs import ExchangeInput
from ghostfolio_plaid.resolvers.permissions import owned_item
from ghostfolio_plaid.resolvers.plaid_errors import plaid_errors
from ghostfolio_plaid.resolvers.services import Services

log = logging.getLogger(__name__)
ALREADY_GONE_AT_PLAID = frozenset({"ITEM_NOT_FOUND", "INVALID_ACCESS_TOKEN"})


class ItemStatus(StrEnum):
    ACTIVE = "ACTIVE"
    LOGIN_REQUIRED = "LOGIN_REQUIRED"
    PENDING_EXPIRATION = "PENDING_EXPIRATION"
    ERROR = "ERROR"
    DISCONNECTED = "DISCONNECTED"


def item_status(item: PlaidItem) -> ItemStatus:
    if item.disconnected_at is not None:
        return ItemStatus.DISCONNECTED
    if item.error is None:
        return ItemStatus.ACTIVE
    if item.error == "ITEM_LOGIN_REQUIRED":
        return ItemStatus.LOGIN_REQUIRED
    if item.error == "PENDING_EXPIRATION":
        return ItemStatus.PENDING_EXPIRATION
    return ItemStatus.ERROR


@dataclass(frozen=True)
class ListedItem:
    item: PlaidItem
    account_count: int


@dataclass(frozen=True)
class ExchangeResult:
    plaid_item_id: uuid.UUID
    accounts: list[Account]


def access_token_of(services: Services, item: PlaidItem) -> str:
    if services.cipher is None:
        raise FeatureDisabled("PLAID_ENCRYPTION_KEY is not configured")
    return services.cipher.decrypt(item.access_token, row_id=str(item.id))


async def list_items(user_id: str) -> list[ListedItem]:
    items = (
        await PlaidItem.filter(user_id=user_id).annotate(account_count=Count("accounts")).order_by("created_at", "id")
    )
    return [ListedItem(item, int(getattr(item, "account_count", 0))) for item in items]


async def get_item(user_id: str, plaid_item_id: str) -> ListedItem:
    item = await owned_item(user_id, plaid_item_id)
    return ListedItem(item, await Account.filter(plaid_item_id=item.id).count())


async def accounts_by_item(item_ids: Sequence[uuid.UUID]) -> list[list[Account]]:
    """Accounts of many items in one query, in the order of ``item_ids`` (the DataLoader's batch)."""
    grouped: dict[uuid.UUID, list[Account]] = defaultdict(list)
    for account in await Account.filter(plaid_item_id__in=list(item_ids)).order_by("created_at", "name", "id"):
        grouped[uuid.UUID(str(account.plaid_item_id))].append(account)
    return [grouped.get(item_id, []) for item_id in item_ids]


async def exchange_public_token(services: Services, user_id: str, data: ExchangeInput) -> ExchangeResult:
    """Exchange, then write the item, its platform and its accounts in one transaction or not at all."""
    data.validate()
    if services.cipher is None:
        raise FeatureDisabled("PLAID_ENCRYPTION_KEY is not configured")
    with plaid_errors():
        exchanged = await services.plaid.exchange_public_token(data.public_token)
    if await PlaidItem.exists(item_id=exchanged.item_id):
        raise Conflict("This institution is already linked")
    item_row_id = uuid.uuid4()
    try:
        async with in_transaction():
            platform, _ = await Platform.get_or_create(
                plaid_institution_id=data.institution_id, defaults={"name": data.institution_name}
            )
            item = await PlaidItem.create(
                id=item_row_id,
                user_id=user_id,
                item_id=exchanged.item_id,
                access_token=services.cipher.encrypt(exchanged.access_token, row_id=str(item_row_id)),
                institution_id=data.institution_id,
                institution_name=data.institution_name,
            )
            accounts = [
                Account(
                    id=uuid.uuid4(),
                    user_id=user_id,
                    name=linked.name,
                    platform=platform,
                    plaid_item=item,
                    plaid_account_id=linked.id,
                    account_type=linked.type,
                    account_subtype=linked.subtype,
                    mask=linked.mask,
                )
                for linked in data.accounts
            ]
            await Account.bulk_create(accounts)
    except IntegrityError:
        raise Conflict("This institution is already linked") from None
    log.info("linked plaid item %s for institution %s", item.id, data.institution_id)
    return ExchangeResult(plaid_item_id=item.id, accounts=accounts)


async def disconnect_item(services: Services, user_id: str, plaid_item_id: str) -> PlaidItem:
    """Remove the item at Plaid and mark it disconnected; its accounts and activities stay."""
    item = await owned_item(user_id, plaid_item_id)
    if item.disconnected_at is not None:
        return item
    access_token = access_token_of(services, item)
    with plaid_errors():
        try:
            await services.plaid.remove_item(access_token)
        except PlaidApiError as exc:
            if exc.error_code not in ALREADY_GONE_AT_PLAID:
                raise
    item.disconnected_at = datetime.now(UTC)
    await item.save(update_fields=["disconnected_at", "updated_at"])
    log.info("disconnected plaid item %s", item.id)
    return item
