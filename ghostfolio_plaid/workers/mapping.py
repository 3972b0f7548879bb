"""How Plaid's vocabulary becomes Ghostfolio's: one table for securities, one for transactions.

Transaction rules (type, subtype) -> effect:

- ``buy/*`` -> BUY and ``sell/*`` -> SELL; the direction comes from the type, never from the quantity's sign
  (Plaid sometimes reports sells with a positive quantity). Quantities are stored positive.
- ``cash`` dividends of every kind, including capital-gain distributions -> DIVIDEND; ``cash`` interest -> INTEREST;
  ``cash`` taxes and fees -> FEE.
- ``fee/*`` -> FEE.
- ``cash`` contributions, deposits, withdrawals and other cash moves -> no activity (they move cash only; the
  account's cash balance comes from Plaid's holdings).
- ``transfer/*`` that changes a position (a security that is not cash, a non-zero quantity: transfers, splits,
  mergers, spin-offs, exercises) -> BUY when shares arrive, SELL when they leave, at the reported price
  (zero for a split), so positions stay reconciled; a ``transfer`` of cash only -> no activity.
- ``cancel`` -> removes the activity named by ``cancel_transaction_id``; it creates none itself.
- anything else -> skipped and counted, never guessed.
"""

from __future__ import annotations

from enum import StrEnum

from ghostfolio_plaid.models import OrderType

DATA_SOURCE = "PLAID"

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

DIVIDEND_SUBTYPES = frozenset(
    {
        "dividend",
        "qualified dividend",
        "non-qualified dividend",
        "long-term capital gain",
        "short-term capital gain",
        "unqualified gain",
        "distribution",
        "stock distribution",
        "return of principal",
    }
)
INTEREST_SUBTYPES = frozenset({"interest", "interest receivable"})
CASH_FEE_SUBTYPES = frozenset(
    {
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
    }
)


class Effect(StrEnum):
    ACTIVITY = "activity"
    POSITION_TRANSFER = "position_transfer"
    CASH_ONLY = "cash_only"
    CANCEL = "cancel"
    UNKNOWN = "unknown"


def classify(kind: str, subtype: str | None) -> tuple[Effect, OrderType | None]:
    if kind == "buy":
        return Effect.ACTIVITY, OrderType.BUY
    if kind == "sell":
        return Effect.ACTIVITY, OrderType.SELL
    if kind == "fee":
        return Effect.ACTIVITY, OrderType.FEE
    if kind == "cancel":
        return Effect.CANCEL, None
    if kind == "transfer":
        return Effect.POSITION_TRANSFER, None
    if kind == "cash":
        if subtype in DIVIDEND_SUBTYPES:
            return Effect.ACTIVITY, OrderType.DIVIDEND
        if subtype in INTEREST_SUBTYPES:
            return Effect.ACTIVITY, OrderType.INTEREST
        if subtype in CASH_FEE_SUBTYPES:
            return Effect.ACTIVITY, OrderType.FEE
        return Effect.CASH_ONLY, None
    return Effect.UNKNOWN, None


def asset_class(security_type: str | None) -> tuple[str | None, str | None]:
    return ASSET_CLASSES.get(security_type or "other", (None, None))


def symbol_of(security: dict[str, object]) -> str:
    """The ticker, or a stable id for securities without one (bonds, private funds): ISIN, CUSIP, Plaid id."""
    for key in ("ticker_symbol", "isin", "cusip"):
        value = security.get(key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return f"plaid:{security['security_id']}"


def cash_symbol(currency: str) -> str:
    return f"CUR:{currency}"
