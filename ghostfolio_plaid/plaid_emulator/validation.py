"""Field-by-field checks of Plaid request bodies, failing with the error Plaid answers for each mistake.

Malformed input is always one of Plaid's INVALID_REQUEST / INVALID_INPUT errors, never a crash: a client's
error handling is then exercised against Plaid's own codes and wording.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

from ghostfolio_plaid.plaid_emulator.errors import (
    TOKEN_FORMAT,
    TOKEN_WRONG_TYPE,
    PlaidErrorResponse,
    invalid_field,
    invalid_product,
    missing_fields,
)

Json = dict[str, Any]
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# The products an emulator item can hold. ``balance`` is a Plaid product but never one to ask for: Plaid
# answers INVALID_PRODUCT ("it is initialized automatically when any other product is specified").
ITEM_PRODUCTS = frozenset({"assets", "auth", "identity", "investments", "liabilities", "transactions"})
# Plaid's CountryCode enum (OpenAPI 2020-09-14).
COUNTRY_CODES = frozenset(
    {
        "US",
        "GB",
        "ES",
        "NL",
        "FR",
        "IE",
        "CA",
        "DE",
        "IT",
        "PL",
        "DK",
        "NO",
        "SE",
        "EE",
        "LT",
        "LV",
        "PT",
        "BE",
        "AT",
        "FI",
    }
)
# token prefix -> its kind, as Plaid names it in "expected \"access\", got \"public\""
_TOKEN_KINDS = {"access": "access", "public": "public", "link": "link", "processor": "processor"}


def require(body: Json, *names: str) -> None:
    missing = [name for name in names if body.get(name) in (None, "")]
    if missing:
        raise missing_fields(missing)


def text(body: Json, name: str) -> str:
    require(body, name)
    value = body[name]
    if not isinstance(value, str):
        raise invalid_field(f"{name} must be a string")
    return value


def optional_text(body: Json, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise invalid_field(f"{name} must be a string")
    return value


def webhook_url(value: object, name: str) -> str | None:
    """A webhook must be an http(s) URL: Plaid refuses anything else when it is set, not when it is fired."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise invalid_field(f"{name} must be a valid URL")
    return value


def options(body: Json) -> Json:
    value = body.get("options") or {}
    if not isinstance(value, dict):
        raise invalid_field("options must be an object")
    return value


def iso_date(body: Json, name: str) -> date:
    value = text(body, name)
    try:
        if not ISO_DATE.fullmatch(value):  # fromisoformat alone also takes 20240101 and week dates
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise invalid_field(f"{name} must be a date in YYYY-MM-DD format") from None


def products(value: object, name: str) -> list[str]:
    """A non-empty array of product names; ``balance`` and names Plaid does not know are INVALID_PRODUCT."""
    if value is None:
        raise missing_fields([name])
    if not isinstance(value, list) or not value or not all(isinstance(p, str) for p in value):
        raise invalid_field(f"{name} must be a non-empty array of products")
    refused = [p for p in value if p not in ITEM_PRODUCTS]
    if refused:
        raise invalid_product(refused)
    return list(dict.fromkeys(value))


def country_codes(body: Json, name: str = "country_codes") -> list[str]:
    require(body, name)
    codes = body[name]
    if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
        raise invalid_field(f"{name} must be a non-empty array of country codes")
    unknown = [c for c in codes if c not in COUNTRY_CODES]
    if unknown:
        raise invalid_field(f"{name} must contain only these values: {', '.join(sorted(COUNTRY_CODES))}")
    return codes


def token(body: Json, name: str, kind: str) -> str:
    """A token of ``kind`` (``access``/``public``) in Plaid's ``<kind>-<environment>-<identifier>`` format.

    A token of another kind or a malformed one fails as Plaid fails it (INVALID_ACCESS_TOKEN or
    INVALID_PUBLIC_TOKEN with Plaid's message); whether it exists is for the caller to find out.
    """
    value = text(body, name)
    code = f"INVALID_{kind.upper()}_TOKEN"
    prefix, _, rest = value.partition("-")
    environment, _, identifier = rest.partition("-")
    if prefix in _TOKEN_KINDS and prefix != kind and environment and identifier:
        raise PlaidErrorResponse(code, TOKEN_WRONG_TYPE.format(expected=kind, got=_TOKEN_KINDS[prefix]))
    if prefix != kind or not environment or not identifier:
        raise PlaidErrorResponse(code, TOKEN_FORMAT.format(kind=kind))
    return value
