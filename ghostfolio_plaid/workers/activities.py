"""Step two of a sync: investment transactions become activities, then positions are reconciled.

Each Plaid transaction becomes at most one Order keyed by its account and its ``investment_transaction_id`` (a
unique pair), so re-imports update instead of duplicating, and one item's ids never reach another's orders:
every read, upsert and delete is limited to the item's own accounts. Writes are diffed against what is stored:
a sync that changes nothing writes nothing, and statements grow with pages, not rows.

Reconciliation: for every account and security, the position implied by the BUY and SELL orders must equal
the quantity Plaid reports. Where history is incomplete (a transfer in, or older than the window read), one
balancing opening order, dated the day before that position's first activity and priced from the holding's
cost basis when known, makes up the difference. It is keyed ``opening:<account>:<profile>`` so later syncs
update or remove it instead of adding another.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from tortoise.functions import Min, Sum

from ghostfolio_plaid.models import Account, Order, OrderType, SymbolProfile
from ghostfolio_plaid.workers.fetch import Json, PlaidSnapshot
from ghostfolio_plaid.workers.mapping import Effect, classify
from ghostfolio_plaid.workers.portfolio import currency_of, is_cash, optional_q, q

OPENING_PREFIX = "opening:"
UPDATED_FIELDS = ("symbol_profile_id", "type", "date", "quantity", "unit_price", "fee", "currency")
"""What an upsert may change; never the account, which is part of the key."""
BATCH = 1000


@dataclass
class ActivityCounts:
    created: int = 0
    updated: int = 0
    removed: int = 0
    skipped: int = 0
    cancelled: set[str] = field(default_factory=set)


def day_start(value: date) -> datetime:
    return datetime.combine(value, time(0), tzinfo=UTC)


def order_fields(
    txn: Json, account: Account, security: Json | None, profiles: dict[str, SymbolProfile]
) -> dict[str, Any] | None:
    """The order a transaction becomes, or None when it moves cash only or is not understood."""
    effect, order_type = classify(str(txn.get("type")), txn.get("subtype"))
    currency = currency_of(txn, account.currency)
    quantity = q(abs(Decimal(str(txn.get("quantity") or 0))))
    amount = q(abs(Decimal(str(txn.get("amount") or 0))))
    fees = q(abs(Decimal(str(txn.get("fees") or 0))))
    price = q(abs(Decimal(str(txn.get("price") or 0))))
    holds_position = security is not None and not is_cash(security)
    if effect == Effect.POSITION_TRANSFER:
        if not holds_position or quantity == 0:
            return None
        order_type = OrderType.BUY if Decimal(str(txn["quantity"])) > 0 else OrderType.SELL
    elif effect != Effect.ACTIVITY or order_type is None:
        return None
    if order_type in (OrderType.BUY, OrderType.SELL):
        if not holds_position:
            return None
        values = {"quantity": quantity, "unit_price": price, "fee": fees}
    elif order_type == OrderType.FEE:
        values = {"quantity": q(0), "unit_price": q(0), "fee": amount}
    else:
        values = {"quantity": q(1), "unit_price": amount, "fee": fees}
    profile = profiles[txn["security_id"]] if holds_position else profiles[f"cash:{currency}"]
    return {
        "account_id": str(account.id),
        "symbol_profile_id": str(profile.id),
        "type": order_type,
        "date": day_start(date.fromisoformat(txn["date"])),
        "currency": currency,
        **values,
    }


def _differs(order: Order, fields: dict[str, Any]) -> bool:
    return any(str(getattr(order, name)) != str(value) for name, value in fields.items())


OrderKey = tuple[str, str]
"""(account id, Plaid transaction id): an order's identity. Plaid's id alone is never trusted across items."""


def _key(order: Order) -> OrderKey:
    return str(order.account_id), str(order.plaid_transaction_id)


def _wanted_orders(
    linked: dict[str, Account], snapshot: PlaidSnapshot, profiles: dict[str, SymbolProfile], counts: ActivityCounts
) -> dict[OrderKey, dict[str, Any]]:
    """The orders the snapshot's transactions become, less those a cancel names (noted in ``counts``)."""
    wanted: dict[OrderKey, dict[str, Any]] = {}
    for txn in snapshot.transactions:
        account = linked.get(txn["account_id"])
        if account is None:
            continue
        if txn.get("type") == "cancel":
            if txn.get("cancel_transaction_id"):
                counts.cancelled.add(txn["cancel_transaction_id"])
            continue
        security = snapshot.securities.get(txn["security_id"]) if txn.get("security_id") else None
        fields = order_fields(txn, account, security, profiles)
        if fields is None:
            counts.skipped += classify(str(txn.get("type")), txn.get("subtype"))[0] == Effect.UNKNOWN
            continue
        wanted[(str(account.id), txn["investment_transaction_id"])] = fields
    return {key: fields for key, fields in wanted.items() if key[1] not in counts.cancelled}


async def write_activities(
    user_id: str, linked: dict[str, Account], snapshot: PlaidSnapshot, profiles: dict[str, SymbolProfile]
) -> ActivityCounts:
    """Make the item's orders in the snapshot's window equal Plaid's transactions, then reconcile.

    Every read and write is limited to the item's own accounts (``linked``); the snapshot is complete (see
    ``fetch``), so an order in the window that Plaid no longer reports may be removed.
    """
    counts = ActivityCounts()
    wanted = _wanted_orders(linked, snapshot, profiles, counts)
    account_ids = [str(a.id) for a in linked.values()]
    existing = {
        _key(o): o
        for o in await Order.filter(
            account_id__in=account_ids,
            date__gte=day_start(snapshot.start),
            date__lte=day_start(snapshot.end),
        ).exclude(plaid_transaction_id__startswith=OPENING_PREFIX)
    }
    await _apply(user_id, existing, wanted, counts)
    await _remove_cancelled_outside(account_ids, existing, counts)
    await reconcile(user_id, linked, snapshot, profiles, counts)
    return counts


async def _remove_cancelled_outside(
    account_ids: list[str], existing: dict[OrderKey, Order], counts: ActivityCounts
) -> None:
    """A cancel may name a transaction older than the window read: remove it, from this item's accounts only.

    Looked up first, so a sync whose cancels were all applied long ago writes nothing.
    """
    inside = {plaid_id for _, plaid_id in existing}
    outside = sorted(key for key in counts.cancelled if key not in inside)
    stored: list[Any] = []
    for start in range(0, len(outside), BATCH):
        stored += await Order.filter(
            account_id__in=account_ids, plaid_transaction_id__in=outside[start : start + BATCH]
        ).values_list("id", flat=True)
    counts.removed += await _delete_orders(stored)


async def _apply(
    user_id: str, existing: dict[OrderKey, Order], wanted: dict[OrderKey, dict[str, Any]], counts: ActivityCounts
) -> None:
    """Make the stored orders (``existing``) equal ``wanted``, writing only what differs."""
    upserts: list[Order] = []
    for key, fields in wanted.items():
        order = existing.get(key)
        if order is None:
            upserts.append(Order(id=uuid.uuid4(), user_id=user_id, plaid_transaction_id=key[1], **fields))
            counts.created += 1
        elif _differs(order, fields):
            for name, value in fields.items():
                setattr(order, name, value)
            upserts.append(order)
            counts.updated += 1
    if upserts:
        await Order.bulk_create(
            upserts,
            on_conflict=["account_id", "plaid_transaction_id"],
            update_fields=[*UPDATED_FIELDS, "updated_at"],
            batch_size=BATCH,
        )
    counts.removed += await _delete_orders([order.id for key, order in existing.items() if key not in wanted])


async def _delete_orders(ids: list[Any]) -> int:
    """Delete by primary key: the rows were read from this item's accounts, so nothing else can match."""
    removed = 0
    for start in range(0, len(ids), BATCH):
        removed += await Order.filter(id__in=ids[start : start + BATCH]).delete()
    return removed


async def reconcile(
    user_id: str,
    linked: dict[str, Account],
    snapshot: PlaidSnapshot,
    profiles: dict[str, SymbolProfile],
    counts: ActivityCounts,
) -> None:
    account_ids = [str(a.id) for a in linked.values()]
    implied: dict[tuple[str, str], Decimal] = {}
    first: dict[tuple[str, str], datetime] = {}
    for order_type, sign in ((OrderType.BUY, 1), (OrderType.SELL, -1)):
        rows = (
            await Order.filter(account_id__in=account_ids, type=order_type)
            .exclude(plaid_transaction_id__startswith=OPENING_PREFIX)
            .annotate(total=Sum("quantity"), first=Min("date"))
            .group_by("account_id", "symbol_profile_id")
            .values("account_id", "symbol_profile_id", "total", "first")
        )
        for row in rows:
            key = (str(row["account_id"]), str(row["symbol_profile_id"]))
            implied[key] = implied.get(key, Decimal(0)) + sign * q(row["total"])
            first[key] = min(first.get(key, row["first"]), row["first"])
    held: dict[tuple[str, str], tuple[Decimal, Json | None]] = {}
    for holding in snapshot.holdings:
        account = linked.get(holding["account_id"])
        security = snapshot.securities.get(holding["security_id"])
        if account is None or security is None or is_cash(security):
            continue
        key = (str(account.id), str(profiles[holding["security_id"]].id))
        quantity, _ = held.get(key, (Decimal(0), holding))
        held[key] = (quantity + q(holding["quantity"]), holding)
    existing = {
        _key(o): o
        for o in await Order.filter(account_id__in=account_ids, plaid_transaction_id__startswith=OPENING_PREFIX)
    }
    currencies = {str(a.id): a.currency for a in linked.values()}
    openings: dict[OrderKey, dict[str, Any]] = {}
    for key in set(implied) | set(held):
        quantity, reported = held.get(key, (Decimal(0), None))
        difference = quantity - implied.get(key, Decimal(0))
        if difference == 0:
            continue
        account_id, profile_id = key
        openings[(account_id, f"{OPENING_PREFIX}{account_id}:{profile_id}")] = {
            "account_id": account_id,
            "symbol_profile_id": profile_id,
            "type": OrderType.BUY if difference > 0 else OrderType.SELL,
            "date": (first.get(key) or day_start(snapshot.start)) - timedelta(days=1),
            "quantity": q(abs(difference)),
            "unit_price": _opening_price(reported, quantity),
            "fee": q(0),
            "currency": currency_of(reported, currencies[account_id]) if reported else currencies[account_id],
        }
    await _apply(user_id, existing, openings, counts)


def _opening_price(holding: Json | None, quantity: Decimal) -> Decimal:
    if holding is None:
        return q(0)
    cost_basis = optional_q(holding.get("cost_basis"))
    if cost_basis is not None and quantity > 0:
        return q(cost_basis / quantity)
    return q(holding.get("institution_price") or 0)
