"""What an account holds and what happened in it: holdings as Plaid last reported them, activities paged."""

from __future__ import annotations

import base64
import binascii
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from tortoise.expressions import Q

from ghostfolio_plaid.errors import BadUserInput
from ghostfolio_plaid.models import Holding, Order

MAX_PAGE = 500


async def holdings_by_account(account_ids: Sequence[uuid.UUID]) -> list[list[Holding]]:
    """Holdings of many accounts in one query (the DataLoader's batch), largest value first."""
    grouped: dict[uuid.UUID, list[Holding]] = defaultdict(list)
    rows = await Holding.filter(account_id__in=list(account_ids)).select_related("symbol_profile").order_by("-value")
    for holding in rows:
        grouped[uuid.UUID(str(holding.account_id))].append(holding)
    return [grouped.get(account_id, []) for account_id in account_ids]


@dataclass(frozen=True)
class ActivityPage:
    orders: list[Order]
    has_next_page: bool
    total_count: int


def encode_cursor(order: Order) -> str:
    return base64.urlsafe_b64encode(f"{order.date.isoformat()}|{order.id}".encode()).decode()


def decode_cursor(cursor: str) -> tuple[datetime, uuid.UUID]:
    try:
        moment, _, order_id = base64.urlsafe_b64decode(cursor.encode()).decode().partition("|")
        return datetime.fromisoformat(moment), uuid.UUID(order_id)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise BadUserInput("after is not a cursor this API issued") from None


async def activities_page(account_id: uuid.UUID, first: int, after: str | None) -> ActivityPage:
    """Newest first, keyed on (date, id) so pages stay stable while new activities arrive."""
    if not 1 <= first <= MAX_PAGE:
        raise BadUserInput(f"first must be between 1 and {MAX_PAGE}")
    query = Order.filter(account_id=account_id)
    total = await query.count()
    if after is not None:
        moment, order_id = decode_cursor(after)
        query = query.filter(Q(date__lt=moment) | Q(date=moment, id__lt=order_id))
    orders = await query.select_related("symbol_profile").order_by("-date", "-id").limit(first + 1)
    return ActivityPage(orders=orders[:first], has_next_page=len(orders) > first, total_count=total)
