"""What the emulated instance's data providers know: symbols that resolve during an import, and their profiles.

Real Ghostfolio asks Yahoo (or CoinGecko) for each non-MANUAL symbol of an import and refuses the whole
request if one does not resolve. The emulator answers from a fixed list instead: the tickers of the Plaid
emulator's fixtures (AAPL, MSFT, VTI, VFIAX, Bitcoin as BTCUSD) plus common US tickers. A symbol configured
without a profile here resolves as a USD equity named after itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class KnownProfile:
    name: str
    currency: str = "USD"
    asset_class: str = "EQUITY"
    asset_sub_class: str = "STOCK"


def _etf(name: str) -> KnownProfile:
    return KnownProfile(name, asset_sub_class="ETF")


# Yahoo profiles, as Ghostfolio's Yahoo data enhancer files them. Crypto on Yahoo uses Ghostfolio's own
# spelling (BTCUSD, stored as such; Yahoo's BTC-USD is an internal detail).
YAHOO_PROFILES: dict[str, KnownProfile] = {
    "AAPL": KnownProfile("Apple Inc."),
    "MSFT": KnownProfile("Microsoft Corporation"),
    "GOOGL": KnownProfile("Alphabet Inc."),
    "GOOG": KnownProfile("Alphabet Inc."),
    "AMZN": KnownProfile("Amazon.com, Inc."),
    "META": KnownProfile("Meta Platforms, Inc."),
    "NVDA": KnownProfile("NVIDIA Corporation"),
    "TSLA": KnownProfile("Tesla, Inc."),
    "BRK-B": KnownProfile("Berkshire Hathaway Inc."),
    "JPM": KnownProfile("JPMorgan Chase & Co."),
    "JNJ": KnownProfile("Johnson & Johnson"),
    "V": KnownProfile("Visa Inc."),
    "KO": KnownProfile("The Coca-Cola Company"),
    "VTI": _etf("Vanguard Total Stock Market Index Fund ETF Shares"),
    "VOO": _etf("Vanguard S&P 500 ETF"),
    "VT": _etf("Vanguard Total World Stock Index Fund ETF Shares"),
    "VXUS": _etf("Vanguard Total International Stock Index Fund ETF Shares"),
    "VEA": _etf("Vanguard FTSE Developed Markets Index Fund ETF Shares"),
    "VWO": _etf("Vanguard FTSE Emerging Markets Index Fund ETF Shares"),
    "SPY": _etf("SPDR S&P 500 ETF Trust"),
    "IVV": _etf("iShares Core S&P 500 ETF"),
    "QQQ": _etf("Invesco QQQ Trust, Series 1"),
    "SCHD": _etf("Schwab U.S. Dividend Equity ETF"),
    "BND": KnownProfile("Vanguard Total Bond Market Index Fund", asset_class="FIXED_INCOME", asset_sub_class="ETF"),
    "AGG": KnownProfile("iShares Core U.S. Aggregate Bond ETF", asset_class="FIXED_INCOME", asset_sub_class="ETF"),
    "VFIAX": KnownProfile("Vanguard 500 Index Fund Admiral Shares", asset_sub_class="MUTUALFUND"),
    "BTCUSD": KnownProfile("Bitcoin USD", asset_class="LIQUIDITY", asset_sub_class="CRYPTOCURRENCY"),
    "ETHUSD": KnownProfile("Ethereum USD", asset_class="LIQUIDITY", asset_sub_class="CRYPTOCURRENCY"),
}

COINGECKO_PROFILES: dict[str, KnownProfile] = {
    "bitcoin": KnownProfile("Bitcoin", asset_class="LIQUIDITY", asset_sub_class="CRYPTOCURRENCY"),
    "ethereum": KnownProfile("Ethereum", asset_class="LIQUIDITY", asset_sub_class="CRYPTOCURRENCY"),
}

DEFAULT_KNOWN_SYMBOLS: frozenset[str] = frozenset(YAHOO_PROFILES) | frozenset(
    f"COINGECKO:{coin}" for coin in COINGECKO_PROFILES
)


def symbol_key(data_source: str, symbol: str) -> str:
    """How a known symbol is spelled in the configuration: bare for YAHOO, ``SOURCE:symbol`` otherwise."""
    return symbol if data_source == "YAHOO" else f"{data_source}:{symbol}"


def provider_profile(data_source: str, symbol: str, known_symbols: frozenset[str]) -> dict[str, Any] | None:
    """The asset profile the data provider answers for a symbol, or None if it does not know it.

    Lookups are case-sensitive (stricter than Yahoo, on purpose: a client must send the symbol it means).
    """
    if symbol_key(data_source, symbol) not in known_symbols:
        return None
    catalog = YAHOO_PROFILES if data_source == "YAHOO" else COINGECKO_PROFILES if data_source == "COINGECKO" else {}
    known = catalog.get(symbol) or KnownProfile(symbol)
    return {
        "assetClass": known.asset_class,
        "assetSubClass": known.asset_sub_class,
        "currency": known.currency,
        "dataSource": data_source,
        "name": known.name,
        "symbol": symbol,
    }
