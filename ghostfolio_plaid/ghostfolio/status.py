"""What a user sees of the connector for one item: OFF, PENDING, SYNCED or FAILED."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from ghostfolio_plaid.models import PlaidItem


class GhostfolioStatus(StrEnum):
    OFF = "OFF"
    PENDING = "PENDING"
    SYNCED = "SYNCED"
    FAILED = "FAILED"


@dataclass(frozen=True)
class GhostfolioState:
    status: GhostfolioStatus
    last_pushed_at: datetime | None
    pending_changes: int
    error: str | None


def ghostfolio_state(item: PlaidItem, *, connector_on: bool) -> GhostfolioState:
    """FAILED is a refusal that needs a person; an outage being retried is PENDING (with its error shown)."""
    if not connector_on:
        status = GhostfolioStatus.OFF
    elif item.ghostfolio_error is not None and item.ghostfolio_attempts == 0:
        status = GhostfolioStatus.FAILED
    elif item.ghostfolio_pending > 0 or item.ghostfolio_attempts > 0 or item.ghostfolio_pushed_at is None:
        status = GhostfolioStatus.PENDING
    else:
        status = GhostfolioStatus.SYNCED
    return GhostfolioState(status, item.ghostfolio_pushed_at, item.ghostfolio_pending, item.ghostfolio_error)
