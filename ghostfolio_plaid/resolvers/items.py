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

from ghostfolio_plaid.crypto import DecryptionError, TokenCipher
from ghostfolio_plaid.db import DATABASE_DOWN
from ghostfolio_plaid.errors import BadUserInput, Conflict, FeatureDisabled, PlaidApiError, Unavailable
from ghostfolio_plaid.events import publish_item, publish_item_id
from ghostfolio_plaid.ghostfolio.accounts import ghostfolio_accounts
from ghostfolio_plaid.job_queue import QueueUnavailable, request_sync_soon
from ghostfolio_plaid.models import Account, PlaidItem, Platform, SyncTrigger
from ghostfolio_plaid.plaid_client import ExchangedItem, PlaidAccount
from ghostfolio_plaid.resolvers.inputs import ExchangeInput
from ghostfolio_plaid.resolvers.permissions import owned_item
from ghostfolio_plaid.resolvers.plaid_errors import plaid_errors
from ghostfolio_plaid.resolvers.services import Services

log = logging.getLogger(__name__)
ALREADY_GONE_AT_PLAID = frozenset({"ITEM_NOT_FOUND", "INVALID_ACCESS_TOKEN"})
UNREADABLE_TOKEN_MESSAGE = (
    "This item's access token cannot be read with the configured PLAID_ENCRYPTION_KEY (was a key removed?); "
    "disconnect the item and link the institution again"
)


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


def _cipher(services: Services) -> TokenCipher:
    if services.cipher is None:
        raise FeatureDisabled("PLAID_ENCRYPTION_KEY is not configured")
    return services.cipher


def access_token_of(services: Services, item: PlaidItem) -> str:
    """The item's Plaid access token; an unreadable one (a lost key) is the operator's problem, said clearly."""
    try:
        return _cipher(services).decrypt(item.access_token, row_id=str(item.id))
    except DecryptionError:
        log.error("access token of plaid item %s cannot be decrypted by any configured key", item.id)
        raise Conflict(UNREADABLE_TOKEN_MESSAGE) from None


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
    """Exchange, ask Plaid which accounts the item has, then write the item and its accounts atomically.

    Once the exchange succeeded a live (billed) item exists at Plaid, so every failure after it removes that
    item again, except "already linked", where the item is ours and in use.
    """
    data.validate()
    cipher = _cipher(services)
    with plaid_errors():
        exchanged = await services.plaid.exchange_public_token(data.public_token)
    if await PlaidItem.exists(item_id=exchanged.item_id):
        raise Conflict("This institution is already linked")
    try:
        with plaid_errors():
            plaid_accounts = await services.plaid.get_accounts(exchanged.access_token)
        chosen = _linked_accounts(data, plaid_accounts)
        async with ghostfolio_accounts(services.settings, user_id, chosen) as ghostfolio_ids:
            result = await _store_item(cipher, user_id, data, exchanged, chosen, ghostfolio_ids)
    except Conflict:
        raise
    except DATABASE_DOWN:
        await _remove_at_plaid(services, exchanged)
        raise Unavailable(
            "The database is unavailable, so the link was not saved and the item was removed at Plaid; "
            "link the institution again shortly"
        ) from None
    except BaseException:
        await _remove_at_plaid(services, exchanged)
        raise
    log.info("linked plaid item %s for institution %s", result.plaid_item_id, data.institution_id)
    await publish_item_id(result.plaid_item_id)
    await _start_first_sync(services, result.plaid_item_id)
    return result


def _linked_accounts(data: ExchangeInput, plaid_accounts: list[PlaidAccount]) -> list[tuple[PlaidAccount, str]]:
    """Every account Plaid reports for the item, named as the caller listed it (Plaid's name otherwise).

    The caller's list cannot add accounts: an id Plaid does not know would be a dead account whose syncs
    always succeed with nothing in them.
    """
    known = {account.account_id for account in plaid_accounts}
    for index, listed in enumerate(data.accounts):
        if listed.id not in known:
            raise BadUserInput(f"accounts[{index}].id {listed.id!r} is not an account of this item at Plaid")
    names = {listed.id: listed.name for listed in data.accounts}
    return [(account, names.get(account.account_id, account.name)) for account in plaid_accounts]


async def _store_item(
    cipher: TokenCipher,
    user_id: str,
    data: ExchangeInput,
    exchanged: ExchangedItem,
    chosen: list[tuple[PlaidAccount, str]],
    ghostfolio_ids: list[str] | None,
) -> ExchangeResult:
    """With the connector on, each account's id is its Ghostfolio account's id (the contract's accountId)."""
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
                access_token=cipher.encrypt(exchanged.access_token, row_id=str(item_row_id)),
                institution_id=data.institution_id,
                institution_name=data.institution_name,
            )
            accounts = [
                Account(
                    id=uuid.UUID(ghostfolio_ids[index]) if ghostfolio_ids else uuid.uuid4(),
                    ghostfolio_account_id=ghostfolio_ids[index] if ghostfolio_ids else None,
                    user_id=user_id,
                    name=name,
                    currency=plaid_account.currency or "USD",
                    platform=platform,
                    plaid_item=item,
                    plaid_account_id=plaid_account.account_id,
                    account_type=plaid_account.type[:64],
                    account_subtype=(plaid_account.subtype or None) and plaid_account.subtype[:64],
                    mask=(plaid_account.mask or None) and plaid_account.mask[:16],
                )
                for index, (plaid_account, name) in enumerate(chosen)
            ]
            await Account.bulk_create(accounts)
    except IntegrityError:
        raise Conflict("This institution is already linked") from None
    return ExchangeResult(plaid_item_id=item.id, accounts=accounts)


async def _remove_at_plaid(services: Services, exchanged: ExchangedItem) -> None:
    try:
        await services.plaid.remove_item(exchanged.access_token)
    except PlaidApiError as exc:
        log.error(
            "linking failed and plaid item %s could not be removed at Plaid (%s): remove it in Plaid's dashboard",
            exchanged.item_id,
            exc.error_code,
        )
    else:
        log.warning("linking failed; plaid item %s was removed at Plaid", exchanged.item_id)


async def _start_first_sync(services: Services, plaid_item_id: uuid.UUID) -> None:
    """A user who links expects data without a second call; a queue outage must not undo the link."""
    item = await PlaidItem.get(id=plaid_item_id)
    try:
        await request_sync_soon(services.queue, item, SyncTrigger.LINK)
    except (Unavailable, QueueUnavailable):
        log.warning("first sync of plaid item %s not queued (job queue unavailable); it runs later", item.id)


async def disconnect_item(services: Services, user_id: str, plaid_item_id: str) -> PlaidItem:
    """Remove the item at Plaid and mark it disconnected; its accounts and activities stay."""
    item = await owned_item(user_id, plaid_item_id)
    if item.disconnected_at is not None:
        return item
    try:
        access_token: str | None = _cipher(services).decrypt(item.access_token, row_id=str(item.id))
    except DecryptionError:
        access_token = None
        log.error(
            "plaid item %s (Plaid item_id %s) is disconnected here, but its access token is unreadable, so it "
            "could not be removed at Plaid: remove it in Plaid's dashboard",
            item.id,
            item.item_id,
        )
    if access_token is not None:
        with plaid_errors():
            try:
                await services.plaid.remove_item(access_token)
            except PlaidApiError as exc:
                if exc.error_code not in ALREADY_GONE_AT_PLAID:
                    raise
    item.disconnected_at = datetime.now(UTC)
    await item.save(update_fields=["disconnected_at", "updated_at"])
    await publish_item(item)
    log.info("disconnected plaid item %s", item.id)
    return item
