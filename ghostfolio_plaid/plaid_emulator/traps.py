"""The ``traps`` dataset: one item with every real-world trap of Plaid's investments data at once.

Seed it with ``POST /emulator/items`` and ``"shape": {"dataset": "traps"}``; ``POST
/emulator/items/{item_id}/revise`` then moves it to revision 1, as Plaid revises its recent past. What a
broker would report is in the holdings: every figure here adds up the way the account statement does, so a
sync that gets the traps right ends with positions, values and cash equal to the holdings, to the cent.

Accounts: "Traps Brokerage" (A), "Traps IRA" (B), "Traps Legacy" (C, holdings and no transactions at all) and
a checking account. The traps, by the issue's numbering:

1. Income booked under ``fee`` (qualified, non-qualified dividend, long-term capital gain, interest) and
   ``cash``; real costs (account fee, tax withheld); cash moves (deposit, withdrawal, pending credit).
2. Options: a call bought as "2 contracts at 12.50" (amount 2,500 = 200 options x 12.50) and a put as "100
   options at 320" (a price per contract); holdings count options. Both carry ``option_contract``.
3. A Treasury bond quoted in percent of par: quantity 10,000 at 97 for 9,700; held at 98.5, worth 9,850.
4. SHOP on the NYSE (USD) and on the TSX (CAD), same ISIN; a private fund whose ``proxy_security_id`` names
   an ETF held beside it; at revision 1 OLDC becomes NEWC with a new ``security_id`` (same ISIN).
5. Revision 1 revises a buy (5 at 54 -> 4 at 54.50) and a dividend, withdraws a buy and a dividend, and adds
   an interest payment, all within the last 30 days; prices and cash move.
6. ACME moves from A to B (ACATS legs two days apart, at the day's price; a resync's 30-day window holds only
   the arriving leg), splits 2:1, spins off SPNC (at a reported price that is not a cost) and TRGT merges into
   MRGC; cash-only transfers.
7. Account C, and GIFT in A: holdings without history, with and without ``cost_basis``.
8. (Not data: a test injects ``PRODUCT_NOT_READY`` with ``/emulator/faults``.)
9. Bitcoin whose security carries only ``unofficial_currency_code: BTC`` while it is priced and held in USD;
   CAD cash in a USD account; a CAD listing whose activities are in CAD.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any

from ghostfolio_plaid.plaid_emulator.fixtures import ItemData, plaid_id

Json = dict[str, Any]
REVISIONS = 2
"""Revision 0 (as linked) and revision 1 (after ``/revise``)."""


@dataclass(frozen=True)
class _Security:
    key: str
    ticker: str | None
    name: str
    type: str
    subtype: str
    price: float
    currency: str | None = "USD"
    unofficial_currency: str | None = None
    market: str | None = None
    isin: str | None = None
    cusip: str | None = None
    cash: bool = False
    option: Json | None = None
    fixed_income: Json | None = None
    proxy: str | None = None
    institution_security_id: str | None = None

    @property
    def security_id(self) -> str:
        return plaid_id("traps-security", self.key)


USD = _Security("usd", "CUR:USD", "U S Dollar", "cash", "cash", 1.0, cash=True)
CAD = _Security("cad", "CUR:CAD", "Canadian Dollar", "cash", "cash", 1.0, currency="CAD", cash=True)
ACME = _Security(
    "acme", "ACME", "Acme Corp", "equity", "common stock", 55.0, market="XNYS", isin="US0000ACME01", cusip="0000ACME0"
)
SPIN = _Security("spin", "SPNC", "Spinco Inc", "equity", "common stock", 8.0, market="XNYS")
TARGET = _Security("target", "TRGT", "Target Holdings", "equity", "common stock", 30.0, market="XNAS")
MERGED = _Security("merged", "MRGC", "Merged Corp", "equity", "common stock", 62.0, market="XNAS")
SHOP_US = _Security(
    "shop-us", "SHOP", "Shopify Inc", "equity", "common stock", 100.0, market="XNYS", isin="CA82509L1076"
)
SHOP_CA = _Security(
    "shop-ca",
    "SHOP",
    "Shopify Inc",
    "equity",
    "common stock",
    137.0,
    currency="CAD",
    market="XTSE",
    isin="CA82509L1076",
)
CALL = _Security(
    "call",
    "ACME270115C00060000",
    "ACME Jan 15 2027 60.00 Call",
    "derivative",
    "option",
    12.5,
    option={
        "contract_type": "call",
        "expiration_date": "2027-01-15",
        "strike_price": 60.0,
        "underlying_security_ticker": "ACME",
    },
)
PUT = _Security(
    "put",
    "ACME270115P00050000",
    "ACME Jan 15 2027 50.00 Put",
    "derivative",
    "option",
    3.2,
    option={
        "contract_type": "put",
        "expiration_date": "2027-01-15",
        "strike_price": 50.0,
        "underlying_security_ticker": "ACME",
    },
)
BOND = _Security(
    "bond",
    None,
    "United States Treasury Note 3.875% 15/08/2034",
    "fixed income",
    "bond",
    98.5,
    isin="US91282CKV21",
    cusip="91282CKV2",
    fixed_income={
        "yield_rate": {"percentage": 3.875, "type": "coupon"},
        "maturity_date": "2034-08-15",
        "issue_date": "2024-08-15",
        "face_value": 1.0,
    },
)
BITCOIN = _Security(
    "btc", "BTC", "Bitcoin", "cryptocurrency", "cryptocurrency", 60000.0, currency=None, unofficial_currency="BTC"
)
OLD = _Security("oldco", "OLDC", "Oldco Inc", "equity", "common stock", 25.0, market="XNAS", isin="US00OLDCO001")
NEW = replace(OLD, key="newco", ticker="NEWC", name="Newco Inc", price=26.0)
TOTAL = _Security("totl", "TOTL", "Total Market ETF", "etf", "etf", 250.0, market="ARCX", isin="US00000TOTL1")
FUND = _Security(
    "fund",
    None,
    "Acme Private Growth Fund",
    "mutual fund",
    "mutual fund",
    10.5,
    proxy=TOTAL.security_id,
    institution_security_id="PF-001",
)
GIFT = _Security("gift", "GIFT", "Gift Shares Inc", "equity", "common stock", 90.0, market="XNAS")


def _security_json(sec: _Security, as_of: date) -> Json:
    return {
        "security_id": sec.security_id,
        "isin": sec.isin,
        "cusip": sec.cusip,
        "sedol": None,
        "institution_security_id": sec.institution_security_id,
        "institution_id": "ins_109508" if sec.institution_security_id else None,
        "proxy_security_id": sec.proxy,
        "name": sec.name,
        "ticker_symbol": sec.ticker,
        "is_cash_equivalent": sec.cash,
        "type": sec.type,
        "subtype": sec.subtype,
        "close_price": sec.price,
        "close_price_as_of": as_of.isoformat(),
        "update_datetime": None,
        "iso_currency_code": sec.currency,
        "unofficial_currency_code": sec.unofficial_currency,
        "market_identifier_code": sec.market,
        "sector": None,
        "industry": None,
        "cfi_code": None,
        "figi": None,
        "option_contract": sec.option,
        "fixed_income": sec.fixed_income,
    }


class _Traps:
    def __init__(self, item_id: str, revision: int, today: date) -> None:
        self.item_id = item_id
        self.revision = revision
        self.today = today
        self.as_of = today - timedelta(days=1)
        self.securities: dict[str, _Security] = {}
        self.transactions: list[Json] = []
        self.holdings: list[Json] = []
        self.accounts: list[Json] = []

    def account_id(self, index: int) -> str:
        return plaid_id("traps-account", self.item_id, index)

    def price(self, sec: _Security) -> float:
        """Revision 1 moves some prices, as a later read of the same broker would."""
        moved = {ACME.key: 56.0, CALL.key: 13.1} if self.revision else {}
        return moved.get(sec.key, sec.price)

    def txn(
        self,
        account: int,
        ident: str,
        days_ago: int,
        sec: _Security | None,
        kind: str,
        subtype: str,
        *,
        quantity: float = 0.0,
        price: float = 0.0,
        amount: float = 0.0,
        fees: float = 0.0,
        currency: str = "USD",
    ) -> None:
        if sec is not None:
            self.securities[sec.key] = sec
        self.transactions.append(
            {
                "investment_transaction_id": plaid_id("traps-txn", self.item_id, ident),
                "account_id": self.account_id(account),
                "security_id": sec.security_id if sec else None,
                "date": (self.today - timedelta(days=days_ago)).isoformat(),
                "transaction_datetime": None,
                "name": f"{subtype.upper()} {sec.name if sec else 'cash'}",
                "quantity": quantity,
                "amount": amount,
                "price": price,
                "fees": fees,
                "type": kind,
                "subtype": subtype,
                "iso_currency_code": currency,
                "unofficial_currency_code": None,
                "cancel_transaction_id": None,
            }
        )

    def hold(self, account: int, sec: _Security, quantity: float, cost_basis: float | None, *, value: float) -> None:
        """A holding as the broker states it: ``value`` is the statement's figure (quantity x its own quote)."""
        self.securities[sec.key] = sec
        self.holdings.append(
            {
                "account_id": self.account_id(account),
                "security_id": sec.security_id,
                "institution_price": self.price(sec),
                "institution_price_as_of": self.as_of.isoformat(),
                "institution_price_datetime": None,
                "institution_value": round(value, 2),
                "cost_basis": cost_basis,
                "quantity": quantity,
                "iso_currency_code": "USD" if sec.currency is None else sec.currency,
                "unofficial_currency_code": None,
            }
        )

    def cash(self, account: int, sec: _Security, amount: float) -> None:
        self.hold(account, sec, amount, None, value=amount)

    def account(self, index: int, name: str, kind: str, subtype: str) -> None:
        own = [h for h in self.holdings if h["account_id"] == self.account_id(index)]
        cash = sum(h["institution_value"] for h in own if h["security_id"] == USD.security_id)
        total = sum(h["institution_value"] for h in own if h["iso_currency_code"] == "USD")
        current, available = (round(total, 2), round(cash, 2)) if kind == "investment" else (2500.0, 2400.0)
        self.accounts.append(
            {
                "account_id": self.account_id(index),
                "balances": {
                    "available": available,
                    "current": current,
                    "limit": None,
                    "iso_currency_code": "USD",
                    "unofficial_currency_code": None,
                    "margin_loan_amount": None,
                },
                "mask": f"{7000 + index:04d}",
                "name": name,
                "official_name": f"{name} (traps)",
                "type": kind,
                "subtype": subtype,
            }
        )

    def build(self) -> ItemData:
        self.brokerage_history()
        self.ira_history()
        self.brokerage_holdings()
        self.ira_holdings()
        self.legacy_holdings()
        self.account(0, "Traps Brokerage", "investment", "brokerage")
        self.account(1, "Traps IRA", "investment", "ira")
        self.account(2, "Traps Legacy", "investment", "brokerage")
        self.account(3, "Traps Checking", "depository", "checking")
        self.transactions.sort(key=lambda t: (t["date"], t["investment_transaction_id"]), reverse=True)
        securities = [_security_json(sec, self.as_of) for sec in self.securities.values()]
        return ItemData(self.accounts, securities, self.holdings, self.transactions)

    def brokerage_history(self) -> None:
        """Account A: every kind of income and cost, the options, the bond, both SHOP listings, the corporate
        actions and the leaving ACATS leg; the last 30 days differ between revisions."""
        self.txn(0, "deposit", 700, None, "cash", "deposit", amount=-50000.0)
        self.txn(0, "bond", 500, BOND, "buy", "buy", quantity=10000.0, price=97.0, amount=9700.0)
        self.txn(0, "btc", 450, BITCOIN, "buy", "buy", quantity=0.5, price=40000.0, amount=20000.0)
        self.txn(0, "target", 420, TARGET, "buy", "buy", quantity=8.0, price=25.0, amount=200.0)
        self.txn(0, "acme", 400, ACME, "buy", "buy", quantity=30.0, price=100.0, amount=3004.95, fees=4.95)
        self.txn(0, "oldco", 350, OLD, "buy", "buy", quantity=15.0, price=20.0, amount=300.0)
        self.txn(0, "qualified", 300, ACME, "fee", "qualified dividend", amount=-12.34)
        self.txn(0, "shop-us", 250, SHOP_US, "buy", "buy", quantity=10.0, price=80.0, amount=800.0)
        self.txn(0, "shop-ca", 240, SHOP_CA, "buy", "buy", quantity=5.0, price=110.0, amount=550.0, currency="CAD")
        self.txn(0, "cash-dividend", 200, ACME, "cash", "dividend", amount=-5.0)
        self.txn(0, "coupon", 190, BOND, "cash", "interest", amount=-193.75)
        self.txn(0, "fee-interest", 180, None, "fee", "interest", amount=-3.21)
        self.txn(0, "account-fee", 170, None, "fee", "account fee", amount=2.5)
        self.txn(0, "withheld", 160, ACME, "fee", "tax withheld", amount=1.85)
        self.txn(0, "lt-gain", 150, ACME, "fee", "long-term capital gain", amount=-7.5)
        self.txn(0, "nq-dividend", 140, SHOP_CA, "fee", "non-qualified dividend", amount=-2.1, currency="CAD")
        self.txn(0, "split", 100, ACME, "transfer", "split", quantity=30.0)
        self.txn(0, "call", 90, CALL, "buy", "buy", quantity=2.0, price=12.5, amount=2501.3, fees=1.3)
        self.txn(0, "put", 85, PUT, "buy", "buy", quantity=100.0, price=320.0, amount=320.0)
        self.txn(0, "spin-off", 80, SPIN, "transfer", "spin off", quantity=6.0, price=7.5)
        self.txn(0, "merger-out", 70, TARGET, "transfer", "merger", quantity=-8.0, price=30.0)
        self.txn(0, "merger-in", 70, MERGED, "transfer", "merger", quantity=4.0, price=60.0)
        self.txn(0, "acats-out", 32, ACME, "transfer", "transfer", quantity=-20.0, price=55.0)
        self.txn(0, "withdrawal", 45, None, "cash", "withdrawal", amount=1000.0)
        self.txn(0, "cash-out", 40, USD, "transfer", "transfer", quantity=-500.0, price=1.0, amount=500.0)
        self.txn(0, "pending", 35, None, "cash", "pending credit", amount=-20.0)
        if self.revision == 0:
            self.txn(0, "recent-buy", 20, ACME, "buy", "buy", quantity=5.0, price=54.0, amount=270.0)
            self.txn(0, "recent-shop", 15, SHOP_US, "buy", "buy", quantity=2.0, price=99.0, amount=198.0)
            self.txn(0, "recent-dividend", 12, SHOP_US, "cash", "dividend", amount=-1.0)
            self.txn(0, "withdrawn-dividend", 10, ACME, "fee", "dividend", amount=-9.99)
        else:
            self.txn(0, "recent-buy", 20, ACME, "buy", "buy", quantity=4.0, price=54.5, amount=218.0)
            self.txn(0, "recent-dividend", 12, SHOP_US, "cash", "dividend", amount=-1.1)
            self.txn(0, "new-interest", 5, None, "fee", "interest", amount=-0.42)

    def ira_history(self) -> None:
        """Account B: the arriving ACATS leg (two days after the leaving one), a reinvested dividend, and a
        transfer of cash only."""
        self.txn(1, "acats-in", 30, ACME, "transfer", "transfer", quantity=20.0, price=55.0)
        self.txn(1, "cash-in", 29, None, "transfer", "transfer", amount=-1000.0)
        self.txn(1, "reinvest", 25, ACME, "buy", "dividend reinvestment", quantity=1.0, price=55.0, amount=55.0)

    def brokerage_holdings(self) -> None:
        acme = 44.0 if self.revision else 45.0
        self.hold(0, ACME, acme, 2218.0 if self.revision else 2270.0, value=acme * self.price(ACME))
        self.hold(0, MERGED, 4.0, 200.0, value=4 * 62.0)
        self.hold(0, SPIN, 6.0, None, value=6 * 8.0)
        self.hold(0, BITCOIN, 0.5, 20000.0, value=0.5 * 60000.0)
        self.hold(0, BOND, 10000.0, 9700.0, value=10000 * 0.985)
        renamed = NEW if self.revision else OLD
        self.hold(0, renamed, 15.0, 300.0, value=15 * renamed.price)
        shop = 10.0 if self.revision else 12.0
        self.hold(0, SHOP_US, shop, 800.0 if self.revision else 998.0, value=shop * 100.0)
        self.hold(0, SHOP_CA, 5.0, 550.0, value=5 * 137.0)
        self.hold(0, CALL, 200.0, 2501.3, value=200 * self.price(CALL))
        self.hold(0, PUT, 100.0, 320.0, value=100 * 3.2)
        self.hold(0, GIFT, 5.0, 400.0, value=5 * 90.0)
        self.cash(0, USD, 1300.0 if self.revision else 1234.56)
        self.cash(0, CAD, 500.0)

    def ira_holdings(self) -> None:
        self.hold(1, ACME, 21.0, 1055.0, value=21 * self.price(ACME))
        self.cash(1, USD, 2000.0)

    def legacy_holdings(self) -> None:
        self.hold(2, TOTAL, 12.0, 2400.0, value=12 * 250.0)
        self.hold(2, FUND, 100.0, None, value=100 * 10.5)
        self.cash(2, USD, 150.0)


def build_traps(item_id: str, revision: int = 0, today: date | None = None) -> ItemData:
    if not 0 <= revision < REVISIONS:
        raise ValueError(f"the traps dataset has revisions 0 to {REVISIONS - 1}")
    return _Traps(item_id, revision, today or date.today()).build()
