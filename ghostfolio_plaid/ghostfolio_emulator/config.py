"""How an emulated Ghostfolio instance is set up: its JWT secret and what its data provider can resolve."""

from __future__ import annotations

from dataclasses import dataclass

from ghostfolio_plaid.ghostfolio_emulator.catalog import DEFAULT_KNOWN_SYMBOLS


@dataclass(frozen=True)
class GhostfolioEmulatorConfig:
    """The instance's settings at start (and after ``POST /emulator/reset``).

    ``jwt_secret``: Ghostfolio's ``JWT_SECRET_KEY``; tokens must be HS256/384/512-signed with it.
    ``known_symbols``: what the instance's data providers resolve during an import. A bare entry (``"AAPL"``)
    is a YAHOO symbol; ``"COINGECKO:bitcoin"`` names another data source.
    ``offline``: the instance cannot reach its data providers, so every non-MANUAL symbol is refused.
    ``max_activities_to_import``: Ghostfolio's ``MAX_ACTIVITIES_TO_IMPORT`` (None: no cap).
    ``auto_create_users``: accept a validly signed token for any user id, creating the user on first use
    (real Ghostfolio answers 401 for an id it does not know; the demo may want the shortcut).
    ``portfolio_debounce_seconds``: Ghostfolio keeps serving its cached portfolio (holdings, account values)
    until this long after the last change (5 s in 3.58); 0 recomputes on every read.
    """

    jwt_secret: str
    known_symbols: frozenset[str] = DEFAULT_KNOWN_SYMBOLS
    offline: bool = False
    max_activities_to_import: int | None = None
    auto_create_users: bool = False
    portfolio_debounce_seconds: float = 0.0

    def __post_init__(self) -> None:
        if not self.jwt_secret:
            raise ValueError("jwt_secret must not be empty")
        if self.max_activities_to_import is not None and self.max_activities_to_import < 0:
            raise ValueError("max_activities_to_import must be >= 0 or None")
        if self.portfolio_debounce_seconds < 0:
            raise ValueError("portfolio_debounce_seconds must be >= 0")
