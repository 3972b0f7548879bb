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

What each transaction becomes, how quotes are scaled and how transfer legs pair up and keep their cost are the
rules of ``mapping`` (its docstring); this module applies them.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

from tortoise.functions import Min, Sum

from ghostfolio_plaid.models import Account, Order, OrderType, SymbolProfile
from ghostfolio_plaid.workers.fetch import Json, PlaidSnapshot
from ghostfolio_plaid.workers.mapping import (
    PAIR_DAYS,
    PAIRED_ACROSS_ACCOUNTS,
    PAIRED_WITHIN_ACCOUNT,
    Effect,
    is_option,
    quote_scale,
    rule_for,
    transaction_total,
)
from ghostfolio_plaid.workers.portfolio import Reported, is_cash, q, reported_holding, transaction_currency

OPENING_PREFIX = "opening:"
UPDATED_FIELDS = ("symbol_profile_id", "type", "date", "quantity", "unit_price", "fee", "currency")
"""What an upsert may change; never the account, which is part of the key."""
BATCH = 1000
TRADES = (OrderType.BUY, OrderType.SELL)


@dataclass
class ActivityCounts:
    created: int = 0
    updated: int = 0
    removed: int = 0
    skipped: int = 0
    cancelled: set[str] = field(default_factory=set)


def day_start(value: date) -> datetime:
    return datetime.combine(value, time(0), tzinfo=UTC)


def _decimal(value: Any) -> Decimal:
    return Decimal(str(value or 0))


def order_fields(
    txn: Json,
    account: Account,
    security: Json | None,
    profiles: dict[str, SymbolProfile],
    currencies: dict[str, str] | None = None,
) -> dict[str, Any] | None:
    """The order a transaction becomes (``mapping.RULES``), or None when it moves cash only or is not understood.

    Trades are stored in the units their profile counts: ``mapping.quote_scale`` compares Plaid's amount with
    quantity x price (a percent-of-par bond, an option counted in contracts or priced per contract).
    """
    rule = rule_for(str(txn.get("type")), txn.get("subtype"))
    currency = transaction_currency(txn, account.currency, currencies or {})
    raw_quantity = _decimal(txn.get("quantity"))
    price = abs(_decimal(txn.get("price")))
    holds_position = security is not None and not is_cash(security)
    order_type = rule.order_type
    if rule.effect in (Effect.POSITION, Effect.FREE_UNITS):
        if not holds_position or raw_quantity == 0:
            return None
        order_type = OrderType.BUY if raw_quantity > 0 else OrderType.SELL
        if rule.effect == Effect.FREE_UNITS:
            price = Decimal(0)
    elif rule.effect != Effect.ACTIVITY or order_type is None:
        return None
    fees = q(abs(_decimal(txn.get("fees"))))
    if order_type in TRADES:
        if not holds_position:
            return None
        scale = quote_scale(raw_quantity, price, transaction_total(txn), is_option=is_option(security))
        values = {
            "quantity": q(abs(raw_quantity) * scale.quantity),
            "unit_price": q(price * scale.price),
            "fee": fees,
        }
    elif order_type == OrderType.FEE:
        values = {"quantity": q(0), "unit_price": q(0), "fee": q(abs(_decimal(txn.get("amount"))))}
    else:
        values = {"quantity": q(1), "unit_price": q(abs(_decimal(txn.get("amount")))), "fee": fees}
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


@dataclass(frozen=True)
class Leg:
    """One half of a possible transfer or merger: its order, where it happens and which way units move."""

    key: OrderKey
    kind: tuple[str, str]
    day: date

    def fields(self, wanted: dict[OrderKey, dict[str, Any]]) -> dict[str, Any]:
        return wanted[self.key]


def _wanted_orders(
    linked: dict[str, Account],
    snapshot: PlaidSnapshot,
    profiles: dict[str, SymbolProfile],
    counts: ActivityCounts,
    currencies: dict[str, str],
    legs: list[Leg],
) -> dict[OrderKey, dict[str, Any]]:
    """The orders the snapshot's transactions become, less those a cancel names (noted in ``counts``).

    Transfer and merger halves that may pair up are collected in ``legs``.
    """
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
        fields = order_fields(txn, account, security, profiles, currencies)
        if fields is None:
            counts.skipped += rule_for(str(txn.get("type")), txn.get("subtype")).effect == Effect.UNKNOWN
            continue
        key = (str(account.id), txn["investment_transaction_id"])
        wanted[key] = fields
        kind = (str(txn.get("type")), str(txn.get("subtype")))
        if kind in PAIRED_ACROSS_ACCOUNTS or kind in PAIRED_WITHIN_ACCOUNT:
            legs.append(Leg(key, kind, date.fromisoformat(txn["date"])))
    kept = {key: fields for key, fields in wanted.items() if key[1] not in counts.cancelled}
    legs[:] = [leg for leg in legs if leg.key in kept]
    return kept


def pair_legs(legs: list[Leg], wanted: dict[OrderKey, dict[str, Any]]) -> list[tuple[Leg, Leg]]:
    """(leaving, arriving) halves of one move: see the module docstring of ``mapping`` for the rules."""
    leaving = sorted((leg for leg in legs if leg.fields(wanted)["type"] == OrderType.SELL), key=lambda g: g.day)
    arriving = [leg for leg in legs if leg.fields(wanted)["type"] == OrderType.BUY]
    pairs: list[tuple[Leg, Leg]] = []
    for out in leaving:
        candidates = [leg for leg in arriving if _pairs_with(out, leg, wanted)]
        if candidates:
            match = min(candidates, key=lambda leg: (abs((leg.day - out.day).days), leg.key))
            arriving.remove(match)
            pairs.append((out, match))
    return pairs


def _pairs_with(out: Leg, into: Leg, wanted: dict[OrderKey, dict[str, Any]]) -> bool:
    if out.kind != into.kind or abs((into.day - out.day).days) > PAIR_DAYS:
        return False
    left, right = out.fields(wanted), into.fields(wanted)
    if out.kind in PAIRED_ACROSS_ACCOUNTS:
        return bool(
            left["account_id"] != right["account_id"]
            and left["symbol_profile_id"] == right["symbol_profile_id"]
            and left["quantity"] == right["quantity"]
        )
    return bool(left["account_id"] == right["account_id"] and left["symbol_profile_id"] != right["symbol_profile_id"])


async def price_paired_legs(
    pairs: list[tuple[Leg, Leg]], wanted: dict[OrderKey, dict[str, Any]], snapshot: PlaidSnapshot
) -> None:
    """Both halves of each pair at the leaving shares' average cost: the arriving shares carry their cost.

    One read of the stored trades of the leaving positions (outside the window read, or openings); the window's
    own trades come from ``wanted``. Pairs are priced in date order, so a chain A -> B -> C carries A's cost.
    """
    if not pairs:
        return
    positions = {(out.fields(wanted)["account_id"], out.fields(wanted)["symbol_profile_id"]) for out, _ in pairs}
    history: dict[tuple[str, str], list[dict[str, Any]]] = {position: [] for position in positions}
    window = (day_start(snapshot.start), day_start(snapshot.end))
    for row in await Order.filter(
        account_id__in=sorted({a for a, _ in positions}),
        symbol_profile_id__in=sorted({p for _, p in positions}),
        type__in=list(TRADES),
    ).values("plaid_transaction_id", "account_id", "symbol_profile_id", "type", "date", "quantity", "unit_price"):
        position = (str(row["account_id"]), str(row["symbol_profile_id"]))
        opening = str(row["plaid_transaction_id"]).startswith(OPENING_PREFIX)
        if position in history and (opening or not window[0] <= row["date"] <= window[1]):
            history[position].append(row)
    for fields in wanted.values():
        position = (fields["account_id"], fields["symbol_profile_id"])
        if position in history and fields["type"] in TRADES:
            history[position].append(fields)
    for out, into in sorted(pairs, key=lambda pair: pair[0].day):
        left, right = out.fields(wanted), into.fields(wanted)
        cost = average_cost(history[(left["account_id"], left["symbol_profile_id"])], left)
        if cost is None:
            continue
        left["unit_price"] = q(cost)
        right["unit_price"] = q(cost * left["quantity"] / right["quantity"]) if right["quantity"] else q(0)


def _keep_cost_of_unpaired(
    legs: list[Leg],
    pairs: list[tuple[Leg, Leg]],
    wanted: dict[OrderKey, dict[str, Any]],
    existing: dict[OrderKey, Order],
) -> None:
    """A leg whose other half lies before the window read (a resync) no longer pairs up: as long as Plaid reports
    it unchanged, it keeps the cost an earlier sync gave it instead of falling back to the day's price."""
    paired = {leg.key for pair in pairs for leg in pair}
    for leg in legs:
        stored = existing.get(leg.key)
        if leg.key in paired or stored is None:
            continue
        fields = leg.fields(wanted)
        if (stored.type, stored.quantity) == (fields["type"], fields["quantity"]):
            fields["unit_price"] = stored.unit_price


def average_cost(trades: Iterable[dict[str, Any]], leg: dict[str, Any]) -> Decimal | None:
    """The average unit cost (fees aside, as Ghostfolio's investment) of the position just before ``leg``."""
    quantity = cost = Decimal(0)
    before = [t for t in trades if t is not leg and t["date"] <= leg["date"]]
    for trade in sorted(before, key=lambda t: (t["date"], t["type"] != OrderType.BUY)):
        if trade["type"] == OrderType.BUY:
            quantity += trade["quantity"]
            cost += trade["quantity"] * trade["unit_price"]
        elif quantity > 0:
            sold = min(trade["quantity"], quantity)
            cost -= cost * sold / quantity
            quantity -= trade["quantity"]
        else:
            quantity -= trade["quantity"]
    return cost / quantity if quantity > 0 else None


async def write_activities(
    user_id: str,
    linked: dict[str, Account],
    snapshot: PlaidSnapshot,
    profiles: dict[str, SymbolProfile],
    currencies: dict[str, str] | None = None,
) -> ActivityCounts:
    """Make the item's orders in the snapshot's window equal Plaid's transactions, then reconcile.

    Every read and write is limited to the item's own accounts (``linked``); the snapshot is complete (see
    ``fetch``), so an order in the window that Plaid no longer reports may be removed.
    """
    counts = ActivityCounts()
    legs: list[Leg] = []
    wanted = _wanted_orders(linked, snapshot, profiles, counts, currencies or {}, legs)
    account_ids = [str(a.id) for a in linked.values()]
    existing = {
        _key(o): o
        for o in await Order.filter(
            account_id__in=account_ids,
            date__gte=day_start(snapshot.start),
            date__lte=day_start(snapshot.end),
        ).exclude(plaid_transaction_id__startswith=OPENING_PREFIX)
    }
    pairs = pair_legs(legs, wanted)
    _keep_cost_of_unpaired(legs, pairs, wanted, existing)
    await price_paired_legs(pairs, wanted, snapshot)
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
    """Per account and security, BUYs minus SELLs must equal Plaid's quantity (in the profile's units).

    A difference becomes the one opening order of that position (``opening:<account>:<profile>``): a BUY at
    Plaid's cost basis / quantity when given, else at the price of the day. It is dated the day before the
    position's first trade; a position without any trade keeps the date its opening got first, so a resync
    (whose window starts later) does not move it.
    """
    account_ids = [str(a.id) for a in linked.values()]
    implied, first = await _implied_positions(account_ids)
    held = _held_positions(linked, snapshot, profiles)
    existing = {
        _key(o): o
        for o in await Order.filter(account_id__in=account_ids, plaid_transaction_id__startswith=OPENING_PREFIX)
    }
    currencies = {str(a.id): a.currency for a in linked.values()}
    openings: dict[OrderKey, dict[str, Any]] = {}
    for position in set(implied) | set(held):
        quantity, reported = held.get(position, (Decimal(0), None))
        difference = quantity - implied.get(position, Decimal(0))
        if difference == 0:
            continue
        account_id, profile_id = position
        key = (account_id, f"{OPENING_PREFIX}{account_id}:{profile_id}")
        stored = existing.get(key)
        if position in first:
            when = first[position] - timedelta(days=1)
        else:
            when = stored.date if stored is not None else day_start(snapshot.start) - timedelta(days=1)
        openings[key] = {
            "account_id": account_id,
            "symbol_profile_id": profile_id,
            "type": OrderType.BUY if difference > 0 else OrderType.SELL,
            "date": when,
            "quantity": q(abs(difference)),
            "unit_price": _opening_price(reported, quantity),
            "fee": q(0),
            "currency": reported.currency if reported else currencies[account_id],
        }
    await _apply(user_id, existing, openings, counts)


async def _implied_positions(
    account_ids: list[str],
) -> tuple[dict[tuple[str, str], Decimal], dict[tuple[str, str], datetime]]:
    """Per (account, profile): BUYs minus SELLs of the stored trades (openings aside), and the first trade's date."""
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
    return implied, first


def _held_positions(
    linked: dict[str, Account], snapshot: PlaidSnapshot, profiles: dict[str, SymbolProfile]
) -> dict[tuple[str, str], tuple[Decimal, Reported]]:
    """Per (account, profile): the quantity Plaid holds, in the profile's units, and the holding reported."""
    held: dict[tuple[str, str], tuple[Decimal, Reported]] = {}
    for holding in snapshot.holdings:
        account = linked.get(holding["account_id"])
        security = snapshot.securities.get(holding["security_id"])
        if account is None or security is None or is_cash(security):
            continue
        reported = reported_holding(holding, security, account.currency)
        key = (str(account.id), str(profiles[holding["security_id"]].id))
        quantity, first_seen = held.get(key, (Decimal(0), reported))
        held[key] = (quantity + reported.quantity, first_seen)
    return held


def _opening_price(reported: Reported | None, quantity: Decimal) -> Decimal:
    """Cost basis / quantity when Plaid gives it, else the price of the day."""
    if reported is None:
        return q(0)
    if reported.cost_basis is not None and quantity > 0:
        return q(reported.cost_basis / quantity)
    return q(reported.price or 0)
