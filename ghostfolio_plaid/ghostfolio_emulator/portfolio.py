"""Holdings and account values: a deliberately small stand-in for Ghostfolio's portfolio calculator.

Quantities are exact (BUY minus SELL per asset profile, Draft activities left out); prices and values are
simple: the market price is the latest MANUAL market data up to today, else the unit price of the last BUY or
SELL; the investment is the average cost of what is held; no exchange rates (1:1); no performance figures.
Like Ghostfolio, holdings are keyed by symbol (the same symbol in two data sources collides), positions with
quantity 0 are listed only with ``holdingType=CLOSED``, and the figures come from a cached snapshot that is
only recomputed ``portfolio_debounce_seconds`` after the last change (Ghostfolio: 5 s).
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ghostfolio_plaid.ghostfolio_emulator.activities import filter_activities
from ghostfolio_plaid.ghostfolio_emulator.dates import end_of_today, to_json
from ghostfolio_plaid.ghostfolio_emulator.enums import TAG_ID_DRAFT
from ghostfolio_plaid.ghostfolio_emulator.serializers import account_with_relations
from ghostfolio_plaid.ghostfolio_emulator.state import (
    Account,
    Activity,
    EmulatorState,
    MarketPrice,
    PortfolioSnapshot,
    SymbolProfile,
)


@dataclass
class Position:
    profile: SymbolProfile
    quantity: float = 0.0
    investment: float = 0.0
    dividend: float = 0.0
    activities_count: int = 0
    first_date: datetime | None = None
    last_price: float = 0.0
    accounts: dict[str | None, float] = field(default_factory=dict)  # quantity per account


def snapshot(state: EmulatorState, user_id: str) -> PortfolioSnapshot:
    """The user's cached portfolio: kept until ``portfolio_debounce_seconds`` after the last change."""
    now = time.monotonic()
    changed_at = state.portfolio_changed_at.get(user_id, 0.0)
    cached = state.snapshots.get(user_id)
    debounce = state.settings.portfolio_debounce_seconds
    if cached is not None and (changed_at <= cached.taken_at or now < changed_at + debounce):
        return cached
    activities = [copy.copy(a) for a in state.activities_of(user_id)]
    profiles = {a.symbol_profile_id: copy.copy(state.profiles[a.symbol_profile_id]) for a in activities}
    prices = {
        (p.data_source, p.symbol): [copy.copy(price) for price in state.prices_of(p.data_source, p.symbol)]
        for p in profiles.values()
    }
    fresh = PortfolioSnapshot(taken_at=now, activities=activities, profiles=profiles, prices=prices)
    state.snapshots[user_id] = fresh
    return fresh


def _market_price(prices: list[MarketPrice], fallback: float) -> float:
    today_end = end_of_today()
    past = [p for p in prices if p.date <= today_end]
    return past[-1].market_price if past else fallback


def positions(snap: PortfolioSnapshot, activities: Iterable[Activity]) -> list[Position]:
    by_profile: dict[str, Position] = {}
    for activity in sorted(activities, key=lambda a: a.date):
        if TAG_ID_DRAFT in activity.tag_ids or activity.type not in ("BUY", "SELL", "DIVIDEND"):
            continue
        profile_id = activity.symbol_profile_id
        position = by_profile.setdefault(profile_id, Position(snap.profiles[profile_id]))
        position.activities_count += 1
        position.first_date = position.first_date or activity.date
        if activity.type == "DIVIDEND":
            position.dividend += activity.quantity * activity.unit_price
            continue
        sign = 1 if activity.type == "BUY" else -1
        if sign > 0:
            position.investment += activity.quantity * activity.unit_price
        elif position.quantity > 0:
            position.investment -= position.investment * min(activity.quantity / position.quantity, 1.0)
        position.quantity += sign * activity.quantity
        held_in_account = position.accounts.get(activity.account_id, 0.0)
        position.accounts[activity.account_id] = held_in_account + sign * activity.quantity
        position.last_price = activity.unit_price
    return list(by_profile.values())


def _price_of(snap: PortfolioSnapshot, position: Position) -> float:
    key = (position.profile.data_source, position.profile.symbol)
    return _market_price(snap.prices.get(key, []), position.last_price)


def holdings(state: EmulatorState, user_id: str, query: dict[str, Any]) -> list[dict[str, Any]]:
    """GET /api/v1/portfolio/holdings' ``holdings``, in Ghostfolio's PortfolioPosition shape (a subset)."""
    snap = snapshot(state, user_id)
    closed = query.get("holdingType") == "CLOSED"
    chosen = filter_activities(snap.profiles, snap.activities, query)
    found = [p for p in positions(snap, chosen) if (abs(p.quantity) < 1e-12) == closed]
    values = {id(p): p.quantity * _price_of(snap, p) for p in found}
    total = sum(values.values())
    by_symbol: dict[str, dict[str, Any]] = {}
    for position in sorted(found, key=lambda p: p.profile.symbol):
        profile, value = position.profile, values[id(position)]
        by_symbol[profile.symbol] = {
            "activitiesCount": position.activities_count,
            "allocationInPercentage": value / total if total else 0,
            "assetProfile": {
                "assetClass": profile.asset_class,
                "assetSubClass": profile.asset_sub_class,
                "countries": profile.extra.get("countries") or [],
                "currency": profile.currency,
                "dataSource": profile.data_source,
                "holdings": [],
                "isin": profile.extra.get("isin"),
                "name": profile.name,
                "sectors": profile.extra.get("sectors") or [],
                "symbol": profile.symbol,
                "url": profile.extra.get("url"),
            },
            "dateOfFirstActivity": to_json(position.first_date),
            "dividend": position.dividend,
            "investment": position.investment,
            "marketPrice": _price_of(snap, position),
            "quantity": position.quantity,
            "tags": [],
            "valueInBaseCurrency": value,
        }
    return list(by_symbol.values())


def accounts_response(state: EmulatorState, user_id: str, only: str | None = None) -> dict[str, Any]:
    """GET /api/v1/account: every account with its balance and value, and the totals."""
    snap = snapshot(state, user_id)
    held = positions(snap, snap.activities)
    accounts = sorted(state.accounts_of(user_id), key=lambda a: (a.name or "", a.id))
    if only is not None:
        accounts = [a for a in accounts if a.id == only]
    rows = [_account_json(state, snap, account, held) for account in accounts]
    total_value = sum(row["valueInBaseCurrency"] for row in rows)
    for row in rows:
        row["allocationInPercentage"] = row["valueInBaseCurrency"] / total_value if total_value > 0 else 0
    return {
        "accounts": rows,
        "activitiesCount": sum(row["activitiesCount"] for row in rows),
        "totalBalanceInBaseCurrency": sum(row["balanceInBaseCurrency"] for row in rows),
        "totalDividendInBaseCurrency": sum(row["dividendInBaseCurrency"] for row in rows),
        "totalInterestInBaseCurrency": sum(row["interestInBaseCurrency"] for row in rows),
        "totalValueInBaseCurrency": total_value,
    }


def current_balance(state: EmulatorState, account: Account) -> float:
    """The latest balance not dated after today (0 without one)."""
    today_end = end_of_today()
    own = [
        b
        for b in state.balances.values()
        if b.account_id == account.id and b.user_id == account.user_id and b.date <= today_end
    ]
    return max(own, key=lambda b: b.date).value if own else 0.0


def _account_json(
    state: EmulatorState, snap: PortfolioSnapshot, account: Account, held: list[Position]
) -> dict[str, Any]:
    mine = [a for a in snap.activities if a.account_id == account.id]
    drafts_out = [a for a in mine if TAG_ID_DRAFT not in a.tag_ids]
    dividend = sum(a.quantity * a.unit_price for a in drafts_out if a.type == "DIVIDEND")
    interest = sum(a.unit_price for a in drafts_out if a.type == "INTEREST")
    balance = current_balance(state, account)
    holdings_value = sum(p.accounts.get(account.id, 0.0) * _price_of(snap, p) for p in held)
    value = balance + holdings_value
    return {
        **account_with_relations(state, account),
        "balance": balance,
        "activitiesCount": len(mine),
        "dividendInBaseCurrency": dividend,
        "interestInBaseCurrency": interest,
        "valueInBaseCurrency": value,
        "allocationInPercentage": 0,
        "balanceInBaseCurrency": balance,
        "value": value,
    }
