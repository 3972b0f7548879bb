"""Step one of a sync: symbol profiles, market prices, holdings and cash balances, written atomically.

Cash rule: an investment account's Ghostfolio balance is its cash only (the cash-equivalent holdings in the
account's currency, or Plaid's ``available`` when no cash holding is reported), never the total value:
positions are counted through activities, so counting them in the balance too would double the portfolio.
Cash holdings are kept as holdings (what Plaid reported, one row per currency) but never become positions or
activities. Cash in another currency than the account's is not converted (no FX rates here): it stays out of
the balance and is kept as its own holding in its own currency (``CUR:EUR``), never dropped.
Other accounts (depository) take Plaid's ``current`` balance.

Holdings are stored in the units their profile counts (``mapping.quote_scale``): a bond quoted in percent
of par is kept at quantity 10,000 and price 0.985, an option position in options, so that quantity x price
equals the value Plaid reports, and market prices are scaled alike.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_EVEN, Decimal
from typing import Any

from tortoise.expressions import Q

from ghostfolio_plaid.models import Account, AccountBalance, Holding, MarketData, SymbolProfile
from ghostfolio_plaid.workers.fetch import Json, PlaidSnapshot
from ghostfolio_plaid.workers.mapping import (
    AS_REPORTED,
    DATA_SOURCE,
    Scale,
    asset_class,
    cash_symbol,
    holding_total,
    identity_key,
    is_option,
    iso_currency,
    listing_of,
    option_details,
    quote_scale,
    record_currency,
    symbol_of,
)

EIGHT_PLACES = Decimal("0.00000001")
PROFILE_FIELDS = (
    "currency",
    "name",
    "asset_class",
    "asset_sub_class",
    "isin",
    "cusip",
    "market_identifier_code",
    "option_type",
    "option_strike",
    "option_expiration",
    "option_underlying",
)


def q(value: Any) -> Decimal:
    return Decimal(str(value)).quantize(EIGHT_PLACES, rounding=ROUND_HALF_EVEN)


def optional_q(value: Any) -> Decimal | None:
    return None if value is None else q(value)


def currency_of(record: Json, fallback: str = "USD") -> str:
    return record_currency(record) or fallback


def is_cash(security: Json | None) -> bool:
    return security is None or bool(security.get("is_cash_equivalent")) or security.get("type") == "cash"


def transaction_currency(txn: Json, account_currency: str, currencies: dict[str, str]) -> str:
    """A transaction's own currency, else the currency its security is priced in, else its account's: a
    security priced in another currency than its account keeps that currency on its activities."""
    own = record_currency(txn)
    if own is not None:
        return own
    security_id = txn.get("security_id")
    return currencies.get(security_id, account_currency) if isinstance(security_id, str) else account_currency


@dataclass(frozen=True)
class Reported:
    """A holding as Plaid reported it, in the units its profile counts: quantity x price = value."""

    quantity: Decimal
    price: Decimal | None
    value: Decimal | None
    cost_basis: Decimal | None
    currency: str
    as_of: date | None
    scale: Scale = AS_REPORTED


def reported_holding(holding: Json, security: Json | None, fallback_currency: str) -> Reported:
    """The holding with its quote made to add up (a percent-of-par bond, an option counted in contracts)."""
    quantity = Decimal(str(holding["quantity"]))
    price = holding.get("institution_price")
    scale = AS_REPORTED
    if price is not None and not is_cash(security):
        scale = quote_scale(quantity, Decimal(str(price)), holding_total(holding), is_option=is_option(security))
    as_of = holding.get("institution_price_as_of")
    return Reported(
        quantity=q(quantity * scale.quantity),
        price=None if price is None else q(Decimal(str(price)) * scale.price),
        value=optional_q(holding.get("institution_value")),
        cost_basis=optional_q(holding.get("cost_basis")),
        currency=currency_of(holding, fallback_currency),
        as_of=date.fromisoformat(as_of) if as_of else None,
        scale=scale,
    )


@dataclass
class PortfolioResult:
    profiles: dict[str, SymbolProfile]
    holdings_seen: int
    currencies: dict[str, str] = field(default_factory=dict)
    """Security id -> the currency its prices are in (an activity without its own currency takes it)."""


def price_currencies(snapshot: PlaidSnapshot) -> dict[str, str]:
    """The currency each security's prices are in: its ISO code, else its holdings' or transactions' ISO code
    (crypto held in USD is priced in USD, whatever unofficial code the security carries), else its own code."""
    found: dict[str, str] = {}
    for sid, security in snapshot.securities.items():
        own = iso_currency(security)
        if own is not None:
            found[sid] = own
    for record in [*snapshot.holdings, *snapshot.transactions]:
        record_security = record.get("security_id")
        currency = iso_currency(record)
        if isinstance(record_security, str) and record_security in snapshot.securities and currency is not None:
            found.setdefault(record_security, currency)
    for sid, security in snapshot.securities.items():
        own = record_currency(security)
        if own is not None:
            found.setdefault(sid, own)
    return found


def profile_fields(security: Json, symbol: str, currency: str | None) -> dict[str, Any]:
    asset, sub = asset_class(security.get("type"))
    market = security.get("market_identifier_code")
    return {
        "symbol": symbol,
        "currency": currency or "USD",
        "name": security.get("name"),
        "asset_class": asset,
        "asset_sub_class": sub,
        "isin": security.get("isin"),
        "cusip": security.get("cusip"),
        "market_identifier_code": market.strip().upper()[:16] if isinstance(market, str) and market.strip() else None,
        **option_details(security),
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
        "market_identifier_code": None,
        "option_type": None,
        "option_strike": None,
        "option_expiration": None,
        "option_underlying": None,
    }


def resolve_symbols(snapshot: PlaidSnapshot, currencies: dict[str, str]) -> dict[str, str]:
    """Security id -> profile symbol. Securities of one listing and ISIN (else CUSIP) share the symbol of the
    one that is held: a ``security_id`` that changed with its ticker or CUSIP is one position, not two."""
    symbols: dict[str, str] = {}
    for sid, security in snapshot.securities.items():
        symbols[sid] = symbol_of(security, currencies.get(sid), cash=is_cash(security))
    held = {h["security_id"] for h in snapshot.holdings if h["security_id"] in snapshot.securities}
    canonical: dict[tuple[str, str], set[str]] = {}
    for sid in held:
        security = snapshot.securities[sid]
        key = None if is_cash(security) else identity_key(security, currencies.get(sid))
        if key is not None:
            canonical.setdefault(key, set()).add(symbols[sid])
    for sid, security in snapshot.securities.items():
        if sid in held or is_cash(security):
            continue
        key = identity_key(security, currencies.get(sid))
        names = canonical.get(key) if key is not None else None
        if names is not None and len(names) == 1:
            symbols[sid] = next(iter(names))
    return symbols


async def _adopt_renamed(missing: list[str], wanted: dict[str, dict[str, Any]]) -> dict[str, SymbolProfile]:
    """Profiles whose ticker changed: a stored profile of the same ISIN (else CUSIP), listing and currency that
    this sync does not want under its old symbol is renamed, so its orders and history stay one position."""
    isins = {wanted[s]["isin"] for s in missing if wanted[s].get("isin")}
    cusips = {wanted[s]["cusip"] for s in missing if wanted[s].get("cusip")}
    if not isins and not cusips:
        return {}
    stored = await SymbolProfile.filter(
        Q(isin__in=sorted(isins)) | Q(cusip__in=sorted(cusips)), data_source=DATA_SOURCE
    ).exclude(symbol__in=list(wanted))
    adopted: dict[str, SymbolProfile] = {}
    for symbol in missing:
        fields = wanted[symbol]
        for profile in stored:
            same_security = (fields.get("isin") and profile.isin == fields["isin"]) or (
                not fields.get("isin") and fields.get("cusip") and profile.cusip == fields["cusip"]
            )
            if (
                same_security
                and profile not in adopted.values()
                and (profile.currency or "USD") == fields["currency"]
                and listing_of(profile.market_identifier_code, profile.currency)
                == listing_of(fields["market_identifier_code"], fields["currency"])
            ):
                profile.symbol = symbol
                adopted[symbol] = profile
                break
    if adopted:
        await SymbolProfile.bulk_update(list(adopted.values()), fields=["symbol", "updated_at"])
    return adopted


async def upsert_profiles(wanted: dict[str, dict[str, Any]]) -> dict[str, SymbolProfile]:
    """Profiles by symbol, shared by every user (as in Ghostfolio); a constant number of statements."""
    found = {p.symbol: p for p in await SymbolProfile.filter(data_source=DATA_SOURCE, symbol__in=list(wanted))}
    missing = [s for s in wanted if s not in found]
    if missing:
        found.update(await _adopt_renamed(missing, wanted))
        missing = [s for s in missing if s not in found]
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
    currencies = price_currencies(snapshot)
    by_security = resolve_symbols(snapshot, currencies)
    wanted: dict[str, dict[str, Any]] = {}
    held = {h["security_id"] for h in snapshot.holdings}
    held_first = sorted(snapshot.securities, key=lambda sid: sid not in held)
    for security_id in held_first:
        security = snapshot.securities[security_id]
        symbol = by_security[security_id]
        wanted.setdefault(symbol, profile_fields(security, symbol, currencies.get(security_id)))
    cash_currencies = {
        transaction_currency(t, linked[t["account_id"]].currency, currencies)
        for t in snapshot.transactions
        if t["account_id"] in linked
    }
    for currency in cash_currencies:
        fields = cash_profile_fields(currency)
        wanted.setdefault(fields["symbol"], fields)
    profiles = await upsert_profiles(wanted)
    reported = [h for h in snapshot.holdings if h["account_id"] in linked and h["security_id"] in by_security]
    normalized = [
        (h, reported_holding(h, snapshot.securities[h["security_id"]], linked[h["account_id"]].currency))
        for h in reported
    ]
    await _write_market_data(snapshot, normalized, by_security, today)
    await _write_holdings(linked, normalized, profiles, by_security)
    await _write_balances(linked, snapshot, reported, today)
    resolved = {sid: profiles[symbol] for sid, symbol in by_security.items()}
    return PortfolioResult(
        profiles={**resolved, **{f"cash:{c}": profiles[cash_symbol(c)] for c in cash_currencies}},
        holdings_seen=len(reported),
        currencies=currencies,
    )


async def _write_market_data(
    snapshot: PlaidSnapshot, normalized: list[tuple[Json, Reported]], by_security: dict[str, str], today: date
) -> None:
    """Prices per symbol and day: the holdings' (scaled to add up), else the securities' close prices, scaled
    as the security's holdings are (both quote the same instrument the same way)."""
    prices: dict[tuple[str, date], Decimal] = {}
    scales: dict[str, Scale] = {}
    for holding, reported in normalized:
        security = snapshot.securities[holding["security_id"]]
        if is_cash(security) or reported.price is None:
            continue
        scales.setdefault(holding["security_id"], reported.scale)
        prices.setdefault((by_security[holding["security_id"]], reported.as_of or today), reported.price)
    for security_id, security in snapshot.securities.items():
        if is_cash(security) or security.get("close_price") is None:
            continue
        as_of = security.get("close_price_as_of")
        key = (by_security[security_id], date.fromisoformat(as_of) if as_of else today)
        prices.setdefault(key, q(Decimal(str(security["close_price"])) * scales.get(security_id, AS_REPORTED).price))
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
    normalized: list[tuple[Json, Reported]],
    profiles: dict[str, SymbolProfile],
    by_security: dict[str, str],
) -> None:
    wanted: dict[tuple[str, str], dict[str, Any]] = {}
    for holding, reported in normalized:
        account = linked[holding["account_id"]]
        profile = profiles[by_security[holding["security_id"]]]
        key = (str(account.id), str(profile.id))
        row = wanted.setdefault(
            key,
            {
                "quantity": Decimal(0),
                "value": None,
                "cost_basis": None,
                "price": reported.price,
                "currency": reported.currency,
                "as_of": reported.as_of,
            },
        )
        row["quantity"] += reported.quantity
        for name in ("value", "cost_basis"):
            if getattr(reported, name) is not None:
                row[name] = (row[name] or Decimal(0)) + getattr(reported, name)
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
