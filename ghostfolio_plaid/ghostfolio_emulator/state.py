"""The emulated instance's database, in memory: users, accounts, balances, asset profiles, market data,
activities, platforms and tags, plus the emulator's own request log, faults and runtime settings.

One lock guards everything; every route takes it for its whole run, so a request sees and leaves a consistent
state (Ghostfolio itself does not run an import in one transaction: see ``import_service``).
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ghostfolio_plaid.ghostfolio_emulator.config import GhostfolioEmulatorConfig
from ghostfolio_plaid.ghostfolio_emulator.dates import utc_now
from ghostfolio_plaid.ghostfolio_emulator.enums import SYSTEM_TAGS


def new_id() -> str:
    return str(uuid.uuid4())


@dataclass
class User:
    id: str
    access_token: str  # the "security token" that POST /api/v1/auth/anonymous exchanges for a JWT
    role: str = "USER"
    base_currency: str = "USD"
    created_at: datetime = field(default_factory=utc_now)


@dataclass
class Platform:
    id: str
    name: str
    url: str


@dataclass
class Tag:
    id: str
    name: str
    user_id: str | None


@dataclass
class Account:
    """Prisma's Account: its key is (id, userId), so two users may hold the same account id."""

    id: str
    user_id: str
    name: str | None
    currency: str | None
    comment: str | None = None
    platform_id: str | None = None
    tag_ids: list[str] = field(default_factory=list)
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)


@dataclass
class AccountBalance:
    """One per account and day (a unique key): recording the same day again replaces the value."""

    id: str
    account_id: str
    user_id: str
    date: datetime
    value: float
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)


@dataclass
class SymbolProfile:
    """An asset profile, unique per (dataSource, symbol) across all users; MANUAL ones belong to a user."""

    id: str
    data_source: str
    symbol: str
    currency: str
    name: str | None = None
    asset_class: str | None = None
    asset_sub_class: str | None = None
    user_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)  # comment, countries, isin, url, ... as imported
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)


@dataclass
class MarketPrice:
    data_source: str
    symbol: str
    date: datetime
    market_price: float
    id: str = field(default_factory=new_id)
    state: str = "CLOSE"
    created_at: datetime = field(default_factory=utc_now)


@dataclass
class Activity:
    """Prisma's Order."""

    id: str
    user_id: str
    symbol_profile_id: str
    type: str
    date: datetime
    fee: float
    quantity: float
    unit_price: float
    currency: str | None
    comment: str | None = None
    account_id: str | None = None
    tag_ids: list[str] = field(default_factory=list)
    created_at: datetime = field(default_factory=utc_now)
    updated_at: datetime = field(default_factory=utc_now)


@dataclass
class Fault:
    """The next ``times`` calls of ``path`` (``method`` if given) wait ``delay_ms``, then answer ``status``
    (with ``body``, or NestJS's ``{"statusCode", "message"}``), or the real answer if ``status`` is None.
    A ``path`` ending in ``*`` matches every path with that prefix."""

    path: str
    method: str | None = None
    status: int | None = None
    times: int = 1
    delay_ms: int = 0
    body: Any = None

    def __post_init__(self) -> None:
        if not isinstance(self.path, str) or not self.path.startswith("/"):
            raise ValueError("path must be a string starting with /")
        if self.method is not None and (not isinstance(self.method, str) or not self.method.isalpha()):
            raise ValueError("method must be an HTTP method such as GET")
        if self.method is not None:
            self.method = self.method.upper()
        if self.status is not None and (
            isinstance(self.status, bool) or not isinstance(self.status, int) or not 100 <= self.status <= 599
        ):
            raise ValueError("status must be an HTTP status code")
        for name, minimum in (("times", 1), ("delay_ms", 0)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
                raise ValueError(f"{name} must be an integer >= {minimum}")
        if self.status is None and self.delay_ms == 0:
            raise ValueError("a fault needs a status, a delay_ms, or both")

    def matches(self, method: str, path: str) -> bool:
        if self.method is not None and self.method != method:
            return False
        if self.path.endswith("*"):
            return path.startswith(self.path[:-1])
        return path == self.path


@dataclass
class Settings:
    """What the control endpoints may change at run time; ``POST /emulator/reset`` restores the config's."""

    known_symbols: frozenset[str]
    offline: bool
    max_activities_to_import: int | None
    auto_create_users: bool
    portfolio_debounce_seconds: float

    @classmethod
    def from_config(cls, config: GhostfolioEmulatorConfig) -> Settings:
        return cls(
            known_symbols=config.known_symbols,
            offline=config.offline,
            max_activities_to_import=config.max_activities_to_import,
            auto_create_users=config.auto_create_users,
            portfolio_debounce_seconds=config.portfolio_debounce_seconds,
        )

    def as_json(self) -> dict[str, Any]:
        return {
            "known_symbols": sorted(self.known_symbols),
            "offline": self.offline,
            "max_activities_to_import": self.max_activities_to_import,
            "auto_create_users": self.auto_create_users,
            "portfolio_debounce_seconds": self.portfolio_debounce_seconds,
        }


@dataclass
class PortfolioSnapshot:
    """Ghostfolio's cached portfolio of one user: what the holdings are computed from until it is recomputed."""

    taken_at: float
    activities: list[Activity]
    profiles: dict[str, SymbolProfile]
    prices: dict[tuple[str, str], list[MarketPrice]]


class EmulatorState:
    def __init__(self, config: GhostfolioEmulatorConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.requests: list[dict[str, Any]] = []
        self.faults: list[Fault] = []
        self.reset()

    def reset(self) -> None:
        with self.lock:
            self.settings = Settings.from_config(self.config)
            self.users: dict[str, User] = {}
            self.platforms: dict[str, Platform] = {}
            self.tags: dict[str, Tag] = {tag_id: Tag(tag_id, name, None) for tag_id, name in SYSTEM_TAGS.items()}
            self.accounts: dict[tuple[str, str], Account] = {}  # (user_id, account_id)
            self.balances: dict[str, AccountBalance] = {}
            self.profiles: dict[str, SymbolProfile] = {}
            self.profile_ids: dict[tuple[str, str], str] = {}  # (dataSource, symbol) -> id: Prisma's unique key
            self.market_data: dict[tuple[str, str], dict[datetime, MarketPrice]] = {}
            self.activities: dict[str, Activity] = {}
            self.portfolio_changed_at: dict[str, float] = {}
            self.snapshots: dict[str, PortfolioSnapshot] = {}
            self.requests.clear()
            self.faults.clear()

    # --- users ---------------------------------------------------------------------------------------------

    def create_user(self, user_id: str | None = None, role: str = "USER") -> User:
        with self.lock:
            user = User(id=user_id or new_id(), access_token=secrets.token_hex(64), role=role)
            self.users[user.id] = user
            return user

    # --- lookups -------------------------------------------------------------------------------------------

    def accounts_of(self, user_id: str) -> list[Account]:
        return [account for (owner, _), account in self.accounts.items() if owner == user_id]

    def account(self, user_id: str, account_id: str) -> Account | None:
        return self.accounts.get((user_id, account_id))

    def activities_of(self, user_id: str) -> list[Activity]:
        return [activity for activity in self.activities.values() if activity.user_id == user_id]

    def profile(self, data_source: str, symbol: str) -> SymbolProfile | None:
        profile_id = self.profile_ids.get((data_source, symbol))
        return self.profiles[profile_id] if profile_id is not None else None

    def add_profile(self, profile: SymbolProfile) -> None:
        self.profiles[profile.id] = profile
        self.profile_ids[(profile.data_source, profile.symbol)] = profile.id

    def prices_of(self, data_source: str, symbol: str) -> list[MarketPrice]:
        return sorted(self.market_data.get((data_source, symbol), {}).values(), key=lambda price: price.date)

    def tags_for(self, user_id: str) -> list[Tag]:
        """``getTagsForUser``: the user's own tags and the global ones."""
        return [tag for tag in self.tags.values() if tag.user_id in (None, user_id)]

    # --- writes that Ghostfolio follows with a PortfolioChangedEvent ----------------------------------------

    def portfolio_changed(self, user_id: str) -> None:
        self.portfolio_changed_at[user_id] = time.monotonic()

    def upsert_market_price(self, data_source: str, symbol: str, date: datetime, price: float) -> None:
        """One price per (dataSource, symbol, date): Prisma's unique key."""
        prices = self.market_data.setdefault((data_source, symbol), {})
        existing = prices.get(date)
        if existing is None:
            prices[date] = MarketPrice(data_source, symbol, date, price)
        else:
            existing.market_price = price

    def delete_profile_if_unused(self, profile_id: str) -> None:
        """After an activity is deleted: an asset profile without activities goes, with its market data."""
        if any(activity.symbol_profile_id == profile_id for activity in self.activities.values()):
            return
        profile = self.profiles.pop(profile_id, None)
        if profile is None:
            return
        self.profile_ids.pop((profile.data_source, profile.symbol), None)
        self.market_data.pop((profile.data_source, profile.symbol), None)

    def take_fault(self, method: str, path: str) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    return fault
            return None
