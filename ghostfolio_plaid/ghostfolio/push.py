"""Delivering one item into Ghostfolio. The outbox is the difference between our rows and the ledger.

A push (one item at a time, under its lock) creates the accounts Ghostfolio lacks, chooses where new
securities are priced, deletes vanished activities, updates revised ones, imports new ones in chunks, records
each account's latest balance, and sends new prices of MANUAL securities. Each step writes the ledger as soon as
Ghostfolio confirms it, so an interruption anywhere loses nothing and doubles nothing: an import re-sent after
a crash is skipped by Ghostfolio as a duplicate, and its activity is found again by its unique comment.
"""

from __future__ import annotations

import logging
import re
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from tortoise.expressions import F

from ghostfolio_plaid.errors import GhostfolioRefused, GhostfolioUnavailable
from ghostfolio_plaid.events import publish_item
from ghostfolio_plaid.ghostfolio.client import GhostfolioClient, Json
from ghostfolio_plaid.ghostfolio.payloads import (
    CASH,
    COMMENT_PREFIX,
    MANUAL,
    ORDER_COLUMNS,
    Listing,
    OrderRow,
    activity,
    asset_profile,
    is_priceable,
    manual_listing,
    number,
    payload_hash,
    timestamp,
)
from ghostfolio_plaid.models import (
    Account,
    AccountBalance,
    GhostfolioActivity,
    GhostfolioPush,
    GhostfolioSymbol,
    Holding,
    MarketData,
    Order,
    PlaidItem,
    SymbolProfile,
)
from ghostfolio_plaid.workers.mapping import DATA_SOURCE

log = logging.getLogger(__name__)
Key = tuple[str, str]
"""(our account id, activity key): the key is the Plaid transaction id or an opening position's key."""
REFUSED_INDEX = re.compile(r"activit(?:ies\.(\d+)|y)\.(?:symbol|dataSource)")
IMPORT_CAP = re.compile(r"Too many activities \((\d+) at most\)")


@dataclass
class PushCounts:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    balances: int = 0


@dataclass
class Delivery:
    client: GhostfolioClient
    item: PlaidItem
    data_source: str
    batch: int
    counts: PushCounts = field(default_factory=PushCounts)
    accounts: dict[str, str] = field(default_factory=dict)
    """Our account id -> Ghostfolio's."""
    remote: dict[Key, str] | None = None

    @property
    def user_id(self) -> str:
        return str(self.item.user_id)


async def push_item(
    client: GhostfolioClient, item_id: str, *, data_source: str, batch: int, replay: bool = False
) -> GhostfolioPush:
    """One delivery run; raises ``GhostfolioUnavailable`` (after recording it) so the caller retries later."""
    item = await PlaidItem.get(id=item_id)
    run = await GhostfolioPush.create(id=uuid.uuid4(), plaid_item_id=item.id, outcome="running")
    delivery = Delivery(client, item, data_source, batch)
    sent_before = client.requests
    try:
        await _deliver(delivery, replay=replay)
    except GhostfolioUnavailable as exc:
        await _finish(run, delivery, client.requests - sent_before, "retrying", str(exc))
        await PlaidItem.filter(id=item.id).update(
            ghostfolio_attempts=F("ghostfolio_attempts") + 1, ghostfolio_error=str(exc)[:512]
        )
        await publish_item(item)
        raise
    except GhostfolioRefused as exc:
        log.warning("Ghostfolio refused the push of item %s: %s", item.id, exc.message)
        await _finish(run, delivery, client.requests - sent_before, "refused", str(exc))
        await PlaidItem.filter(id=item.id).update(ghostfolio_attempts=0, ghostfolio_error=str(exc)[:512])
        await publish_item(item)
        return run
    await _finish(run, delivery, client.requests - sent_before, "succeeded", None)
    await PlaidItem.filter(id=item.id).update(
        ghostfolio_attempts=0, ghostfolio_error=None, ghostfolio_pending=0, ghostfolio_pushed_at=datetime.now(UTC)
    )
    await publish_item(item)
    return run


async def _finish(run: GhostfolioPush, delivery: Delivery, requests: int, outcome: str, error: str | None) -> None:
    counts = delivery.counts
    run.outcome, run.error, run.requests = outcome, error and error[:512], requests
    run.created, run.updated, run.deleted, run.balances = (
        counts.created,
        counts.updated,
        counts.deleted,
        counts.balances,
    )
    run.finished_at = datetime.now(UTC)
    await run.save()
    log.info(
        "pushed item %s to Ghostfolio: %s, %d created, %d updated, %d deleted, %d balances, %d requests",
        delivery.item.id,
        outcome,
        counts.created,
        counts.updated,
        counts.deleted,
        counts.balances,
        requests,
    )


async def pending_changes(item: PlaidItem) -> int:
    """How many activities differ between our rows and the ledger (without asking Ghostfolio)."""
    accounts = await Account.filter(plaid_item_id=item.id)
    orders = await Order.filter(account_id__in=[a.id for a in accounts]).values_list(
        "account_id", "plaid_transaction_id"
    )
    wanted = {(str(account), str(key)) for account, key in orders}
    wanted |= {key for key, _ in await _foreign_cash_holdings(accounts)}
    stored = {
        (str(account), str(key))
        for account, key in await GhostfolioActivity.filter(plaid_item_id=item.id).values_list(
            "account_id", "activity_key"
        )
    }
    return len(wanted ^ stored)


async def _deliver(delivery: Delivery, *, replay: bool) -> None:
    accounts = await _accounts(delivery, replay=replay)
    orders = [
        OrderRow(*row)
        for row in await Order.filter(account_id__in=[a.id for a in accounts]).values_list(*ORDER_COLUMNS)
    ]
    profiles = {str(p.id): p for p in await SymbolProfile.filter(id__in={o.symbol_profile_id for o in orders})}
    listings = await _listings(delivery, profiles)
    desired: dict[Key, Json] = {}
    profile_of: dict[Key, SymbolProfile] = {}
    for order in orders:
        key = (str(order.account_id), str(order.plaid_transaction_id))
        profile = profiles[str(order.symbol_profile_id)]
        desired[key] = activity(order, delivery.accounts[key[0]], listings[str(profile.id)])
        profile_of[key] = profile
    for key, payload, profile in await _foreign_cash(delivery, accounts):
        listings.setdefault(str(profile.id), manual_listing(profile, delivery.user_id))
        desired[key], profile_of[key] = payload, profile
    ledger = {
        (str(r.account_id), r.activity_key): r for r in await GhostfolioActivity.filter(plaid_item_id=delivery.item.id)
    }
    if replay:
        await _forget_what_ghostfolio_lost(delivery, ledger)
    await _delete(delivery, [row for key, row in ledger.items() if key not in desired])
    creates = [key for key in desired if key not in ledger]
    creates += await _update(delivery, {key: ledger[key] for key in desired if key in ledger}, desired)
    sent = await _create(delivery, creates, desired, profile_of, listings)
    await _balances(delivery, accounts)
    await _prices(delivery, {k: p for k, p in profile_of.items() if listings[str(p.id)].manual}, listings, sent)


async def _foreign_cash_holdings(accounts: list[Account]) -> list[tuple[Key, Holding]]:
    """Cash in another currency than its account's, keyed ``cash:<currency>`` in its account."""
    by_id = {str(a.id): a for a in accounts}
    found = []
    for holding in await Holding.filter(
        account_id__in=list(by_id), symbol_profile__asset_sub_class=CASH
    ).select_related("symbol_profile"):
        account = by_id[str(holding.account_id)]
        if holding.currency != account.currency and holding.quantity > 0:
            found.append(((str(account.id), f"cash:{holding.currency}"), holding))
    return found


async def _foreign_cash(delivery: Delivery, accounts: list[Account]) -> list[tuple[Key, Json, SymbolProfile]]:
    """Ghostfolio's balance is in the account's currency only, so cash in another currency is a MANUAL cash
    position (a BUY at 1 in its currency, dated when the account was linked), updated in place when the amount
    changes. Never dropped, never converted."""
    created = {str(a.id): a.created_at.date() for a in accounts}
    positions = []
    for key, holding in await _foreign_cash_holdings(accounts):
        profile: SymbolProfile = holding.symbol_profile
        payload = {
            "accountId": delivery.accounts[key[0]],
            "comment": COMMENT_PREFIX + key[1],
            "currency": holding.currency,
            "dataSource": MANUAL,
            "date": timestamp(created[key[0]]),
            "fee": 0,
            "quantity": number(holding.quantity),
            "symbol": manual_listing(profile, delivery.user_id).symbol,
            "type": "BUY",
            "unitPrice": 1,
        }
        positions.append((key, payload, profile))
    return positions


async def _accounts(delivery: Delivery, *, replay: bool) -> list[Account]:
    accounts = await Account.filter(plaid_item_id=delivery.item.id).order_by("created_at", "id")
    if replay:
        present = {str(a["id"]) for a in await delivery.client.list_accounts(delivery.user_id)}
        for account in accounts:
            if account.ghostfolio_account_id not in present:
                account.ghostfolio_account_id = None
                account.ghostfolio_balance = account.ghostfolio_balance_date = None
    for account in accounts:
        if account.ghostfolio_account_id is None:
            account.ghostfolio_account_id = await delivery.client.create_account(
                delivery.user_id, name=account.name, currency=account.currency
            )
            await account.save(
                update_fields=["ghostfolio_account_id", "ghostfolio_balance", "ghostfolio_balance_date", "updated_at"]
            )
            await GhostfolioActivity.filter(account_id=account.id).delete()
        delivery.accounts[str(account.id)] = account.ghostfolio_account_id
    return accounts


async def _listings(delivery: Delivery, profiles: dict[str, SymbolProfile]) -> dict[str, Listing]:
    """Where each security is priced: chosen once per security (a dry-run import asks the instance) and kept."""
    chosen = {str(r.symbol_profile_id): r for r in await GhostfolioSymbol.filter(symbol_profile_id__in=list(profiles))}
    new = [p for pid, p in profiles.items() if pid not in chosen]
    if new:
        resolvable = await _resolvable(delivery, [p for p in new if is_priceable(p)])
        rows = [
            GhostfolioSymbol(
                id=uuid.uuid4(),
                symbol_profile_id=p.id,
                data_source=delivery.data_source if str(p.id) in resolvable else MANUAL,
                symbol=p.symbol if str(p.id) in resolvable else "",
            )
            for p in new
        ]
        await GhostfolioSymbol.bulk_create(rows, ignore_conflicts=True)
        chosen.update(
            {
                str(r.symbol_profile_id): r
                for r in await GhostfolioSymbol.filter(symbol_profile_id__in=[p.id for p in new])
            }
        )
    return {
        pid: Listing(row.data_source, row.symbol)
        if row.data_source != MANUAL
        else manual_listing(profiles[pid], delivery.user_id)
        for pid, row in chosen.items()
    }


async def _resolvable(delivery: Delivery, candidates: list[SymbolProfile]) -> set[str]:
    """Ask the instance (dry-run imports) which tickers its data provider knows; each refusal names the first
    symbol it could not resolve, which is set aside (MANUAL) before asking again."""
    if candidates and not await delivery.client.data_provider_answers(delivery.user_id, delivery.data_source):
        log.warning("Ghostfolio's %s data provider does not answer: new securities are MANUAL", delivery.data_source)
        return set()
    resolved: set[str] = set()
    remaining = list(candidates)
    account = next(iter(delivery.accounts.values()), None)
    today = timestamp(datetime.now(UTC).date())
    while remaining:
        chunk = remaining[: delivery.batch]
        probes = [
            {
                **({"accountId": account} if account else {}),
                "comment": COMMENT_PREFIX + "probe",
                "currency": p.currency or "USD",
                "dataSource": delivery.data_source,
                "date": today,
                "fee": 0,
                "quantity": 1,
                "symbol": p.symbol,
                "type": "BUY",
                "unitPrice": 1,
            }
            for p in chunk
        ]
        try:
            await delivery.client.probe_import(delivery.user_id, probes)
        except GhostfolioRefused as exc:
            index = _refused_index(exc)
            if index is None or index >= len(chunk):
                raise
            log.info("Ghostfolio cannot price %s at %s: MANUAL", chunk[index].symbol, delivery.data_source)
            resolved.update(str(p.id) for p in chunk[:index])  # checked in order: the ones before it resolved
            remaining = remaining[index + 1 :]
            continue
        resolved.update(str(p.id) for p in chunk)
        remaining = remaining[len(chunk) :]
    return resolved


def _refused_index(exc: GhostfolioRefused) -> int | None:
    match = REFUSED_INDEX.search(exc.message)
    if match is None:
        return None
    return int(match.group(1) or 0)


async def _forget_what_ghostfolio_lost(delivery: Delivery, ledger: dict[Key, GhostfolioActivity]) -> None:
    """Replay: ledger entries whose activity someone deleted in Ghostfolio are dropped, so they are sent again."""
    remote_ids = set((await _remote(delivery)).values())
    lost = [key for key, row in ledger.items() if row.ghostfolio_id not in remote_ids]
    if lost:
        await GhostfolioActivity.filter(id__in=[ledger[key].id for key in lost]).delete()
        for key in lost:
            del ledger[key]


async def _remote(delivery: Delivery) -> dict[Key, str]:
    """What Ghostfolio holds in the item's accounts, by our key (read once per push, when needed)."""
    if delivery.remote is None:
        ours = {gf: own for own, gf in delivery.accounts.items()}
        found: dict[Key, str] = {}
        for entry in await delivery.client.list_activities(delivery.user_id, list(ours)):
            comment = entry.get("comment") or ""
            account = ours.get(str(entry.get("accountId")))
            if account is not None and comment.startswith(COMMENT_PREFIX):
                found[(account, comment[len(COMMENT_PREFIX) :])] = str(entry["id"])
        delivery.remote = found
    return delivery.remote


async def _delete(delivery: Delivery, rows: list[GhostfolioActivity]) -> None:
    for row in rows:
        try:
            await delivery.client.delete_activity(delivery.user_id, row.ghostfolio_id)
        except GhostfolioRefused as exc:
            if exc.status != 404:
                raise
        await row.delete()
        delivery.counts.deleted += 1


async def _update(delivery: Delivery, stored: dict[Key, GhostfolioActivity], desired: dict[Key, Json]) -> list[Key]:
    """Revised activities are updated in place; ones deleted in Ghostfolio meanwhile are returned to re-create."""
    gone: list[Key] = []
    for key, row in stored.items():
        wanted = payload_hash(desired[key])
        if row.payload_hash == wanted:
            continue
        try:
            await delivery.client.update_activity(delivery.user_id, row.ghostfolio_id, desired[key])
        except GhostfolioRefused as exc:
            if exc.status != 404:
                raise
            await row.delete()
            gone.append(key)
            continue
        row.payload_hash = wanted
        await row.save(update_fields=["payload_hash", "updated_at"])
        delivery.counts.updated += 1
    return gone


async def _create(
    delivery: Delivery,
    keys: list[Key],
    desired: dict[Key, Json],
    profile_of: dict[Key, SymbolProfile],
    listings: dict[str, Listing],
) -> set[str]:
    """Import new activities in chunks; each MANUAL security's profile and prices go once, with its first chunk.
    Answers the MANUAL profiles whose prices went along."""
    manual = {str(p.id): p for k in keys if listings[str((p := profile_of[k]).id)].manual}
    prices = await _prices_by_symbol({p.symbol for p in manual.values()})
    sent_profiles: set[str] = set()
    start = 0
    while start < len(keys):
        chunk = keys[start : start + delivery.batch]
        first_seen = {str(profile_of[k].id) for k in chunk} & manual.keys() - sent_profiles
        bodies = [asset_profile(manual[pid], listings[pid], prices.get(manual[pid].symbol, [])) for pid in first_seen]
        try:
            created = await delivery.client.import_activities(delivery.user_id, [desired[k] for k in chunk], bodies)
        except GhostfolioRefused as exc:
            cap = IMPORT_CAP.search(exc.message)
            if cap is None or int(cap.group(1)) >= len(chunk) or int(cap.group(1)) < 1:
                raise
            delivery.batch = int(cap.group(1))
            continue
        await _record_created(delivery, chunk, desired, created)
        sent_profiles.update(first_seen)
        start += len(chunk)
    return sent_profiles


async def _prices_by_symbol(symbols: set[str], since: datetime | None = None) -> dict[str, list[MarketData]]:
    """Our market prices of these symbols (those stored after ``since``), oldest first, in one query."""
    query = MarketData.filter(data_source=DATA_SOURCE, symbol__in=list(symbols))
    if since is not None:
        query = query.filter(created_at__gt=since)
    grouped: dict[str, list[MarketData]] = {}
    for row in await query.order_by("date"):
        grouped.setdefault(row.symbol, []).append(row)
    return grouped


async def _record_created(delivery: Delivery, chunk: list[Key], desired: dict[Key, Json], created: list[Json]) -> None:
    ours = {gf: own for own, gf in delivery.accounts.items()}
    ids: dict[Key, str] = {}
    for entry in created:
        comment = str(entry.get("comment") or "")
        account = ours.get(str(entry.get("accountId")))
        if account is not None and comment.startswith(COMMENT_PREFIX):
            ids[(account, comment[len(COMMENT_PREFIX) :])] = str(entry["id"])
    if any(key not in ids for key in chunk):
        delivery.remote = None
        remote = await _remote(delivery)
        ids.update({key: remote[key] for key in chunk if key not in ids and key in remote})
    rows = [
        GhostfolioActivity(
            id=uuid.uuid4(),
            plaid_item_id=delivery.item.id,
            account_id=key[0],
            activity_key=key[1],
            ghostfolio_id=ids[key],
            payload_hash=payload_hash(desired[key]),
        )
        for key in chunk
        if key in ids
    ]
    missing = len(chunk) - len(rows)
    if missing:
        log.warning("%d activities of item %s were not found in Ghostfolio after import", missing, delivery.item.id)
    await GhostfolioActivity.bulk_create(
        rows, on_conflict=["account_id", "activity_key"], update_fields=["ghostfolio_id", "payload_hash", "updated_at"]
    )
    delivery.counts.created += len(rows)


async def _balances(delivery: Delivery, accounts: list[Account]) -> None:
    """Each account's latest balance (its cash), once per day and value."""
    for account in accounts:
        latest = await AccountBalance.filter(account_id=account.id).order_by("-date").first()
        if latest is None or (account.ghostfolio_balance, account.ghostfolio_balance_date) == (
            latest.value,
            latest.date,
        ):
            continue
        await delivery.client.record_balance(
            delivery.user_id, str(account.ghostfolio_account_id), latest.value, latest.date
        )
        account.ghostfolio_balance, account.ghostfolio_balance_date = latest.value, latest.date
        await account.save(update_fields=["ghostfolio_balance", "ghostfolio_balance_date", "updated_at"])
        delivery.counts.balances += 1


async def _prices(
    delivery: Delivery, manual: dict[Key, SymbolProfile], listings: dict[str, Listing], sent: set[str]
) -> None:
    """New prices of MANUAL securities whose activities did not change: an import of asset profiles only."""
    since = delivery.item.ghostfolio_pushed_at
    if since is None:
        return
    pending = {pid: p for pid, p in {str(p.id): p for p in manual.values()}.items() if pid not in sent}
    prices = await _prices_by_symbol({p.symbol for p in pending.values()}, since)
    bodies: list[Any] = [
        asset_profile(profile, listings[pid], prices[profile.symbol])
        for pid, profile in pending.items()
        if profile.symbol in prices
    ]
    if bodies:
        await delivery.client.import_activities(delivery.user_id, [], bodies)
