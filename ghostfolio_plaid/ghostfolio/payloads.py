"""How our rows look in Ghostfolio's import format: activities, MANUAL asset profiles and their prices.

Every activity carries the comment ``plaid:<key>`` (the Plaid transaction id, or the opening position's key):
Ghostfolio silently skips an import equal to an activity the user already has, so a unique comment keeps two
equal trades apart, and lets a push adopt what an interrupted earlier push had already delivered.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, NamedTuple

from ghostfolio_plaid.models import MarketData, Order, SymbolProfile

Json = dict[str, Any]
MANUAL = "MANUAL"
CASH = "CASH"
COMMENT_PREFIX = "plaid:"
MANUAL_ASSET_CLASSES = frozenset({"FIXED_INCOME", "LIQUIDITY", "ALTERNATIVE_INVESTMENT"})
"""Bonds, cash and derivatives (options) are never looked up at a market data provider."""


@dataclass(frozen=True)
class Listing:
    """Where one security lives in Ghostfolio."""

    data_source: str
    symbol: str

    @property
    def manual(self) -> bool:
        return self.data_source == MANUAL


def manual_listing(profile: SymbolProfile, user_id: str) -> Listing:
    """``GF_`` and a stable id, per user: Ghostfolio accepts MANUAL symbols only as a UUID or with that prefix,
    and a MANUAL asset profile belongs to one user (another user's import of the same symbol is renamed)."""
    digest = hashlib.sha256(f"{user_id}:{profile.id}".encode()).hexdigest()[:32].upper()
    return Listing(MANUAL, "GF_" + digest)


def is_priceable(profile: SymbolProfile) -> bool:
    """A plain ticker of a listed security; bonds, cash, derivatives and bare identifiers are MANUAL."""
    symbol = profile.symbol
    is_identifier = symbol in (profile.isin, profile.cusip) or ":" in symbol
    return not is_identifier and profile.asset_class not in MANUAL_ASSET_CLASSES


def timestamp(day: date | datetime) -> str:
    moment = day if isinstance(day, datetime) else datetime(day.year, day.month, day.day)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def number(value: Decimal) -> float | int:
    """JSON numbers as Ghostfolio's DTOs want them (they are JavaScript numbers there)."""
    return int(value) if value == value.to_integral_value() else float(value)


class OrderRow(NamedTuple):
    """The columns of an Order the connector sends (read as tuples: a push reads every order of an item)."""

    account_id: Any
    plaid_transaction_id: str | None
    symbol_profile_id: Any
    type: str
    date: datetime
    quantity: Decimal
    unit_price: Decimal
    fee: Decimal
    currency: str


ORDER_COLUMNS = OrderRow._fields


def activity(order: OrderRow | Order, account_id: str, listing: Listing) -> Json:
    return {
        "accountId": account_id,
        "comment": COMMENT_PREFIX + str(order.plaid_transaction_id),
        "currency": order.currency,
        "dataSource": listing.data_source,
        "date": timestamp(order.date),
        "fee": number(order.fee),
        "quantity": number(order.quantity),
        "symbol": listing.symbol,
        "type": str(order.type),
        "unitPrice": number(order.unit_price),
    }


def payload_hash(payload: Json) -> str:
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def asset_profile(profile: SymbolProfile, listing: Listing, prices: list[MarketData]) -> Json:
    body: Json = {
        "dataSource": MANUAL,
        "symbol": listing.symbol,
        "currency": profile.currency or "USD",
        "name": profile.name or profile.symbol,
        "marketData": [{"date": timestamp(p.date), "marketPrice": number(p.market_price)} for p in prices],
    }
    if profile.asset_sub_class == CASH and not prices:
        body["marketData"] = [{"date": timestamp(datetime.now(UTC).date()), "marketPrice": 1}]
    if profile.asset_class:
        body["assetClass"] = profile.asset_class
    if profile.asset_sub_class:
        body["assetSubClass"] = profile.asset_sub_class
    for name in ("isin", "cusip"):
        if getattr(profile, name):
            body[name] = getattr(profile, name)
    return body
