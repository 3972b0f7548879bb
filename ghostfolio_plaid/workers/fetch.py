"""Everything one sync reads from Plaid, fetched and checked before anything is written.

Two promises leave this module, because the writers act on them:

- Shape: every field the writers read has the type they rely on. Plaid's JSON is checked here, at the
  boundary, so a malformed answer is a ``PlaidBadResponse`` (retryable, nothing written), not a ``TypeError``
  or ``KeyError`` halfway through a write.
- Completeness: the transactions are the whole window. Activities that Plaid no longer reports are deleted,
  so the read must prove it saw everything: the same total on every page, no empty page before the total,
  no transaction id twice, and exactly ``total`` transactions in the end. Anything else is a
  ``PlaidBadResponse`` with code ``PLAID_INCOMPLETE_READ``, and the sync changes nothing.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from ghostfolio_plaid.errors import PlaidBadResponse
from ghostfolio_plaid.plaid_client import PlaidClient

Json = dict[str, Any]
PAGE_SIZE = 500
INCOMPLETE_READ = "PLAID_INCOMPLETE_READ"
MAX_MAGNITUDE = Decimal(10) ** 15
"""Larger quantities or amounts are not real (and would overflow the 28,8 money columns once summed)."""
Progress = Callable[[int, int], Awaitable[None]]
Check = Callable[[Any], bool]


def _text(limit: int, *, optional: bool = False) -> Check:
    return lambda v: (optional and v is None) or (isinstance(v, str) and 0 < len(v) <= limit)


def _number(*, optional: bool = False) -> Check:
    def check(v: Any) -> bool:
        if optional and v is None:
            return True
        if isinstance(v, bool) or not isinstance(v, int | Decimal):
            return False
        value = Decimal(v)
        return value.is_finite() and abs(value) < MAX_MAGNITUDE

    return check


def _date(*, optional: bool = False) -> Check:
    def check(v: Any) -> bool:
        if optional and v is None:
            return True
        try:
            date.fromisoformat(v)
        except (TypeError, ValueError):
            return False
        return True

    return check


def _optional_bool(v: Any) -> bool:
    return v is None or isinstance(v, bool)


def _optional_object(v: Any) -> bool:
    return v is None or isinstance(v, dict)


CURRENCY = {"iso_currency_code": _text(8, optional=True), "unofficial_currency_code": _text(8, optional=True)}
ACCOUNT: dict[str, Check] = {"account_id": _text(255), "type": _text(64, optional=True), "balances": _optional_object}
BALANCES: dict[str, Check] = {"available": _number(optional=True), "current": _number(optional=True), **CURRENCY}
HOLDING: dict[str, Check] = {
    "account_id": _text(255),
    "security_id": _text(200),
    "quantity": _number(),
    "institution_price": _number(optional=True),
    "institution_price_as_of": _date(optional=True),
    "institution_value": _number(optional=True),
    "cost_basis": _number(optional=True),
    **CURRENCY,
}
SECURITY: dict[str, Check] = {
    "security_id": _text(200),
    "type": _text(64, optional=True),
    "is_cash_equivalent": _optional_bool,
    "name": _text(512, optional=True),
    "ticker_symbol": _text(255, optional=True),
    "isin": _text(16, optional=True),
    "cusip": _text(16, optional=True),
    "close_price": _number(optional=True),
    "close_price_as_of": _date(optional=True),
    **CURRENCY,
}
TRANSACTION: dict[str, Check] = {
    "investment_transaction_id": _text(255),
    "account_id": _text(255),
    "security_id": _text(200, optional=True),
    "date": _date(),
    "type": _text(64),
    "subtype": _text(64, optional=True),
    "quantity": _number(optional=True),
    "amount": _number(optional=True),
    "price": _number(optional=True),
    "fees": _number(optional=True),
    "cancel_transaction_id": _text(255, optional=True),
    **CURRENCY,
}


def _records(answer: Json, key: str, shape: dict[str, Check], endpoint: str) -> list[Json]:
    """``answer[key]`` as a list of objects whose fields pass ``shape``; names the first bad field."""
    records = answer.get(key)
    if not isinstance(records, list):
        raise PlaidBadResponse(f"{endpoint}: {key} is not a list")
    for index, record in enumerate(records):
        if not isinstance(record, dict):
            raise PlaidBadResponse(f"{endpoint}: {key}[{index}] is not an object")
        for name, check in shape.items():
            if not check(record.get(name)):
                raise PlaidBadResponse(f"{endpoint}: {key}[{index}].{name} is missing or malformed")
    return records


def _check_balances(accounts: Iterable[Json], endpoint: str) -> None:
    for index, account in enumerate(accounts):
        balances = account.get("balances") or {}
        for name, check in BALANCES.items():
            if not check(balances.get(name)):
                raise PlaidBadResponse(f"{endpoint}: accounts[{index}].balances.{name} is malformed")


@dataclass
class TransactionsPage:
    transactions: list[Json]
    securities: list[Json]
    total: int


def holdings_answer(answer: Json) -> tuple[list[Json], list[Json], list[Json]]:
    """Accounts, holdings and securities of ``/investments/holdings/get``, checked."""
    endpoint = "/investments/holdings/get"
    accounts = _records(answer, "accounts", ACCOUNT, endpoint)
    _check_balances(accounts, endpoint)
    return accounts, _records(answer, "holdings", HOLDING, endpoint), _records(answer, "securities", SECURITY, endpoint)


def transactions_page(answer: Json) -> TransactionsPage:
    """One page of ``/investments/transactions/get``, checked."""
    endpoint = "/investments/transactions/get"
    total = answer.get("total_investment_transactions")
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise PlaidBadResponse(f"{endpoint}: total_investment_transactions is missing or malformed")
    return TransactionsPage(
        transactions=_records(answer, "investment_transactions", TRANSACTION, endpoint),
        securities=_records(answer, "securities", SECURITY, endpoint),
        total=total,
    )


@dataclass
class PlaidSnapshot:
    accounts: list[Json]
    holdings: list[Json]
    securities: dict[str, Json] = field(default_factory=dict)
    transactions: list[Json] = field(default_factory=list)
    start: date = date.min
    end: date = date.max
    pages: int = 0

    def add_securities(self, securities: list[Json]) -> None:
        for security in securities:
            self.securities.setdefault(security["security_id"], security)


async def fetch_snapshot(
    plaid: PlaidClient, access_token: str, *, start: date, end: date, progress: Progress
) -> PlaidSnapshot:
    """Holdings, then investment transactions page by page (count=500) until Plaid's total is reached.

    Securities come from both answers: an account with holdings but no transactions, or a transaction in a
    security no longer held, still resolves its security.
    """
    accounts, holdings, securities = holdings_answer(await plaid.get_holdings(access_token))
    snapshot = PlaidSnapshot(accounts=accounts, holdings=holdings, start=start, end=end)
    snapshot.add_securities(securities)
    seen: set[str] = set()
    total: int | None = None
    while total is None or len(snapshot.transactions) < total:
        page = transactions_page(
            await plaid.get_investment_transactions(
                access_token, start=start, end=end, offset=len(snapshot.transactions), count=PAGE_SIZE
            )
        )
        total = _same_total(total, page.total)
        _take_page(snapshot, page, seen)
        await progress(len(snapshot.transactions), total)
    return snapshot


def _same_total(total: int | None, page_total: int) -> int:
    if total is not None and page_total != total:
        raise PlaidBadResponse(
            f"total_investment_transactions changed between pages ({total} -> {page_total})", error_code=INCOMPLETE_READ
        )
    return page_total


def _take_page(snapshot: PlaidSnapshot, page: TransactionsPage, seen: set[str]) -> None:
    """Add a page, unless it breaks the proof that the read is complete (offsets keep moving forward)."""
    read = len(snapshot.transactions)
    if not page.transactions and read < page.total:
        raise PlaidBadResponse(f"an empty page after {read} of {page.total} transactions", error_code=INCOMPLETE_READ)
    ids = {t["investment_transaction_id"] for t in page.transactions}
    if len(ids) != len(page.transactions) or not seen.isdisjoint(ids):
        raise PlaidBadResponse("a transaction id came twice", error_code=INCOMPLETE_READ)
    if read + len(page.transactions) > page.total:
        raise PlaidBadResponse(
            f"{read + len(page.transactions)} transactions, more than the total {page.total}",
            error_code=INCOMPLETE_READ,
        )
    seen.update(ids)
    snapshot.pages += 1
    snapshot.add_securities(page.securities)
    snapshot.transactions.extend(page.transactions)
