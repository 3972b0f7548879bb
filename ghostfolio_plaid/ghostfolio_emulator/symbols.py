"""Symbol rules and symbol resolution, as Ghostfolio's data provider service applies them during an import."""

from __future__ import annotations

from typing import Any

from ghostfolio_plaid.ghostfolio_emulator.catalog import provider_profile
from ghostfolio_plaid.ghostfolio_emulator.currencies import is_currency_code
from ghostfolio_plaid.ghostfolio_emulator.enums import GHOSTFOLIO_PREFIX
from ghostfolio_plaid.ghostfolio_emulator.state import EmulatorState
from ghostfolio_plaid.ghostfolio_emulator.validation import is_uuid


def is_custom_symbol(symbol: Any) -> bool:
    """``isValidCustomAssetProfileSymbol``: a MANUAL symbol is a UUID or starts with ``GF_``."""
    return isinstance(symbol, str) and (symbol.startswith(f"{GHOSTFOLIO_PREFIX}_") or is_uuid(symbol))


def resolve(state: EmulatorState, data_source: str, symbol: str) -> dict[str, Any] | None:
    """``DataProviderService.getAssetProfiles`` for one symbol: the provider's profile, or None.

    MANUAL resolves an asset profile already in the database (any user's); YAHOO and COINGECKO resolve the
    configured known symbols, unless the instance is offline. A profile without a valid currency is no answer.
    """
    if data_source == "MANUAL":
        profile = state.profile("MANUAL", symbol)
        if profile is None:
            return None
        found: dict[str, Any] | None = {
            "symbol": symbol,
            "currency": profile.currency,
            "dataSource": "MANUAL",
            "name": profile.name,
        }
    elif state.settings.offline:
        return None
    else:
        found = provider_profile(data_source, symbol, state.settings.known_symbols)
    if found is None or not is_currency_code(found.get("currency")):
        return None
    return found
