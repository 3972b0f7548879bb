"""Webhook bodies as Plaid sends them, and their signed delivery over HTTP."""

from __future__ import annotations

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
DEFAULT_UPDATE_TYPES = frozenset({"HOLDINGS", "INVESTMENTS_TRANSACTIONS", "TRANSACTIONS"})


def webhook_body(item: Item, webhook_type: str | None, webhook_code: str) -> dict[str, Any]:
    """The payload Plaid would send; raises Plaid's error for a code or type it does not fire."""
    base: dict[str, Any] = {"webhook_code": webhook_code, "item_id": item.item_id, "environment": "sandbox"}
    if webhook_code == "DEFAULT_UPDATE":
        if webhook_type not in DEFAULT_UPDATE_TYPES:
            raise PlaidErrorResponse("INVALID_FIELD", "webhook_type must be one of HOLDINGS, INVESTMENTS_TRANSACTIONS")
        if webhook_type == "HOLDINGS":
            details = {"new_holdings": 0, "updated_holdings": len(item.data.holdings)}
        else:
            details = {"new_investments_transactions": 1, "cancelled_investments_transactions": 0}
        return {"webhook_type": webhook_type, **base, "error": None, **details}
    if webhook_code not in ITEM_CODES or webhook_type not in (None, "ITEM"):
        raise PlaidErrorResponse("INVALID_FIELD", f"webhook_code {webhook_code} is not supported")
    body: dict[str, Any] = {"webhook_type": "ITEM", **base}
    if webhook_code == "ERROR":
        item.login_required = True
        body["error"] = PlaidErrorResponse("ITEM_LOGIN_REQUIRED").body(request_id="")
    elif webhook_code == "USER_PERMISSION_REVOKED":
        body["error"] = PlaidErrorResponse("USER_PERMISSION_REVOKED", "the user revoked access").body(request_id="")
    elif webhook_code == "USER_ACCOUNT_REVOKED":
        body["account_id"] = item.data.accounts[0]["account_id"]
    elif webhook_code == "PENDING_EXPIRATION":
        expires = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 7 * 86400))
        item.consent_expiration_time = expires
        body["consent_expiration_time"] = expires
    elif webhook_code == "PENDING_DISCONNECT":
        body["reason"] = "INSTITUTION_MIGRATION"
    elif webhook_code == "LOGIN_REPAIRED":
        item.login_required = False
    elif webhook_code == "WEBHOOK_UPDATE_ACKNOWLEDGED":
        body["new_webhook_url"] = item.webhook
        body["error"] = None
    return body


async def deliver(state: EmulatorState, url: str, body: dict[str, Any]) -> None:
    """POST the webhook with Plaid's indentation and a signature over exactly those bytes; record the outcome."""
    raw = json.dumps(body, indent=2).encode()
    record: dict[str, Any] = {"url": url, "body": body, "status": None, "error": None}
    try:
        async with httpx.AsyncClient(timeout=DELIVERY_TIMEOUT_SECONDS) as client:
            response = await client.post(
                url,
                content=raw,
                headers={"Content-Type": "application/json", "Plaid-Verification": state.signer.sign(raw)},
            )
        record["status"] = response.status_code
    except httpx.HTTPError as exc:
        record["error"] = type(exc).__name__
        log.info("webhook delivery to %s failed: %s", url, record["error"])
    with state.lock:
        state.webhooks.append(record)
