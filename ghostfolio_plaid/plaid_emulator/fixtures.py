"""Deterministic sandbox data: accounts, securities, holdings and two years of transactions per item.

Data depends on the institution (its seed) and the item id (the ids), never on chance: two items of one
institution look alike, and re-reading an item returns identical data. Holdings equal what the transactions
imply, except in the IRA, whose history starts after a position was transferred in (incomplete history).
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from ghostfolio_plaid.plaid_emulator.institutions import Institution

HISTORY_DAYS = 730
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

Json = dict[str, Any]


DATASETS = ("sandbox", "traps")
"""``sandbox``: the catalogue (or synthetic equities) sized by the shape; ``traps``: see ``traps.py``."""


@dataclass(frozen=True)
class ItemShape:
    """How big an item is. Zero securities/transactions means the realistic sandbox catalog and history.

    ``dataset: "traps"`` is a fixed item with every real-world trap at once (``traps.py``); the size fields
    do not apply to it.
    """

    investment_accounts: int = 3
    securities: int = 0
    transactions_per_account: int = 0
    depository_account: bool = True
    dataset: str = "sandbox"

    def __post_init__(self) -> None:
        """Reject what would crash or exhaust the emulator later, when the item's data is first built."""
        if self.dataset not in DATASETS:
            raise ValueError(f"shape.dataset must be one of {', '.join(DATASETS)}")
        limits = {"investment_accounts": 50, "securities": 100_000, "transactions_per_account": 1_000_000}
        for name, limit in limits.items():
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= limit:
                raise ValueError(f"shape.{name} must be an integer from 0 to {limit}")
        if not isinstance(self.depository_account, bool):
            raise ValueError("shape.depository_account must be a boolean")
        if self.investment_accounts == 0 and not self.depository_account:
            raise ValueError("an item needs at least one account")


@dataclass
class ItemData:
    accounts: list[Json]
    securities: list[Json]
    holdings: list[Json]
    transactions: list[Json] = field(default_factory=list)


def plaid_id(*parts: object) -> str:
    """A 37-character id in Plaid's alphabet, stable for the same parts."""
    number = int.from_bytes(hashlib.sha256("/".join(map(str, parts)).encode()).digest(), "big")
    chars = []
    for _ in range(37):
        number, index = divmod(number, len(_ALPHABET))
        chars.append(_ALPHABET[index])
    return "".join(chars)


@dataclass(frozen=True)
class _Sec:
    ticker: str | None
    name: str
    type: str
    subtype: str
    price: float
    currency: str = "USD"
    isin: str | None = None
    cusip: str | None = None
    cash: bool = False
    income: str | None = None

    @property
    def key(self) -> str:
        return self.ticker or self.cusip or self.name


_USD = _Sec("CUR:USD", "U S Dollar", "cash", "cash", 1.0, cash=True)
_EUR = _Sec("CUR:EUR", "Euro", "cash", "cash", 1.0, currency="EUR", cash=True)
_CATALOG: tuple[_Sec, ...] = (
    _Sec(
        "AAPL",
        "Apple Inc.",
        "equity",
        "common stock",
        190.12,
        isin="US0378331005",
        cusip="037833100",
        income="dividend",
    ),
    _Sec(
        "MSFT",
        "Microsoft Corporation",
        "equity",
        "common stock",
        415.5,
        isin="US5949181045",
        cusip="594918104",
        income="qualified dividend",
    ),
    _Sec(
        "VTI",
        "Vanguard Total Stock Market ETF",
        "etf",
        "etf",
        245.3,
        isin="US9229087690",
        cusip="922908769",
        income="dividend",
    ),
    _Sec(
        "VFIAX",
        "Vanguard 500 Index Fund Admiral Shares",
        "mutual fund",
        "mutual fund",
        480.21,
        isin="US9229087104",
        cusip="922908710",
        income="non-qualified dividend",
    ),
    _Sec(
        None,
        "United States Treasury Note 4.25% 15/02/2030",
        "fixed income",
        "bond",
        98.75,
        isin="US91282CJL54",
        cusip="91282CJL5",
        income="interest",
    ),
    _Sec("BTC", "Bitcoin", "cryptocurrency", "cryptocurrency", 64000.0),
    _Sec("AAPL250620C00200000", "AAPL Jun 20 2025 200.00 Call", "derivative", "option", 5.25),
)


def security_json(sec: _Sec, as_of: date) -> Json:
    return {
        "security_id": plaid_id("security", sec.key),
        "isin": sec.isin,
        "cusip": sec.cusip,
        "sedol": None,
        "institution_security_id": None,
        "institution_id": None,
        "proxy_security_id": None,
        "name": sec.name,
        "ticker_symbol": sec.ticker,
        "is_cash_equivalent": sec.cash,
        "type": sec.type,
        "subtype": sec.subtype,
        "close_price": sec.price,
        "close_price_as_of": as_of.isoformat(),
        "update_datetime": None,
        "iso_currency_code": sec.currency,
        "unofficial_currency_code": None,
        "market_identifier_code": "XNAS" if sec.type in ("equity", "etf") else None,
        "sector": None,
        "industry": None,
        "cfi_code": None,
        "figi": None,
        "option_contract": {
            "contract_type": "call",
            "expiration_date": "2025-06-20",
            "strike_price": 200.0,
            "underlying_security_ticker": "AAPL",
        }
        if sec.type == "derivative"
        else None,
        "fixed_income": {
            "yield_rate": {"percentage": 4.25, "type": "coupon"},
            "maturity_date": "2030-02-15",
            "issue_date": "2020-02-15",
            "face_value": 1000.0,
        }
        if sec.type == "fixed income"
        else None,
    }


_FIXED_QUANTITIES = {"cryptocurrency": 0.25, "derivative": 2.0, "fixed income": 20.0}
_ACCOUNT_KINDS = (("Plaid Brokerage", "brokerage"), ("Plaid IRA", "ira"), ("Plaid 401k", "401k"))


class _Builder:
    def __init__(self, item_id: str, institution: Institution, shape: ItemShape, today: date) -> None:
        self.item_id = item_id
        self.institution = institution
        self.shape = shape
        self.today = today
        self.as_of = today - timedelta(days=1)
        self.securities: dict[str, _Sec] = {}
        self.transactions: list[Json] = []
        self.holdings: list[Json] = []
        self.accounts: list[Json] = []

    def build(self) -> ItemData:
        for index in range(self.shape.investment_accounts):
            self._investment_account(index)
        if self.shape.depository_account:
            self.accounts.append(
                self._account("Plaid Checking", "depository", "checking", 99, current=110.0, available=100.0)
            )
        self.transactions.sort(key=lambda t: (t["date"], t["investment_transaction_id"]), reverse=True)
        securities = [security_json(sec, self.as_of) for sec in self.securities.values()]
        return ItemData(self.accounts, securities, self.holdings, self.transactions)

    def _account(self, name: str, kind: str, subtype: str, index: int, *, current: float, available: float) -> Json:
        balances: Json = {
            "available": round(available, 2),
            "current": round(current, 2),
            "limit": None,
            "iso_currency_code": "USD",
            "unofficial_currency_code": None,
            "margin_loan_amount": None,
        }
        return {
            "account_id": plaid_id("account", self.item_id, index),
            "balances": balances,
            "mask": f"{(self.institution.seed * 1000 + index) % 10000:04d}",
            "name": name,
            "official_name": f"{name} ({self.institution.name})",
            "type": kind,
            "subtype": subtype,
        }

    def _investment_account(self, index: int) -> None:
        rng = random.Random(f"{self.institution.seed}:{index}:{self.shape}")
        name, subtype = _ACCOUNT_KINDS[index % len(_ACCOUNT_KINDS)]
        if index >= len(_ACCOUNT_KINDS):
            name = f"{name} {index + 1}"
        account_id = plaid_id("account", self.item_id, index)
        if self.shape.securities:
            positions = self._synthetic_history(rng, index, account_id)
        else:
            positions = self._sandbox_history(rng, index, account_id)
        cash = round(rng.uniform(500, 5000), 2)
        positions.setdefault(_USD.key, (0.0, 0.0))
        positions[_USD.key] = (cash, cash)
        if index == 0 and not self.shape.securities:
            positions[_EUR.key] = (250.0, 250.0)
        value = 0.0
        for key, (quantity, cost) in positions.items():
            sec = self.securities.get(key) or (_USD if key == _USD.key else _EUR)
            self.securities[key] = sec
            if abs(quantity) < 1e-9:
                continue
            holding_value = round(quantity * sec.price, 2)
            value += holding_value
            self.holdings.append(
                {
                    "account_id": account_id,
                    "security_id": plaid_id("security", key),
                    "institution_price": sec.price,
                    "institution_price_as_of": self.as_of.isoformat(),
                    "institution_price_datetime": None,
                    "institution_value": holding_value,
                    "cost_basis": round(cost, 2) if cost else None,
                    "quantity": round(quantity, 10),
                    "iso_currency_code": sec.currency,
                    "unofficial_currency_code": None,
                }
            )
        self.accounts.append(self._account(name, "investment", subtype, index, current=value, available=cash))

    def _txn(
        self,
        account_id: str,
        n: int,
        day: int,
        sec: _Sec | None,
        kind: str,
        subtype: str,
        quantity: float,
        price: float,
        amount: float,
        fees: float = 0.0,
        cancels: str | None = None,
    ) -> Json:
        if sec is not None:
            self.securities[sec.key] = sec
        txn = {
            "investment_transaction_id": plaid_id("txn", self.item_id, account_id, n),
            "account_id": account_id,
            "security_id": plaid_id("security", sec.key) if sec else None,
            "date": (self.today - timedelta(days=day)).isoformat(),
            "transaction_datetime": None,
            "name": _describe(kind, subtype, sec),
            "quantity": round(quantity, 10),
            "amount": round(amount, 2),
            "price": round(price, 6),
            "fees": round(fees, 2),
            "type": kind,
            "subtype": subtype,
            "iso_currency_code": sec.currency if sec else "USD",
            "unofficial_currency_code": None,
            "cancel_transaction_id": cancels,
        }
        self.transactions.append(txn)
        return txn

    def _sandbox_history(self, rng: random.Random, index: int, account_id: str) -> dict[str, tuple[float, float]]:
        """A realistic history over the sandbox catalog: buys, sells, income, fees, cash moves, a cancel."""
        held = [sec for sec in _CATALOG if index == 0 or sec.type in ("equity", "etf", "mutual fund", "fixed income")]
        positions: dict[str, tuple[float, float]] = {}
        n = 0
        self._txn(account_id, n, HISTORY_DAYS - 5, None, "cash", "deposit", 0, 0, -50000.0)
        for sec in held:
            qty = {"cryptocurrency": 0.25, "derivative": 2.0, "fixed income": 20.0}.get(
                sec.type, float(rng.randint(5, 40))
            )
            price = round(sec.price * rng.uniform(0.7, 0.95), 2)
            n += 1
            self._txn(account_id, n, HISTORY_DAYS - 10 - n, sec, "buy", "buy", qty, price, qty * price + 4.95, 4.95)
            positions[sec.key] = (qty, qty * price + 4.95)
            if sec.income:
                for quarter in range(1, 8):
                    n += 1
                    income = round(qty * sec.price * rng.uniform(0.002, 0.006), 2)
                    kind = "cash"
                    self._txn(account_id, n, HISTORY_DAYS - 10 - quarter * 90, sec, kind, sec.income, 0, 0, -income)
        sold = held[0]
        quantity, cost = positions[sold.key]
        part = max(1.0, float(int(quantity / 3)))
        n += 1
        sell_price = round(sold.price * 0.98, 2)
        self._txn(account_id, n, 120, sold, "sell", "sell", -part, sell_price, -(part * sell_price) + 4.95, 4.95)
        positions[sold.key] = (quantity - part, cost * (quantity - part) / quantity)
        extra = held[1]
        n += 1
        # Plaid sometimes reports a sell with a positive quantity; the type, not the sign, is the truth.
        self._txn(account_id, n, 60, extra, "sell", "sell", 1.0, extra.price, -extra.price)
        quantity, cost = positions[extra.key]
        positions[extra.key] = (quantity - 1.0, cost * (quantity - 1.0) / quantity)
        n += 1
        cancelled = self._txn(account_id, n, 30, extra, "buy", "buy", 3.0, extra.price, 3 * extra.price)
        n += 1
        self._txn(
            account_id,
            n,
            29,
            extra,
            "cancel",
            "buy",
            -3.0,
            extra.price,
            -3 * extra.price,
            cancels=cancelled["investment_transaction_id"],
        )
        for month in range(1, 24):
            n += 1
            self._txn(account_id, n, month * 30, None, "fee", "account fee", 0, 0, 2.5)
            if month % 6 == 0:
                n += 1
                self._txn(account_id, n, month * 30 + 3, None, "cash", "contribution", 0, 0, -500.0)
        n += 1
        self._txn(account_id, n, 45, None, "cash", "interest", 0, 0, -3.21)
        n += 1
        self._txn(account_id, n, 15, None, "cash", "withdrawal", 0, 0, 250.0)
        if index == 0:
            n += 1
            moved = _CATALOG[2]
            self._txn(account_id, n, 200, moved, "transfer", "transfer", 4.0, moved.price, 0.0)
            quantity, cost = positions[moved.key]
            positions[moved.key] = (quantity + 4.0, cost + 4.0 * moved.price)
        if index == 1:
            transferred = _CATALOG[0]
            quantity, cost = positions.get(transferred.key, (0.0, 0.0))
            positions[transferred.key] = (quantity + 15.0, cost + 15.0 * 60.0)
            self.securities[transferred.key] = transferred
        return positions

    def _synthetic_history(self, rng: random.Random, index: int, account_id: str) -> dict[str, tuple[float, float]]:
        """A large, complete history over synthetic equities, for benchmarks."""
        accounts = max(1, self.shape.investment_accounts)
        mine = [
            _Sec(
                f"S{i:05d}",
                f"Synthetic Equity {i:05d}",
                "equity",
                "common stock",
                round(10 + (i * 7.31) % 490, 2),
                isin=f"US{i:09d}0",
                cusip=f"{i:08d}0",
            )
            for i in range(self.shape.securities)
            if i % accounts == index
        ] or [_CATALOG[0]]
        positions: dict[str, tuple[float, float]] = {}
        total = self.shape.transactions_per_account or 40
        for n in range(total):
            day = HISTORY_DAYS - 1 - (n * (HISTORY_DAYS - 2)) // total
            sec = mine[n % len(mine)]
            quantity, cost = positions.get(sec.key, (0.0, 0.0))
            roll = rng.random()
            if quantity >= 2 and roll < 0.2:
                part = float(int(quantity / 2))
                self._txn(account_id, n, day, sec, "sell", "sell", -part, sec.price, -part * sec.price + 1.0, 1.0)
                positions[sec.key] = (quantity - part, cost * (quantity - part) / quantity)
            elif quantity > 0 and roll < 0.35:
                self._txn(account_id, n, day, sec, "cash", "dividend", 0, 0, -round(quantity * 0.01 + 0.01, 2))
            else:
                qty = float(rng.randint(1, 20))
                self._txn(account_id, n, day, sec, "buy", "buy", qty, sec.price, qty * sec.price + 1.0, 1.0)
                positions[sec.key] = (quantity + qty, cost + qty * sec.price + 1.0)
        return positions


def _describe(kind: str, subtype: str, sec: _Sec | None) -> str:
    subject = sec.name if sec else "Account"
    return f"{subtype.upper() if kind != subtype else kind.upper()} {subject}"


def build_item_data(item_id: str, institution: Institution, shape: ItemShape, today: date | None = None) -> ItemData:
    return _Builder(item_id, institution, shape, today or date.today()).build()
