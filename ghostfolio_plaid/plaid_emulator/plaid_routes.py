"""Plaid's API endpoints, answering with Plaid's request and response shapes.

Each handler takes the parsed JSON body and returns the response without ``request_id`` (the envelope in
``app.py`` adds it), or raises ``PlaidErrorResponse``. Input is checked field by field, so any malformed
request is one of Plaid's INVALID_REQUEST errors rather than a crash.
"""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any

from ghostfolio_plaid.plaid_emulator.errors import INVALID_PUBLIC_TOKEN_EXPIRED, PlaidErrorResponse
from ghostfolio_plaid.plaid_emulator.fixtures import INSTITUTIONS, ItemShape
from ghostfolio_plaid.plaid_emulator.state import EmulatorState, Item
from ghostfolio_plaid.plaid_emulator.webhooks import fire, webhook_body

Json = dict[str, Any]
Handler = Callable[[EmulatorState, Json], Awaitable[Json]]
LINK_TOKEN_LIFETIME = timedelta(hours=4)
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
KNOWN_PRODUCTS = frozenset({"investments", "transactions", "auth", "identity", "assets", "liabilities", "balance"})
SUPPORTED_PRODUCTS = ["assets", "auth", "balance", "identity", "investments", "liabilities", "transactions"]


def require(body: Json, *names: str) -> None:
    missing = [name for name in names if body.get(name) in (None, "")]
    if missing:
        raise PlaidErrorResponse("MISSING_FIELDS", f"the following required fields are missing: {', '.join(missing)}")


def text(body: Json, name: str) -> str:
    require(body, name)
    value = body[name]
    if not isinstance(value, str):
        raise PlaidErrorResponse("INVALID_FIELD", f"{name} must be a string")
    return value


def optional_text(body: Json, name: str) -> str | None:
    value = body.get(name)
    if value is not None and not isinstance(value, str):
        raise PlaidErrorResponse("INVALID_FIELD", f"{name} must be a string")
    return value


def webhook_url(value: object, name: str) -> str | None:
    """A webhook must be an http(s) URL: Plaid refuses anything else when it is set, not when it is fired."""
    if value is None or value == "":
        return None
    if not isinstance(value, str) or not value.startswith(("http://", "https://")):
        raise PlaidErrorResponse("INVALID_FIELD", f"{name} must be a valid URL")
    return value


def options(body: Json) -> Json:
    value = body.get("options") or {}
    if not isinstance(value, dict):
        raise PlaidErrorResponse("INVALID_FIELD", "options must be an object")
    return value


def item_for(state: EmulatorState, body: Json, *, usable: bool = False) -> Item:
    token = text(body, "access_token")
    if not token.startswith("access-"):
        raise PlaidErrorResponse("INVALID_ACCESS_TOKEN")
    with state.lock:
        item_id = state.access_tokens.get(token)
        item = state.items.get(item_id) if item_id else None
    if item is None:
        raise PlaidErrorResponse("INVALID_ACCESS_TOKEN", "provided access token is invalid or expired")
    if item.removed:
        raise PlaidErrorResponse("ITEM_NOT_FOUND")
    if usable and item.login_required:
        raise PlaidErrorResponse("ITEM_LOGIN_REQUIRED")
    return item


def investments_item(state: EmulatorState, body: Json) -> Item:
    item = item_for(state, body, usable=True)
    if "investments" not in item.products:
        raise PlaidErrorResponse("PRODUCTS_NOT_SUPPORTED", "this item does not have the investments product")
    return item


def item_json(item: Item) -> Json:
    institution = INSTITUTIONS[item.institution_id]
    return {
        "item_id": item.item_id,
        "institution_id": institution.institution_id,
        "institution_name": institution.name,
        "webhook": item.webhook or "",
        "auth_method": None,
        "error": PlaidErrorResponse("ITEM_LOGIN_REQUIRED").body(request_id=None) if item.login_required else None,
        "available_products": [p for p in SUPPORTED_PRODUCTS if p not in item.products],
        "billed_products": list(item.products),
        "products": list(item.products),
        "consented_products": list(item.products),
        "consent_expiration_time": item.consent_expiration_time,
        "update_type": "background",
    }


def accounts_of(item: Item, body: Json) -> list[Json]:
    wanted = options(body).get("account_ids")
    accounts = item.data.accounts
    if wanted is None:
        return accounts
    if not isinstance(wanted, list) or not all(isinstance(account_id, str) for account_id in wanted):
        raise PlaidErrorResponse("INVALID_FIELD", "options.account_ids must be an array of account ids")
    known = {a["account_id"] for a in accounts}
    if any(account_id not in known for account_id in wanted):
        raise PlaidErrorResponse("INVALID_FIELD", "options.account_ids contains an unknown account id")
    return [a for a in accounts if a["account_id"] in wanted]


def products_of(body: Json, name: str) -> list[str]:
    require(body, name)
    products = body.get(name)
    if not isinstance(products, list) or not products or not all(isinstance(p, str) for p in products):
        raise PlaidErrorResponse("INVALID_FIELD", f"{name} must be a non-empty array of products")
    unknown = [p for p in products if p not in KNOWN_PRODUCTS]
    if unknown:
        raise PlaidErrorResponse("INVALID_FIELD", f"unknown products: {', '.join(unknown)}")
    return products


def iso_date(body: Json, name: str) -> date:
    value = text(body, name)
    try:
        if not ISO_DATE.fullmatch(value):  # fromisoformat alone also takes 20240101 and week dates
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise PlaidErrorResponse("INVALID_FIELD", f"{name} must be a date in YYYY-MM-DD format") from None


async def link_token_create(state: EmulatorState, body: Json) -> Json:
    require(body, "client_name", "language", "country_codes", "user")
    user = body["user"]
    if not isinstance(user, dict) or not isinstance(user.get("client_user_id"), str) or not user["client_user_id"]:
        raise PlaidErrorResponse("INVALID_FIELD", "user.client_user_id must be a non-empty string")
    codes = body["country_codes"]
    if not isinstance(codes, list) or not codes or not all(isinstance(c, str) for c in codes):
        raise PlaidErrorResponse("INVALID_FIELD", "country_codes must be a non-empty array of country codes")
    text(body, "client_name")
    text(body, "language")
    webhook = webhook_url(body.get("webhook"), "webhook")
    if body.get("access_token") is not None:
        item = item_for(state, body)
        mode: Json = {"mode": "update", "item_id": item.item_id}
    else:
        mode = {"mode": "create", "products": products_of(body, "products")}
    token = f"link-sandbox-{uuid.uuid4()}"
    expiration = datetime.now(UTC).replace(microsecond=0) + LINK_TOKEN_LIFETIME
    with state.lock:
        state.link_tokens[token] = {
            **mode,
            "webhook": webhook,
            "client_user_id": user["client_user_id"],
            "expires_at": expiration.timestamp(),
        }
    return {"link_token": token, "expiration": expiration.isoformat().replace("+00:00", "Z")}


async def public_token_exchange(state: EmulatorState, body: Json) -> Json:
    token = text(body, "public_token")
    with state.lock:
        entry = state.public_tokens.get(token)
        if entry is None:
            raise PlaidErrorResponse("INVALID_PUBLIC_TOKEN")
        if entry.used or entry.expires_at < time.time():
            raise PlaidErrorResponse("INVALID_PUBLIC_TOKEN", INVALID_PUBLIC_TOKEN_EXPIRED)
        entry.used = True
        item = state.items[entry.item_id]
    return {"access_token": state.issue_access_token(item), "item_id": item.item_id}


async def public_token_create(state: EmulatorState, body: Json) -> Json:
    item = item_for(state, body)
    token = state.issue_public_token(item)
    expiration = datetime.fromtimestamp(state.public_tokens[token].expires_at, UTC).replace(microsecond=0)
    return {"public_token": token, "expiration": expiration.isoformat().replace("+00:00", "Z")}


async def item_get(state: EmulatorState, body: Json) -> Json:
    return {"item": item_json(item_for(state, body))}


async def item_webhook_update(state: EmulatorState, body: Json) -> Json:
    """Set (or clear) the item's webhook; Plaid then sends WEBHOOK_UPDATE_ACKNOWLEDGED to the new URL."""
    item = item_for(state, body)
    item.webhook = webhook_url(body.get("webhook"), "webhook")
    if item.webhook:
        fire(state, item.webhook, webhook_body(item, "ITEM", "WEBHOOK_UPDATE_ACKNOWLEDGED"))
    return {"item": item_json(item)}


async def item_remove(state: EmulatorState, body: Json) -> Json:
    item = item_for(state, body)
    item.removed = True
    return {}


async def accounts_get(state: EmulatorState, body: Json) -> Json:
    item = item_for(state, body, usable=True)
    return {"accounts": accounts_of(item, body), "item": item_json(item)}


async def institutions_get_by_id(state: EmulatorState, body: Json) -> Json:
    require(body, "institution_id", "country_codes")
    institution = INSTITUTIONS.get(text(body, "institution_id"))
    if institution is None:
        raise PlaidErrorResponse("INVALID_INSTITUTION")
    return {
        "institution": {
            "institution_id": institution.institution_id,
            "name": institution.name,
            "products": SUPPORTED_PRODUCTS,
            "country_codes": ["US"],
            "url": institution.url,
            "primary_color": "#1f1f1f",
            "logo": None,
            "routing_numbers": [],
            "dtc_numbers": [],
            "oauth": False,
            "status": None,
            "payment_initiation_metadata": None,
            "auth_metadata": None,
            "connection_availability": "SUPPORTED",
        }
    }


async def holdings_get(state: EmulatorState, body: Json) -> Json:
    item = investments_item(state, body)
    accounts = accounts_of(item, body)
    wanted = {a["account_id"] for a in accounts}
    holdings = [h for h in item.data.holdings if h["account_id"] in wanted]
    used = {h["security_id"] for h in holdings}
    securities = [s for s in item.data.securities if s["security_id"] in used]
    return {"accounts": accounts, "holdings": holdings, "securities": securities, "item": item_json(item)}


async def investment_transactions_get(state: EmulatorState, body: Json) -> Json:
    item = investments_item(state, body)
    start, end = iso_date(body, "start_date"), iso_date(body, "end_date")
    if start > end:
        raise PlaidErrorResponse("INVALID_FIELD", "start_date must be on or before end_date")
    opts = options(body)
    count, offset = opts.get("count", 100), opts.get("offset", 0)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 500:
        raise PlaidErrorResponse("INVALID_FIELD", "options.count must be an integer from 1 to 500")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise PlaidErrorResponse("INVALID_FIELD", "options.offset must be a non-negative integer")
    accounts = accounts_of(item, body)
    wanted = {a["account_id"] for a in accounts}
    first, last = start.isoformat(), end.isoformat()
    matching = [t for t in item.data.transactions if t["account_id"] in wanted and first <= t["date"] <= last]
    page = matching[offset : offset + count]
    used = {t["security_id"] for t in page if t["security_id"]}
    return {
        "item": item_json(item),
        "accounts": accounts,
        "securities": [s for s in item.data.securities if s["security_id"] in used],
        "investment_transactions": page,
        "total_investment_transactions": len(matching),
    }


async def sandbox_public_token_create(state: EmulatorState, body: Json) -> Json:
    institution_id = text(body, "institution_id")
    if institution_id not in INSTITUTIONS:
        raise PlaidErrorResponse("INVALID_INSTITUTION")
    products = products_of(body, "initial_products")
    webhook = webhook_url(options(body).get("webhook"), "options.webhook")
    item = state.create_item(institution_id, products, ItemShape(), webhook)
    return {"public_token": state.issue_public_token(item)}


async def sandbox_item_reset_login(state: EmulatorState, body: Json) -> Json:
    item = item_for(state, body)
    item.login_required = True
    return {"reset_login": True}


async def sandbox_item_fire_webhook(state: EmulatorState, body: Json) -> Json:
    item = item_for(state, body)
    code = text(body, "webhook_code")
    kind = optional_text(body, "webhook_type")
    if not item.webhook:
        raise PlaidErrorResponse("SANDBOX_WEBHOOK_INVALID")
    fire(state, item.webhook, webhook_body(item, kind, code))
    return {"webhook_fired": True}


async def webhook_verification_key_get(state: EmulatorState, body: Json) -> Json:
    if text(body, "key_id") != state.signer.kid:
        raise PlaidErrorResponse("INVALID_WEBHOOK_VERIFICATION_KEY_ID")
    return {"key": state.signer.jwk()}


PLAID_ROUTES: dict[str, Handler] = {
    "/link/token/create": link_token_create,
    "/item/public_token/exchange": public_token_exchange,
    "/item/public_token/create": public_token_create,
    "/item/get": item_get,
    "/item/remove": item_remove,
    "/item/webhook/update": item_webhook_update,
    "/accounts/get": accounts_get,
    "/institutions/get_by_id": institutions_get_by_id,
    "/investments/holdings/get": holdings_get,
    "/investments/transactions/get": investment_transactions_get,
    "/sandbox/public_token/create": sandbox_public_token_create,
    "/sandbox/item/reset_login": sandbox_item_reset_login,
    "/sandbox/item/fire_webhook": sandbox_item_fire_webhook,
    "/webhook_verification_key/get": webhook_verification_key_get,
}
