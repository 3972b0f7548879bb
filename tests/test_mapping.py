"""The one mapping table against Plaid's spec: every (type, subtype) decided, and the quote and identity rules."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from ghostfolio_plaid.models import OrderType
from ghostfolio_plaid.workers.mapping import (
    AS_REPORTED,
    CONTRACTS,
    PERCENT_QUOTE,
    RULES,
    Effect,
    option_details,
    quote_scale,
    rule_for,
    symbol_of,
)
from tests.test_plaid_emulator import spec_document


def spec_pairs() -> set[tuple[str, str]]:
    """Plaid's documented (type, subtype) pairs: ``StandaloneInvestmentTransaction*Type``'s properties."""
    schemas = spec_document()["components"]["schemas"]
    pairs = set()
    for kind, ref in schemas["StandaloneInvestmentTransactionType"]["properties"].items():
        if "$ref" in ref:
            name = ref["$ref"].rsplit("/", 1)[1]
            pairs |= {(kind, subtype) for subtype in schemas[name]["properties"]}
    return pairs


def test_every_pair_plaid_documents_is_decided_explicitly() -> None:
    missing = sorted(spec_pairs() - set(RULES))
    assert missing == []
    enum = set(spec_document()["components"]["schemas"]["InvestmentTransactionSubtype"]["enum"])
    assert enum - {subtype for _, subtype in RULES} == set()  # every subtype of the enum appears somewhere


@pytest.mark.parametrize(
    ("kind", "subtype", "effect", "order_type"),
    [
        ("fee", "dividend", Effect.ACTIVITY, OrderType.DIVIDEND),
        ("fee", "qualified dividend", Effect.ACTIVITY, OrderType.DIVIDEND),
        ("fee", "non-qualified dividend", Effect.ACTIVITY, OrderType.DIVIDEND),
        ("fee", "long-term capital gain", Effect.ACTIVITY, OrderType.DIVIDEND),
        ("fee", "short-term capital gain", Effect.ACTIVITY, OrderType.DIVIDEND),
        ("fee", "unqualified gain", Effect.ACTIVITY, OrderType.DIVIDEND),
        ("fee", "interest", Effect.ACTIVITY, OrderType.INTEREST),
        ("fee", "interest receivable", Effect.ACTIVITY, OrderType.INTEREST),
        ("fee", "account fee", Effect.ACTIVITY, OrderType.FEE),
        ("fee", "tax withheld", Effect.ACTIVITY, OrderType.FEE),
        ("fee", "return of principal", Effect.CASH_ONLY, None),
        ("fee", "adjustment", Effect.POSITION, None),
        ("fee", "stock distribution", Effect.FREE_UNITS, None),
        ("cash", "dividend", Effect.ACTIVITY, OrderType.DIVIDEND),
        ("cash", "interest", Effect.ACTIVITY, OrderType.INTEREST),
        ("cash", "margin expense", Effect.ACTIVITY, OrderType.FEE),
        ("cash", "deposit", Effect.CASH_ONLY, None),
        ("cash", "contribution", Effect.CASH_ONLY, None),
        ("cash", "pending debit", Effect.CASH_ONLY, None),
        ("buy", "contribution", Effect.ACTIVITY, OrderType.BUY),
        ("buy", "dividend reinvestment", Effect.ACTIVITY, OrderType.BUY),
        ("sell", "exercise", Effect.ACTIVITY, OrderType.SELL),
        ("sell", "distribution", Effect.ACTIVITY, OrderType.SELL),
        ("transfer", "transfer", Effect.POSITION, None),
        ("transfer", "merger", Effect.POSITION, None),
        ("transfer", "expire", Effect.POSITION, None),
        ("transfer", "split", Effect.FREE_UNITS, None),
        ("transfer", "spin off", Effect.FREE_UNITS, None),
        ("cancel", "buy", Effect.CANCEL, None),
        ("buy", "something new", Effect.ACTIVITY, OrderType.BUY),
        ("transfer", "something new", Effect.POSITION, None),
        ("cash", "something new", Effect.UNKNOWN, None),
        ("fee", "something new", Effect.UNKNOWN, None),
        ("loan", "repayment", Effect.UNKNOWN, None),
    ],
)
def test_income_is_never_a_fee_and_the_rest_is_decided(
    kind: str, subtype: str, effect: Effect, order_type: OrderType | None
) -> None:
    rule = rule_for(kind, subtype)
    assert (rule.effect, rule.order_type) == (effect, order_type)


@pytest.mark.parametrize(
    ("quantity", "price", "total", "option", "scale"),
    [
        ("10000", "98.5", "9850", False, PERCENT_QUOTE),  # a bond quoted in percent of par
        ("10000", "97", "9700", False, PERCENT_QUOTE),
        ("2", "12.50", "2500", True, CONTRACTS),  # 2 contracts of a 12.50 call
        ("200", "1250", "2500", True, PERCENT_QUOTE),  # 200 options at a price per contract
        ("200", "12.50", "2500", True, AS_REPORTED),  # as Plaid documents it
        ("2", "12.50", "2500", False, AS_REPORTED),  # x100 means contracts only for an option
        ("30", "100", "3004.95", False, AS_REPORTED),  # fees in the amount stay within the tolerance
        ("4", "55", "0", False, AS_REPORTED),  # a transfer: no total to compare with
        ("4", "55", None, False, AS_REPORTED),
    ],
)
def test_quotes_are_scaled_only_when_plaids_total_says_so(
    quantity: str, price: str, total: str | None, option: bool, scale: Any
) -> None:
    found = quote_scale(Decimal(quantity), Decimal(price), None if total is None else Decimal(total), is_option=option)
    assert found == scale


def security(**fields: Any) -> dict[str, Any]:
    return {"security_id": "sec-1", "ticker_symbol": "SHOP", "isin": None, "cusip": None, **fields}


@pytest.mark.parametrize(
    ("fields", "symbol"),
    [
        ({"market_identifier_code": "XNYS", "iso_currency_code": "USD"}, "SHOP"),
        ({"market_identifier_code": "XTSE", "iso_currency_code": "CAD"}, "SHOP:XTSE"),
        ({"market_identifier_code": None, "iso_currency_code": "CAD"}, "SHOP:CAD"),
        ({"market_identifier_code": None, "iso_currency_code": "USD"}, "SHOP"),
        ({"ticker_symbol": None, "isin": "US91282CKV21"}, "US91282CKV21"),
        ({"ticker_symbol": None}, "plaid:sec-1"),
    ],
)
def test_a_ticker_is_not_an_identity_a_listing_is(fields: dict[str, Any], symbol: str) -> None:
    assert symbol_of(security(**fields)) == symbol


def test_crypto_in_usd_and_cash_keep_plain_symbols() -> None:
    bitcoin = security(ticker_symbol="BTC", iso_currency_code=None, unofficial_currency_code="BTC")
    assert symbol_of(bitcoin, "USD") == "BTC"
    assert symbol_of(security(ticker_symbol="CUR:EUR", iso_currency_code="EUR"), cash=True) == "CUR:EUR"


def test_option_details_are_kept_and_malformed_ones_ignored() -> None:
    contract = {
        "contract_type": "put",
        "expiration_date": "2027-01-15",
        "strike_price": Decimal("50.0"),
        "underlying_security_ticker": "ACME",
    }
    details = option_details(security(option_contract=contract))
    assert (details["option_type"], details["option_strike"], details["option_underlying"]) == ("PUT", 50, "ACME")
    assert details["option_expiration"].isoformat() == "2027-01-15"
    broken = option_details(security(option_contract={"contract_type": "x", "expiration_date": "soon"}))
    assert set(broken.values()) == {None}
