"""Webhook bodies as Plaid sends them, and their signed delivery over HTTP.

Bodies follow the webhook schemas of Plaid's OpenAPI file (``HoldingsDefaultUpdateWebhook``,
``InvestmentsDefaultUpdateWebhook``, ``ItemErrorWebhook``, ``PendingExpirationWebhook``, ...). Besides the
codes Plaid's ``/sandbox/item/fire_webhook`` accepts, the emulator also fires ``PENDING_EXPIRATION`` and
``WEBHOOK_UPDATE_ACKNOWLEDGED`` so that clients can be tested against every ITEM webhook they handle.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import httpx

from ghostfolio_plaid.plaid_emulator.errors import PlaidErrorResponse
from ghostfolio_plaid.plaid_emulator.state import EmulatorState, Item

log = logging.getLogger(__name__)
DELIVERY_TIMEOUT_SECONDS = 5.0
ITEM_CODES = frozenset(
    {
        "ERROR",
        "PENDING_EXPIRATION",
        "PENDING_DISCONNECT",
        "USER_PERMISSION_REVOKED",
        "USER_ACCOUNT_REVOKED",
        "LOGIN_REPAIRED",
        "NEW_ACCOUNTS_AVAILABLE",
        "WEBHOOK_UPDATE_ACKNOWLEDGED",
    }
)
# webhook_type of a DEFAULT_UPDATE -> the product the item needs for it (Plaid's default type: TRANSACTIONS).
DEFAULT_UPDATE_PRODUCTS = {
    "HOLDINGS": "investments",
    "INVESTMENTS_TRANSACTIONS": "investments",
    "TRANSACTIONS": "transactions",
}
SEVEN_DAYS = 7 * 86400


def _in_seven_days() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + SEVEN_DAYS))


def webhook_body(item: Item, webhook_type: str | None, webhook_code: str) -> dict[str, Any]:
    """The payload Plaid would send, applying the event to the item; Plaid's error for a code it cannot fire."""
    base: dict[str, Any] = {"webhook_code": webhook_code, "item_id": item.item_id, "environment": "sandbox"}
    if webhook_code == "DEFAULT_UPDATE":
        kind = webhook_type or "TRANSACTIONS"
        if kind not in DEFAULT_UPDATE_PRODUCTS:
            raise PlaidErrorResponse(
                "INVALID_FIELD", "webhook_type must be one of HOLDINGS, INVESTMENTS_TRANSACTIONS, TRANSACTIONS"
            )
        product = DEFAULT_UPDATE_PRODUCTS[kind]
        if product not in item.products:
            raise PlaidErrorResponse(
                "SANDBOX_PRODUCT_NOT_ENABLED", f"The {product} product is not enabled on this item"
            )
        details: dict[str, Any]
        if kind == "HOLDINGS":
            details = {"new_holdings": 0, "updated_holdings": len(item.data.holdings)}
        elif kind == "INVESTMENTS_TRANSACTIONS":
            details = {"new_investments_transactions": 1, "cancelled_investments_transactions": 0}
        else:
            details = {"new_transactions": 0}
        return {"webhook_type": kind, **base, "error": None, **details}
    if webhook_code not in ITEM_CODES:
        raise PlaidErrorResponse("INVALID_FIELD", f"webhook_code {webhook_code} cannot be fired for this item")
    if webhook_type not in (None, "ITEM"):
        raise PlaidErrorResponse("INVALID_FIELD", f"webhook_code {webhook_code} belongs to webhook_type ITEM")
    body: dict[str, Any] = {"webhook_type": "ITEM", **base}
    if webhook_code == "ERROR":
        item.login_required = True
        body["error"] = PlaidErrorResponse("ITEM_LOGIN_REQUIRED").body(request_id=None)
    elif webhook_code == "USER_PERMISSION_REVOKED":
        body["error"] = PlaidErrorResponse("USER_PERMISSION_REVOKED").body(request_id=None)
    elif webhook_code == "USER_ACCOUNT_REVOKED":
        body["account_id"] = item.data.accounts[0]["account_id"]
    elif webhook_code == "PENDING_EXPIRATION":
        item.consent_expiration_time = _in_seven_days()
        body["consent_expiration_time"] = item.consent_expiration_time
    elif webhook_code == "PENDING_DISCONNECT":
        body["reason"] = "INSTITUTION_TOKEN_EXPIRATION"
        body["disconnect_time"] = _in_seven_days()
    elif webhook_code == "LOGIN_REPAIRED":
        item.login_required = False
    elif webhook_code == "WEBHOOK_UPDATE_ACKNOWLEDGED":
        body["new_webhook_url"] = item.webhook
        body["error"] = None
    elif webhook_code == "NEW_ACCOUNTS_AVAILABLE":
        body["error"] = None
    return body


def encode(body: dict[str, Any]) -> bytes:
    """Plaid's wire form: JSON indented by 2. The signature covers exactly these bytes."""
    return json.dumps(body, indent=2).encode()


async def deliver(state: EmulatorState, url: str, body: dict[str, Any]) -> None:
    """POST the webhook with a signature over exactly the bytes sent; record the outcome, never raise."""
    raw = encode(body)
    record: dict[str, Any] = {"url": url, "body": body, "status": None, "error": None, "sent_at": time.time()}
    try:
        async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT_SECONDS) as client:
            response = await client.post(
                url,
                content=raw,
                headers={"Content-Type": "application/json", "Plaid-Verification": state.signer.sign(raw)},
            )
        record["status"] = response.status_code
    except (httpx.HTTPError, ValueError) as exc:  # ValueError: a URL httpx cannot even parse
        record["error"] = f"{type(exc).__name__}: {exc}"
        log.info("webhook delivery to %s failed: %s", url, record["error"])
    with state.lock:
        state.webhooks.append(record)


def fire(state: EmulatorState, url: str, body: dict[str, Any]) -> None:
    """Deliver in the background, as Plaid does: the fire_webhook answer does not wait for the receiver."""
    task = asyncio.create_task(deliver(state, url, body))
    state.deliveries.add(task)
    task.add_done_callback(state.deliveries.discard)


async def drain(state: EmulatorState) -> None:
    """Let deliveries under way finish (at shutdown), so none is cut off half-sent; each has its own timeout."""
    pending = list(state.deliveries)
    if pending:
        await asyncio.wait(pending, timeout=DELIVERY_TIMEOUT_SECONDS + 1)
