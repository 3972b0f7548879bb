"""How Plaid's vocabulary becomes Ghostfolio's: the one place where every mapping rule lives.

Transactions: Plaid's ``type`` is only buy, sell, cancel, cash, fee or transfer; the meaning is in the
``subtype``. ``RULES`` decides every (type, subtype) pair of Plaid's spec (``specs/plaid/2020-09-14.yml``,
``StandaloneInvestmentTransaction*Type``) explicitly:

- ``buy/*`` -> BUY (buy, buy to cover, assignment, contribution in kind, dividend/interest/capital-gain
  reinvestment: the income itself arrives as its own ``cash`` or ``fee`` transaction). ``sell/*`` -> SELL
  (sell, sell short, exercise, distribution out of a tax-advantaged account). The direction comes from the
  type, never from the quantity's sign (Plaid sometimes reports sells with a positive quantity); quantities
  are stored positive.
- Income is income whatever the type: ``cash`` or ``fee`` with subtype dividend, qualified dividend,
  non-qualified dividend, long-term or short-term capital gain, unqualified gain -> DIVIDEND; ``interest``
  and ``interest receivable`` -> INTEREST. Only real costs are FEE: account, fund, legal, management, trust,
  transfer and miscellaneous fees, margin expense, tax, tax withheld, non-resident tax.
- Cash that only moves (``cash`` contribution, deposit, withdrawal, pending credit/debit, loan payment) and
  ``return of principal`` (capital coming back, neither income nor cost) -> no activity: the account's cash
  balance comes from Plaid's holdings.
- Position changes without a trade -> BUY when units arrive, SELL when they leave, at the reported price:
  ``transfer`` transfer, adjustment, assignment, exercise, expire, rebalance, request, send, trade;
  ``fee/adjustment``. The buys and sells of a rebalance are BUY and SELL.
  A position change of cash (a cash security, or no security, or quantity 0) makes no activity.
- New units that cost nothing keep the total cost: ``transfer`` split and spin off, ``cash``/``fee`` stock
  distribution -> BUY (SELL for a reverse split) at price 0, whatever price Plaid reports.
- ``cancel/*`` (its subtype repeats what it cancels) -> removes the activity named by
  ``cancel_transaction_id``; it creates none itself.
- A subtype outside the spec: ``buy`` -> BUY, ``sell`` -> SELL, ``transfer`` -> position change; under
  ``cash`` or ``fee`` it is skipped and counted (income and cost cannot be told apart), as is an unknown type.

Transfers keep their cost. Two ``transfer/transfer`` legs of one item pair up when they move the same
security (same symbol profile) by the same quantity in opposite directions between two accounts within
``PAIR_DAYS``; both legs are then priced at the leaving account's average cost on that day, so the arriving
shares carry the leaving shares' cost and neither account books a gain. A ``transfer/merger`` leaving leg and
arriving leg of different securities in one account within ``PAIR_DAYS`` pair up too: the old shares leave at
their average cost, the new ones arrive at that same total cost. Unpaired transfers keep the reported price,
except a leg whose other half lies before a resync's window: it keeps the cost it was given while Plaid reports
it unchanged (``activities.write_activities``).

Quotes that do not add up: Plaid's own totals decide (``institution_value`` for a holding, ``amount`` less
``fees`` for a transaction, compared with quantity x price; see ``quote_scale``):

- total = quantity x price / 100: the price is a percentage (bonds quoted in percent of par, or a price per
  100 units, e.g. per option contract): price / 100. Quantity 10,000 at 98.5 worth 9,850 is kept as
  quantity 10,000 at 0.985.
- total = quantity x price x 100 for an option: the quantity counts contracts of 100 options; Plaid's unit is
  the option, so quantity x 100 (2 contracts of a 12.50 call: 200 options at 12.50, worth 2,500).
- anything else, or no total to compare with: as reported.

Securities: a ticker is not an identity. The symbol is the ticker (else ISIN, CUSIP, Plaid's id); a listing
outside the US markets (``market_identifier_code`` not in ``US_MARKETS``, or without one but priced in another
currency than USD) gets its market as a suffix, ``SHOP:XTSE`` (``SHOP:CAD`` without a MIC), so two listings
never share a profile and never flip each other's currency. ``security_id`` is not an identity either (it
changes with a ticker or CUSIP): securities of one listing with the same ISIN (else CUSIP) are one profile,
named after the one that is held, and a profile whose ticker changed is renamed, not duplicated (see
``portfolio.upsert_profiles``). ``proxy_security_id`` names a security that prices alike: never an identity.
A profile's currency is the currency its prices are in: the security's ISO code, else the ISO code of its
holdings or transactions (crypto held in USD stays priced in USD), else the unofficial code. A record carries
``iso_currency_code`` or ``unofficial_currency_code``, never both; the ISO code wins if both come.
Option contracts keep their details (call/put, strike, expiry, underlying) on the profile.

Positions, cash and history (``activities`` and ``portfolio`` apply these):

- Revisions: a complete read of the window is the truth for it. A transaction that comes back with new
  numbers (same id) updates its activity, one that does not come back is removed, none is ever duplicated
  (the key is account + transaction id); only a complete read (``fetch``) may remove anything.
- Reconciliation: per account and security, BUYs minus SELLs equal Plaid's quantity (in the profile's units).
  Missing history (holdings with no transactions in the 24-month window, securities only in
  ``/investments/holdings/get``) becomes one opening order per position, keyed ``opening:<account>:<profile>``:
  a BUY at Plaid's ``cost_basis`` / quantity when given, else at the price of the day.
- Cash: an investment account's balance is its cash in the account's currency; cash in other currencies is
  kept as holdings, one per currency (``CUR:EUR``), never dropped and never converted. Activities keep their
  own currency (else their security's price currency, else the account's).
- ``PRODUCT_NOT_READY`` on a new item is Plaid preparing its history: the first sync keeps waiting (see
  ``workers/sync.py``) and ``INVESTMENTS_TRANSACTIONS:HISTORICAL_UPDATE`` asks for a sync.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Any

from ghostfolio_plaid.models import OrderType

DATA_SOURCE = "PLAID"
PAIR_DAYS = 7
"""How far apart (in days) the two legs of a transfer or merger may be posted and still pair up."""

ASSET_CLASSES: dict[str, tuple[str | None, str | None]] = {
    "equity": ("EQUITY", "STOCK"),
    "etf": ("EQUITY", "ETF"),
    "mutual fund": ("EQUITY", "MUTUALFUND"),
    "fixed income": ("FIXED_INCOME", "BOND"),
    "loan": ("FIXED_INCOME", None),
    "cash": ("LIQUIDITY", "CASH"),
    "cryptocurrency": ("LIQUIDITY", "CRYPTOCURRENCY"),
    "derivative": ("ALTERNATIVE_INVESTMENT", None),
    "other": (None, None),
}

US_MARKETS = frozenset(
    {
        "XNYS",
        "XNAS",
        "XNGS",
        "XNMS",
        "XNCM",
        "ARCX",
        "XASE",
        "BATS",
        "BATY",
        "EDGA",
        "EDGX",
        "IEXG",
        "XCHI",
        "XBOS",
        "XPHL",
        "XCIS",
        "OTCM",
        "OOTC",
        "XOTC",
        "PINX",
        "OPRA",
        "XCBO",
        "XISX",
        "XPSE",
        "XCME",
    }
)
"""ISO-10383 codes of US markets: a listing there keeps its bare ticker, as Ghostfolio's data providers use it."""


class Effect(StrEnum):
    ACTIVITY = "activity"
    """An activity of the rule's order type."""
    POSITION = "position"
    """Units arrive (BUY) or leave (SELL), by the quantity's sign, at the reported price."""
    FREE_UNITS = "free_units"
    """Units arrive (or leave) at price 0: the total cost is unchanged (splits, spin-offs)."""
    CASH_ONLY = "cash_only"
    CANCEL = "cancel"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Rule:
    effect: Effect
    order_type: OrderType | None = None


BUY = Rule(Effect.ACTIVITY, OrderType.BUY)
SELL = Rule(Effect.ACTIVITY, OrderType.SELL)
DIVIDEND = Rule(Effect.ACTIVITY, OrderType.DIVIDEND)
INTEREST = Rule(Effect.ACTIVITY, OrderType.INTEREST)
FEE = Rule(Effect.ACTIVITY, OrderType.FEE)
POSITION = Rule(Effect.POSITION)
FREE_UNITS = Rule(Effect.FREE_UNITS)
CASH_ONLY = Rule(Effect.CASH_ONLY)
CANCEL = Rule(Effect.CANCEL)
UNKNOWN = Rule(Effect.UNKNOWN)

_INCOME = {
    "dividend": DIVIDEND,
    "qualified dividend": DIVIDEND,
    "non-qualified dividend": DIVIDEND,
    "long-term capital gain": DIVIDEND,
    "short-term capital gain": DIVIDEND,
    "unqualified gain": DIVIDEND,
    "interest": INTEREST,
    "interest receivable": INTEREST,
}
_COSTS = {
    name: FEE
    for name in (
        "account fee",
        "fund fee",
        "legal fee",
        "management fee",
        "margin expense",
        "miscellaneous fee",
        "non-resident tax",
        "tax",
        "tax withheld",
        "transfer fee",
        "trust fee",
    )
}

RULES: dict[tuple[str, str], Rule] = {
    **{
        ("buy", subtype): BUY
        for subtype in (
            "buy",
            "buy to cover",
            "assignment",
            "contribution",
            "dividend reinvestment",
            "interest reinvestment",
            "long-term capital gain reinvestment",
            "short-term capital gain reinvestment",
            "rebalance",
        )
    },
    **{("sell", subtype): SELL for subtype in ("sell", "sell short", "exercise", "distribution", "rebalance")},
    **{("cash", subtype): rule for subtype, rule in {**_INCOME, **_COSTS}.items()},
    **{
        ("cash", subtype): CASH_ONLY
        for subtype in (
            "contribution",
            "deposit",
            "withdrawal",
            "pending credit",
            "pending debit",
            "loan payment",
            "return of principal",
        )
    },
    ("cash", "stock distribution"): FREE_UNITS,
    **{("fee", subtype): rule for subtype, rule in {**_INCOME, **_COSTS}.items()},
    ("fee", "adjustment"): POSITION,
    ("fee", "return of principal"): CASH_ONLY,
    ("fee", "stock distribution"): FREE_UNITS,
    **{
        ("transfer", subtype): POSITION
        for subtype in (
            "transfer",
            "adjustment",
            "assignment",
            "exercise",
            "expire",
            "merger",
            "rebalance",
            "request",
            "send",
            "trade",
        )
    },
    ("transfer", "split"): FREE_UNITS,
    ("transfer", "spin off"): FREE_UNITS,
}
"""Every (type, subtype) pair Plaid documents, decided (``cancel`` is decided by its type alone)."""

TYPE_DEFAULTS: dict[str, Rule] = {"buy": BUY, "sell": SELL, "cancel": CANCEL, "transfer": POSITION}
"""A subtype outside the spec: these types still say what happens to the position; cash and fee do not."""

PAIRED_ACROSS_ACCOUNTS = frozenset({("transfer", "transfer")})
"""Legs that may be the two halves of one move between two accounts (ACATS or internal)."""
PAIRED_WITHIN_ACCOUNT = frozenset({("transfer", "merger")})
"""Legs that may be the two halves of one exchange of securities in an account."""


def rule_for(kind: str, subtype: str | None) -> Rule:
    """The rule of a transaction: the spec's pair, else the type's default, else UNKNOWN (skipped, counted)."""
    rule = RULES.get((kind, subtype or ""))
    if rule is not None:
        return rule
    return TYPE_DEFAULTS.get(kind, UNKNOWN)


def classify(kind: str, subtype: str | None) -> tuple[Effect, OrderType | None]:
    rule = rule_for(kind, subtype)
    return rule.effect, rule.order_type


def asset_class(security_type: str | None) -> tuple[str | None, str | None]:
    return ASSET_CLASSES.get(security_type or "other", (None, None))


# --- quotes that do not add up -------------------------------------------------------------------------


@dataclass(frozen=True)
class Scale:
    """What to multiply a reported quantity and price by so that quantity x price equals Plaid's total."""

    quantity: Decimal = Decimal(1)
    price: Decimal = Decimal(1)

    @property
    def identity(self) -> bool:
        return self.quantity == 1 and self.price == 1


AS_REPORTED = Scale()
PERCENT_QUOTE = Scale(price=Decimal("0.01"))
CONTRACTS = Scale(quantity=Decimal(100))
OPTIONS_PER_CONTRACT = Decimal(100)
"""Plaid: an option holding's quantity is "typically the number of contracts multiplied by 100"."""
TOLERANCE = Decimal("0.05")
"""How close the total must be to a factor of quantity x price (fees and rounding stay well within 5 %)."""


def _near(ratio: Decimal, factor: Decimal) -> bool:
    return abs(ratio / factor - 1) <= TOLERANCE


def quote_scale(quantity: Decimal, price: Decimal, total: Decimal | None, *, is_option: bool) -> Scale:
    """The scale that makes ``quantity x price`` equal ``total`` (see the module docstring), or AS_REPORTED."""
    if total is None:
        return AS_REPORTED
    product = abs(quantity * price)
    total = abs(total)
    if product == 0 or total == 0:
        return AS_REPORTED
    ratio = total / product
    if _near(ratio, Decimal(1)):
        return AS_REPORTED
    if _near(ratio, Decimal("0.01")):
        return PERCENT_QUOTE
    if is_option and _near(ratio, OPTIONS_PER_CONTRACT):
        return CONTRACTS
    return AS_REPORTED


def holding_total(holding: dict[str, Any]) -> Decimal | None:
    value = holding.get("institution_value")
    return None if value is None else Decimal(str(value))


def transaction_total(txn: dict[str, Any]) -> Decimal | None:
    """What the units cost (or brought): ``amount`` less ``fees`` (buy: q x p + fees; sell: -(q x p) + fees)."""
    amount = txn.get("amount")
    if amount is None:
        return None
    return Decimal(str(amount)) - Decimal(str(txn.get("fees") or 0))


# --- securities ----------------------------------------------------------------------------------------


def is_option(security: dict[str, Any] | None) -> bool:
    return security is not None and (
        isinstance(security.get("option_contract"), dict)
        or (security.get("type") == "derivative" and security.get("subtype") == "option")
    )


def record_currency(record: dict[str, Any]) -> str | None:
    """A record's own currency: ISO code, else the unofficial one (crypto), else None."""
    for key in ("iso_currency_code", "unofficial_currency_code"):
        value = record.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def iso_currency(record: dict[str, Any]) -> str | None:
    value = record.get("iso_currency_code")
    return value if isinstance(value, str) and value else None


def listing_of(market: str | None, currency: str | None) -> str | None:
    """The market that tells a listing from others of the same ticker, or None for a US (or USD) listing."""
    if isinstance(market, str) and market.strip():
        market = market.strip().upper()
        return None if market in US_MARKETS else market
    if currency is not None and currency != "USD":
        return currency
    return None


def listing_suffix(security: dict[str, Any], price_currency: str | None) -> str | None:
    return listing_of(security.get("market_identifier_code"), price_currency)


def base_symbol(security: dict[str, Any]) -> str:
    """The ticker, or a stable id for securities without one (bonds, private funds): ISIN, CUSIP, Plaid id."""
    for key in ("ticker_symbol", "isin", "cusip"):
        value = security.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return f"plaid:{security['security_id']}"


def symbol_of(security: dict[str, Any], price_currency: str | None = None, *, cash: bool = False) -> str:
    """The profile's symbol: the base symbol, with the listing's market unless it is a US listing (or cash)."""
    suffix = None if cash else listing_suffix(security, price_currency or iso_currency(security))
    symbol = base_symbol(security)
    return f"{symbol}:{suffix}" if suffix else symbol


def identity_key(security: dict[str, Any], price_currency: str | None = None) -> tuple[str, str] | None:
    """What survives a change of ``security_id`` or ticker: the ISIN (else CUSIP) and the listing's market."""
    listing = listing_suffix(security, price_currency or iso_currency(security)) or ""
    for key in ("isin", "cusip"):
        value = security.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip(), listing
    return None


def option_details(security: dict[str, Any]) -> dict[str, Any]:
    """Call/put, strike, expiry and underlying of an option contract; all None for anything else."""
    contract = security.get("option_contract")
    details: dict[str, Any] = {
        "option_type": None,
        "option_strike": None,
        "option_expiration": None,
        "option_underlying": None,
    }
    if not isinstance(contract, dict):
        return details
    kind = contract.get("contract_type")
    if isinstance(kind, str) and kind.lower() in ("call", "put"):
        details["option_type"] = kind.upper()
    strike = contract.get("strike_price")
    if isinstance(strike, int | float | Decimal) and not isinstance(strike, bool):
        details["option_strike"] = Decimal(str(strike))
    expiry = contract.get("expiration_date")
    if isinstance(expiry, str):
        with contextlib.suppress(ValueError):
            details["option_expiration"] = date.fromisoformat(expiry)
    underlying = contract.get("underlying_security_ticker")
    if isinstance(underlying, str) and underlying.strip():
        details["option_underlying"] = underlying.strip()[:255]
    return details


def cash_symbol(currency: str) -> str:
    return f"CUR:{currency}"
