"""Everything one sync reads from Plaid, fetched before anything is written."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from ghostfolio_plaid.plaid_client import PlaidClient

Json = dict[str, Any]
PAGE_SIZE = 500
Progress = Callable[[int, int], Awaitable[None]]


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
    holdings = await plaid.get_holdings(access_token)
    snapshot = PlaidSnapshot(accounts=holdings["accounts"], holdings=holdings["holdings"], start=start, end=end)
    snapshot.add_securities(holdings["securities"])
    while True:
        page = await plaid.get_investment_transactions(
            access_token, start=start, end=end, offset=len(snapshot.transactions), count=PAGE_SIZE
        )
        snapshot.pages += 1
        snapshot.add_securities(page["securities"])
        batch = page["investment_transactions"]
        snapshot.transactions.extend(batch)
        total = int(page["total_investment_transactions"])
        await progress(len(snapshot.transactions), total)
        if not batch or len(snapshot.transactions) >= total:
            return snapshot
