"""Tortoise models, named after Ghostfolio's schema."""

from ghostfolio_plaid.models.account import Account, AccountBalance
from ghostfolio_plaid.models.ghostfolio import GhostfolioActivity, GhostfolioPush, GhostfolioSymbol
from ghostfolio_plaid.models.holding import Holding
from ghostfolio_plaid.models.order import Order, OrderType
from ghostfolio_plaid.models.plaid_item import PlaidItem
from ghostfolio_plaid.models.platform import Platform
from ghostfolio_plaid.models.symbol_profile import MarketData, SymbolProfile
from ghostfolio_plaid.models.sync_job import ACTIVE_SYNC_STATUSES, SyncJob, SyncStatus, SyncTrigger
from ghostfolio_plaid.models.user import User

__all__ = [
    "ACTIVE_SYNC_STATUSES",
    "Account",
    "AccountBalance",
    "GhostfolioActivity",
    "GhostfolioPush",
    "GhostfolioSymbol",
    "Holding",
    "MarketData",
    "Order",
    "OrderType",
    "PlaidItem",
    "Platform",
    "SymbolProfile",
    "SyncJob",
    "SyncStatus",
    "SyncTrigger",
    "User",
]
