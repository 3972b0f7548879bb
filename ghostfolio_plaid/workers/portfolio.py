"""Step one of a sync: symbol profiles, market prices, holdings and cash balances, written atomically.

Cash rule: an investment account's Ghostfolio balance is its cash only (the cash-equivalent holdings in the
account's currency, or Plaid's ``available`` when no cash holding is reported), never the total value:
positions are counted through activities, so counting them in the balance too would double the portfolio.
Cash holdings are kept as holdings (what Plaid reported) but never become positions or activities. Cash in
another currency than the account's is not converted (no FX rates here) and stays out of the balance.
Other accounts (depository) take Plaid's ``current`` balance.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from ghostfolio_plaid.models import Account, AccountBalance, Holding, MarketData, SymbolProfile
from ghostfolio_plaid.workers.fetch import Json, PlaidSnapshot
from ghostfolio_plaid.workers.mapping import DATA_SOURCE, asset_class, cash_symbol, symbol_of

EIGHT_PLACES = Decimal("0.00000001")
PROFILE_FIELDS = ("currency", "name", "asset_class", "asset_sub_class", "isin", "cusip")


def q(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(EIGHT_PLACES, rounding=ROUND_HALF_EVEN)


def optional_q(value: Any) -> Decimal | None:
    return None if value is None else q(value)


def currency_of(record: Json, fallback: str = "USD") -> str:
    currency = record.get("iso_currency_code") or record.get("unofficial_currency_code") or fallback
    return str(currency)


def is_cash(security: Json | None) -> bool:
    return security is None or bool(security.get("is_cash_equivalent")) or security.get("type") == "cash"


@dataclass
class PortfolioResult:
    profiles: dict[str, SymbolProfile]
    holdings_seen: int


def profile_fields(security: Json) -> dict[str, Any]:
    asset, sub = asset_class(security.get("type"))
    return {
        "symbol": symbol_of(security),
        "currency": currency_of(security),
        "name": security.get("name"),
        "asset_class": asset,
        "asset_sub_class": sub,
        "isin": security.get("isin"),
        "cusip": security.get("cusip"),
    }


def cash_profile_fields(currency: str) -> dict[str, Any]:
    return {
        "symbol": cash_symbol(currency),
        "currency": currency,
        "name": currency,
        "asset_class": "LIQUIDITY",
        "asset_sub_class": "CASH",
        "isin": None,
        "cusip": None,
    }


async def upsert_profiles(wanted: dict[str, dict[str, Any]]) -> dict[str, SymbolProfile]:
    """Profiles by symbol, shared by every user (as in Ghostfolio); a constant number of statements."""
    found = {p.symbol: p for p in await SymbolProfile.filter(data_source=DATA_SOURCE, symbol__in=list(wanted))}
    missing = [s for s in wanted if s not in found]
    if missing:
        await SymbolProfile.bulk_create(
            [SymbolProfile(id=uuid.uuid4(), data_source=DATA_SOURCE, **wanted[s]) for s in missing],
            ignore_conflicts=True,
        )
        found.update({p.symbol: p for p in await SymbolProfile.filter(data_source=DATA_SOURCE, symbol__in=missing)})
    changed = []
    for symbol, fields in wanted.items():
        profile = found[symbol]
        if any(getattr(profile, name) != fields[name] for name in PROFILE_FIELDS):
            for name in PROFILE_FIELDS:
                setattr(profile, name, fields[name])
            changed.append(profile)
    if changed:
        await SymbolProfile.bulk_update(changed, fields=[*PROFILE_FIELDS, "updated_at"])
    return found


async def write_portfolio(linked: dict[str, Account], snapshot: PlaidSnapshot, today: date) -> PortfolioResult:
    wanted: dict[str, dict[str, Any]] = {}
    by_security: dict[str, str] = {}
    for security_id, security in snapshot.securities.items():
        fields = profile_fields(security)
        wanted[fields["symbol"]] = fields
        by_security[security_id] = fields["symbol"]
    currencies = {
        currency_of(t, linked[t["account_id"]].currency) for t in snapshot.transactions if t["account_id"] in linked
    }
    for currency in currencies:
        fields = cash_profile_fields(currency)
        wanted.setdefault(fields["symbol"], fields)
    profiles = await upsert_profiles(wanted)
    reported = [h for h in snapshot.holdings if h["account_id"] in linked and h["security_id"] in by_security]
    await _write_market_data(snapshot, reported, by_security, today)
    await _write_holdings(linked, snapshot, reported, profiles, by_security)
    await _write_balances(linked, snapshot, reported, today)
    resolved = {sid: profiles[symbol] for sid, symbol in by_security.items()}
    return PortfolioResult(
        profiles={**resolved, **{f"cash:{c}": profiles[cash_symbol(c)] for c in currencies}},
        holdings_seen=len(reported),
    )


async def _write_market_data(
    snapshot: PlaidSnapshot, reported: list[Json], by_security: dict[str, str], today: date
) -> None:
    prices: dict[tuple[str, date], Decimal] = {}
    for holding in reported:
        security = snapshot.securities[holding["security_id"]]
        if is_cash(security) or holding.get("institution_price") is None:
            continue
        as_of = holding.get("institution_price_as_of")
        key = (by_security[holding["security_id"]], date.fromisoformat(as_of) if as_of else today)
        prices.setdefault(key, q(holding["institution_price"]))
    for security_id, security in snapshot.securities.items():
        if is_cash(security) or security.get("close_price") is None:
            continue
        as_of = security.get("close_price_as_of")
        key = (by_security[security_id], date.fromisoformat(as_of) if as_of else today)
        prices.setdefault(key, q(security["close_price"]))
    if not prices:
        return
    existing = {
        (m.symbol, m.date): m
        for m in await MarketData.filter(
            data_source=DATA_SOURCE,
            symbol__in=list({s for s, _ in prices}),
            date__in=list({d for _, d in prices}),
        )
    }
    new = [
        MarketData(id=uuid.uuid4(), data_source=DATA_SOURCE, symbol=s, date=d, market_price=price)
        for (s, d), price in prices.items()
        if (s, d) not in existing
    ]
    changed = []
    for key, price in prices.items():
        row = existing.get(key)
        if row is not None and row.market_price != price:
            row.market_price = price
            changed.append(row)
    if new:
        await MarketData.bulk_create(new, ignore_conflicts=True)
    if changed:
        await MarketData.bulk_update(changed, fields=["market_price"])


async def _write_holdings(
    linked: dict[str, Account],
    snapshot: PlaidSnapshot,
    reported: list[Json],
    profiles: dict[str, SymbolProfile],
    by_security: dict[str, str],
) -> None:
    wanted: dict[tuple[str, str], dict[str, Any]] = {}
    for holding in reported:
        account = linked[holding["account_id"]]
        profile = profiles[by_security[holding["security_id"]]]
        key = (str(account.id), str(profile.id))
        as_of = holding.get("institution_price_as_of")
        row = wanted.setdefault(
            key,
            {
                "quantity": Decimal(0),
                "value": None,
                "cost_basis": None,
                "price": optional_q(holding.get("institution_price")),
                "currency": currency_of(holding, account.currency),
                "as_of": date.fromisoformat(as_of) if as_of else None,
            },
        )
        row["quantity"] += q(holding["quantity"])
        for name, source in (("value", "institution_value"), ("cost_basis", "cost_basis")):
            if holding.get(source) is not None:
                row[name] = (row[name] or Decimal(0)) + q(holding[source])
    account_ids = [str(a.id) for a in linked.values()]
    existing = {
        (str(h.account_id), str(h.symbol_profile_id)): h for h in await Holding.filter(account_id__in=account_ids)
    }
    upserts: list[Holding] = []
    for (account_id, profile_id), fields in wanted.items():
        stored = existing.get((account_id, profile_id))
        if stored is None:
            upserts.append(Holding(id=uuid.uuid4(), account_id=account_id, symbol_profile_id=profile_id, **fields))
        elif any(getattr(stored, name) != value for name, value in fields.items()):
            for name, value in fields.items():
                setattr(stored, name, value)
            upserts.append(stored)
    if upserts:
        await Holding.bulk_create(
            upserts,
            on_conflict=["account_id", "symbol_profile_id"],
            update_fields=["quantity", "price", "value", "cost_basis", "currency", "as_of", "updated_at"],
        )
    gone = [stored.id for key, stored in existing.items() if key not in wanted]
    if gone:
        await Holding.filter(id__in=gone).delete()


def account_balance(plaid_account: Json, cash_holdings: list[Json], currency: str) -> Decimal:
    balances = plaid_account.get("balances") or {}
    if plaid_account.get("type") == "investment":
        if cash_holdings:
            return sum(
                (
                    q(h["institution_value"] if h.get("institution_value") is not None else h["quantity"])
                    for h in cash_holdings
                    if currency_of(h, currency) == currency
                ),
                Decimal(0),
            )
        return q(balances.get("available") or 0)
    return q(balances.get("current") if balances.get("current") is not None else balances.get("available") or 0)


async def _write_balances(
    linked: dict[str, Account], snapshot: PlaidSnapshot, reported: list[Json], today: date
) -> None:
    cash: dict[str, list[Json]] = {}
    for holding in reported:
        if is_cash(snapshot.securities.get(holding["security_id"])):
            cash.setdefault(holding["account_id"], []).append(holding)
    changed: list[Account] = []
    values: dict[str, Decimal] = {}
    for plaid_account in snapshot.accounts:
        account = linked.get(plaid_account["account_id"])
        if account is None:
            continue
        currency = currency_of(plaid_account.get("balances") or {}, account.currency)
        balance = account_balance(plaid_account, cash.get(plaid_account["account_id"], []), currency)
        values[str(account.id)] = balance
        if account.balance != balance or account.currency != currency:
            account.balance, account.currency = balance, currency
            changed.append(account)
    if changed:
        await Account.bulk_update(changed, fields=["balance", "currency", "updated_at"])
    if not values:
        return
    existing = {str(b.account_id): b for b in await AccountBalance.filter(account_id__in=list(values), date=today)}
    upserts: list[AccountBalance] = []
    for account_id, value in values.items():
        row = existing.get(account_id)
        if row is None:
            upserts.append(AccountBalance(id=uuid.uuid4(), account_id=account_id, date=today, value=value))
        elif row.value != value:
            row.value = value
            upserts.append(row)
    if upserts:
        await AccountBalance.bulk_create(
            upserts, on_conflict=["account_id", "date"], update_fields=["value", "updated_at"]
        )
