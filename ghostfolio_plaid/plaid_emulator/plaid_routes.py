"""Plaid's API endpoints, answering with Plaid's request and response shapes.

Each handler takes the parsed JSON body (its fields already checked against the endpoint's known fields, see
``request_fields.py``) and returns the response without ``request_id`` (the envelope in ``app.py`` adds it),
or raises ``PlaidErrorResponse`` with the error Plaid answers for that mistake.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from ghostfolio_plaid.plaid_emulator.errors import INVALID_PUBLIC_TOKEN_EXPIRED, PlaidErrorResponse, invalid_field
from ghostfolio_plaid.plaid_emulator.fixtures import ItemShape
from ghostfolio_plaid.plaid_emulator.institutions import INSTITUTIONS, institution_json
from ghostfolio_plaid.plaid_emulator.items import (
    accounts_of,
    investments_item,
    item_for,
    item_json,
    item_status_json,
)
from ghostfolio_plaid.plaid_emulator.state import EmulatorState
from ghostfolio_plaid.plaid_emulator.validation import (
    Json,
    country_codes,
    iso_date,
    optional_text,
    options,
    products,
    require,
    text,
    token,
    webhook_url,
)
from ghostfolio_plaid.plaid_emulator.webhook_bodies import sandbox_webhook_kind, webhook_body
from ghostfolio_plaid.plaid_emulator.webhooks import send

Handler = Callable[[EmulatorState, Json], Awaitable[Json]]
LINK_TOKEN_LIFETIME = timedelta(hours=4)


def _iso(moment: datetime) -> str:
    return moment.replace(microsecond=0).isoformat().replace("+00:00", "Z")


async def link_token_create(state: EmulatorState, body: Json) -> Json:
    require(body, "client_name", "language", "country_codes", "user")
    user = body["user"]
    if not isinstance(user, dict) or not isinstance(user.get("client_user_id"), str) or not user["client_user_id"]:
        raise invalid_field("user.client_user_id must be a non-empty string")
    codes = country_codes(body)
    text(body, "client_name")
    text(body, "language")
    webhook = webhook_url(body.get("webhook"), "webhook")
    if body.get("access_token") is not None:
        item = item_for(state, body)
        mode: Json = {"mode": "update", "item_id": item.item_id}
    else:
        mode = {"mode": "create", "products": products(body.get("products"), "products")}
    link_token = f"link-sandbox-{uuid.uuid4()}"
    expiration = datetime.now(UTC) + LINK_TOKEN_LIFETIME
    with state.lock:
        state.link_tokens[link_token] = {
            **mode,
            "webhook": webhook,
            "country_codes": codes,
            "client_user_id": user["client_user_id"],
            "expires_at": expiration.timestamp(),
        }
    return {"link_token": link_token, "expiration": _iso(expiration)}


async def public_token_exchange(state: EmulatorState, body: Json) -> Json:
    public_token = token(body, "public_token", "public")
    with state.lock:
        entry = state.public_tokens.get(public_token)
        if entry is None:
            raise PlaidErrorResponse("INVALID_PUBLIC_TOKEN")
        if entry.used or entry.expires_at < time.time():
            raise PlaidErrorResponse("INVALID_PUBLIC_TOKEN", INVALID_PUBLIC_TOKEN_EXPIRED)
        entry.used = True
        item = state.items[entry.item_id]
    return {"access_token": state.issue_access_token(item), "item_id": item.item_id}


async def public_token_create(state: EmulatorState, body: Json) -> Json:
    item = item_for(state, body)
    public_token = state.issue_public_token(item)
    expiration = datetime.fromtimestamp(state.public_tokens[public_token].expires_at, UTC)
    return {"public_token": public_token, "expiration": _iso(expiration)}


async def item_get(state: EmulatorState, body: Json) -> Json:
    item = item_for(state, body)
    return {"item": item_json(item, consent_fields=True), "status": item_status_json(item)}


async def item_webhook_update(state: EmulatorState, body: Json) -> Json:
    """Set (or clear) the item's webhook; Plaid then sends WEBHOOK_UPDATE_ACKNOWLEDGED to the new URL."""
    item = item_for(state, body)
    item.webhook = webhook_url(body.get("webhook"), "webhook")
    if item.webhook:
        send(state, item, webhook_body(item, "ITEM", "WEBHOOK_UPDATE_ACKNOWLEDGED"))
    return {"item": item_json(item)}


async def item_remove(state: EmulatorState, body: Json) -> Json:
    item = item_for(state, body)
    optional_text(body, "reason_code")
    optional_text(body, "reason_note")
    item.removed = True
    return {}


async def accounts_get(state: EmulatorState, body: Json) -> Json:
    item = item_for(state, body, usable=True)
    return {"accounts": accounts_of(item, body), "item": item_json(item)}


async def institutions_get_by_id(state: EmulatorState, body: Json) -> Json:
    """The institution, if it operates in one of ``country_codes`` (Plaid: INVALID_INSTITUTION otherwise)."""
    require(body, "institution_id", "country_codes")
    institution = INSTITUTIONS.get(text(body, "institution_id"))
    codes = country_codes(body)
    opts = options(body)
    for name, value in opts.items():
        if not isinstance(value, bool):
            raise invalid_field(f"options.{name} must be a boolean")
    if institution is None or not set(codes) & set(institution.country_codes):
        raise PlaidErrorResponse("INVALID_INSTITUTION")
    return {"institution": institution_json(institution, opts)}


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
        raise invalid_field("start_date must be on or before end_date")
    opts = options(body)
    count, offset = opts.get("count", 100), opts.get("offset", 0)
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 500:
        raise invalid_field("options.count must be an integer from 1 to 500")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise invalid_field("options.offset must be a non-negative integer")
    if not isinstance(opts.get("async_update", False), bool):
        raise invalid_field("options.async_update must be a boolean")
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
    initial_products = products(body.get("initial_products"), "initial_products")
    webhook = webhook_url(options(body).get("webhook"), "options.webhook")
    item = state.create_item(institution_id, initial_products, ItemShape(), webhook)
    return {"public_token": state.issue_public_token(item)}


async def sandbox_item_reset_login(state: EmulatorState, body: Json) -> Json:
    """Break the item's login; Plaid then fires ITEM ERROR (ITEM_LOGIN_REQUIRED) at the item's webhook."""
    item = item_for(state, body)
    send(state, item, webhook_body(item, "ITEM", "ERROR"))
    item.login_required = True
    return {"reset_login": True}


async def sandbox_item_fire_webhook(state: EmulatorState, body: Json) -> Json:
    item = item_for(state, body)
    kind, code = sandbox_webhook_kind(optional_text(body, "webhook_type"), text(body, "webhook_code"))
    if not item.webhook:
        raise PlaidErrorResponse("SANDBOX_WEBHOOK_INVALID")
    send(state, item, webhook_body(item, kind, code))
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
