"""Items as Plaid shows them: finding one by access token, its ``item`` object, ``status`` and accounts."""

from __future__ import annotations

from typing import Any

from ghostfolio_plaid.plaid_emulator.errors import PlaidErrorResponse, invalid_field
from ghostfolio_plaid.plaid_emulator.institutions import INSTITUTION_PRODUCTS, INSTITUTIONS
from ghostfolio_plaid.plaid_emulator.state import EmulatorState, Item, now_iso
from ghostfolio_plaid.plaid_emulator.validation import Json, options, token

# The endpoints whose outcome /item/get reports as status.investments.
INVESTMENTS_PATHS = frozenset({"/investments/holdings/get", "/investments/transactions/get"})
# Failures that are a failed attempt to reach the institution (Plaid's definition of a failed update), and
# the item errors that are not (the request never got that far).
FAILED_UPDATE_TYPES = frozenset({"ITEM_ERROR", "INSTITUTION_ERROR"})
NOT_AN_UPDATE = frozenset({"ITEM_NOT_FOUND", "PRODUCTS_NOT_SUPPORTED"})


def item_for(state: EmulatorState, body: Json, *, usable: bool = False) -> Item:
    """The item of ``body["access_token"]``; ``usable`` also refuses an item that needs its login repaired."""
    access_token = token(body, "access_token", "access")
    with state.lock:
        item_id = state.access_tokens.get(access_token)
        item = state.items.get(item_id) if item_id else None
    if item is None:
        raise PlaidErrorResponse("INVALID_ACCESS_TOKEN")
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


def item_json(item: Item, *, consent_fields: bool = False) -> Json:
    """Plaid's ``Item``; with ``consent_fields``, ``ItemWithConsentFields`` as ``/item/get`` answers it."""
    institution = INSTITUTIONS[item.institution_id]
    answer: Json = {
        "item_id": item.item_id,
        "institution_id": institution.institution_id,
        "institution_name": institution.name,
        "webhook": item.webhook or "",
        "auth_method": None,
        "error": PlaidErrorResponse("ITEM_LOGIN_REQUIRED").body(request_id=None) if item.login_required else None,
        "available_products": [p for p in INSTITUTION_PRODUCTS if p not in item.products],
        "billed_products": list(item.products),
        "products": list(item.products),
        "consented_products": list(item.products),
        "consent_expiration_time": item.consent_expiration_time,
        "update_type": "background",
    }
    if consent_fields:
        answer["created_at"] = item.created_at
    return answer


def item_status_json(item: Item) -> Json:
    """``/item/get``'s ``status``: per product the item holds, its last successful and failed update."""

    def product(name: str, success: str | None, failure: str | None) -> Json | None:
        if name not in item.products:
            return None
        return {"last_successful_update": success, "last_failed_update": failure}

    last_webhook = None
    if item.last_webhook_code is not None:
        last_webhook = {"code_sent": item.last_webhook_code, "sent_at": item.last_webhook_sent_at}
    return {
        "investments": product(
            "investments", item.investments_last_successful_update, item.investments_last_failed_update
        ),
        "transactions": product("transactions", None, None),  # the emulator serves no transactions endpoints
        "last_webhook": last_webhook,
    }


def accounts_of(item: Item, body: Json) -> list[Json]:
    """The item's accounts, or those ``options.account_ids`` names (each must be one of the item's)."""
    wanted: Any = options(body).get("account_ids")
    accounts = item.data.accounts
    if wanted is None:
        return accounts
    if not isinstance(wanted, list) or not all(isinstance(account_id, str) for account_id in wanted):
        raise invalid_field("options.account_ids must be an array of account ids")
    known = {a["account_id"] for a in accounts}
    if any(account_id not in known for account_id in wanted):
        raise PlaidErrorResponse("INVALID_ACCOUNT_ID")
    return [a for a in accounts if a["account_id"] in wanted]


def record_update(state: EmulatorState, path: str, item_id: str | None, error: PlaidErrorResponse | None) -> None:
    """After an investments call: a success is the item's last successful update; an item or institution
    error (login required, institution down, ...) its last failed one. Request errors change nothing."""
    if path not in INVESTMENTS_PATHS or item_id is None:
        return
    with state.lock:
        item = state.items.get(item_id)
        if item is None:
            return
        if error is None:
            item.investments_last_successful_update = now_iso()
        elif error.error_type in FAILED_UPDATE_TYPES and error.error_code not in NOT_AN_UPDATE:
            item.investments_last_failed_update = now_iso()
