"""Webhook payloads as Plaid sends them, and which of them ``/sandbox/item/fire_webhook`` may fire.

Payloads follow the webhook schemas of Plaid's OpenAPI file (``HoldingsDefaultUpdateWebhook``,
``ItemErrorWebhook``, ``SyncUpdatesAvailableWebhook``, ``AssetsProductReadyWebhook``, ...). Building one
applies its event to the item (``ERROR`` breaks the login, ``LOGIN_REPAIRED`` mends it, ...).

``/sandbox/item/fire_webhook`` fires exactly the codes Plaid documents for it (``SANDBOX_CODES``, the values
its reference shows for ``webhook_code``), each with the ``webhook_type`` Plaid pairs it with, and only for an
item holding the product behind it (SANDBOX_PRODUCT_NOT_ENABLED otherwise). Anything else is INVALID_FIELD.
``ERROR`` is ITEM's login error by default (``webhook_type`` ITEM or none) and the Assets error with ASSETS.
The ITEM codes Plaid sends but does not let a client fire (``PENDING_EXPIRATION``,
``WEBHOOK_UPDATE_ACKNOWLEDGED``) are available through the emulator's ``POST /emulator/webhooks``.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import Any

from ghostfolio_plaid.plaid_emulator.errors import PlaidErrorResponse, invalid_field
from ghostfolio_plaid.plaid_emulator.state import Item

Json = dict[str, Any]
SEVEN_DAYS = 7 * 86400
# Plaid's WebhookType enum: the webhook_type values fire_webhook takes.
WEBHOOK_TYPES = ("AUTH", "HOLDINGS", "INVESTMENTS_TRANSACTIONS", "ITEM", "LIABILITIES", "TRANSACTIONS", "ASSETS")
# The webhook_code values Plaid documents for fire_webhook -> the webhook_type used when none is given.
SANDBOX_CODES: dict[str, str] = {
    "DEFAULT_UPDATE": "TRANSACTIONS",
    "NEW_ACCOUNTS_AVAILABLE": "ITEM",
    "SMS_MICRODEPOSITS_VERIFICATION": "AUTH",
    "USER_PERMISSION_REVOKED": "ITEM",
    "USER_ACCOUNT_REVOKED": "ITEM",
    "PENDING_DISCONNECT": "ITEM",
    "RECURRING_TRANSACTIONS_UPDATE": "TRANSACTIONS",
    "LOGIN_REPAIRED": "ITEM",
    "SYNC_UPDATES_AVAILABLE": "TRANSACTIONS",
    "PRODUCT_READY": "ASSETS",
    "ERROR": "ITEM",
}
# ITEM codes Plaid sends on its own but never through fire_webhook.
EMULATOR_ONLY_ITEM_CODES = ("PENDING_EXPIRATION", "WEBHOOK_UPDATE_ACKNOWLEDGED")


def _in_seven_days() -> str:
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + SEVEN_DAYS))


def _item_error(item: Item) -> Json:
    item.login_required = True
    return {"error": PlaidErrorResponse("ITEM_LOGIN_REQUIRED").body(request_id=None)}


def _login_repaired(item: Item) -> Json:
    item.login_required = False
    return {}


def _pending_expiration(item: Item) -> Json:
    item.consent_expiration_time = _in_seven_days()
    return {"consent_expiration_time": item.consent_expiration_time}


def _no_micro_deposits(item: Item) -> Json:
    raise invalid_field(
        "SMS_MICRODEPOSITS_VERIFICATION can only be fired for an Item verified with Same-Day Micro-deposits"
    )


Builder = Callable[[Item], Json]
# (webhook_type, webhook_code) -> (the product the item must hold, if any; the payload's own fields)
WEBHOOKS: dict[tuple[str, str], tuple[str | None, Builder]] = {
    ("HOLDINGS", "DEFAULT_UPDATE"): (
        "investments",
        lambda item: {"error": None, "new_holdings": 0, "updated_holdings": len(item.data.holdings)},
    ),
    ("INVESTMENTS_TRANSACTIONS", "DEFAULT_UPDATE"): (
        "investments",
        lambda item: {"error": None, "new_investments_transactions": 1, "cancelled_investments_transactions": 0},
    ),
    ("TRANSACTIONS", "DEFAULT_UPDATE"): ("transactions", lambda item: {"error": None, "new_transactions": 0}),
    ("AUTH", "DEFAULT_UPDATE"): (
        "auth",
        lambda item: {"error": None, "account_ids_with_new_auth": [], "account_ids_with_updated_auth": {}},
    ),
    ("LIABILITIES", "DEFAULT_UPDATE"): (
        "liabilities",
        lambda item: {
            "error": None,
            "account_ids_with_new_liabilities": [],
            "account_ids_with_updated_liabilities": {},
        },
    ),
    ("TRANSACTIONS", "SYNC_UPDATES_AVAILABLE"): (
        "transactions",
        lambda item: {"initial_update_complete": True, "historical_update_complete": True},
    ),
    ("TRANSACTIONS", "RECURRING_TRANSACTIONS_UPDATE"): (
        "transactions",
        lambda item: {"account_ids": [a["account_id"] for a in item.data.accounts]},
    ),
    ("AUTH", "SMS_MICRODEPOSITS_VERIFICATION"): ("auth", _no_micro_deposits),
    ("ASSETS", "PRODUCT_READY"): ("assets", lambda item: {"asset_report_id": str(uuid.uuid4()), "report_type": "FULL"}),
    ("ASSETS", "ERROR"): (
        "assets",
        lambda item: {
            "asset_report_id": str(uuid.uuid4()),
            "error": PlaidErrorResponse("ASSET_REPORT_GENERATION_FAILED").body(request_id=None),
        },
    ),
    ("ITEM", "ERROR"): (None, _item_error),
    ("ITEM", "LOGIN_REPAIRED"): (None, _login_repaired),
    ("ITEM", "NEW_ACCOUNTS_AVAILABLE"): (None, lambda item: {"error": None}),
    ("ITEM", "USER_PERMISSION_REVOKED"): (
        None,
        lambda item: {"error": PlaidErrorResponse("USER_PERMISSION_REVOKED").body(request_id=None)},
    ),
    ("ITEM", "USER_ACCOUNT_REVOKED"): (None, lambda item: {"account_id": item.data.accounts[0]["account_id"]}),
    ("ITEM", "PENDING_DISCONNECT"): (
        None,
        lambda item: {"reason": "INSTITUTION_TOKEN_EXPIRATION", "disconnect_time": _in_seven_days()},
    ),
    ("ITEM", "PENDING_EXPIRATION"): (None, _pending_expiration),
    ("ITEM", "WEBHOOK_UPDATE_ACKNOWLEDGED"): (None, lambda item: {"new_webhook_url": item.webhook, "error": None}),
}


def sandbox_webhook_kind(webhook_type: str | None, webhook_code: str) -> tuple[str, str]:
    """The (type, code) ``/sandbox/item/fire_webhook`` fires for this request; INVALID_FIELD if Plaid would not."""
    if webhook_code not in SANDBOX_CODES:
        raise invalid_field(f"webhook_code must be one of: {', '.join(SANDBOX_CODES)}")
    if webhook_type is not None and webhook_type not in WEBHOOK_TYPES:
        raise invalid_field(f"webhook_type must be one of: {', '.join(WEBHOOK_TYPES)}")
    kind = webhook_type or SANDBOX_CODES[webhook_code]
    if (kind, webhook_code) not in WEBHOOKS:
        raise invalid_field(f"webhook_code {webhook_code} cannot be fired with webhook_type {kind}")
    return kind, webhook_code


def webhook_body(item: Item, webhook_type: str, webhook_code: str) -> Json:
    """The payload Plaid would send, applying the event to the item; SANDBOX_PRODUCT_NOT_ENABLED when the item
    lacks the product the webhook is about."""
    product, build = WEBHOOKS[(webhook_type, webhook_code)]
    if product is not None and product not in item.products:
        raise PlaidErrorResponse("SANDBOX_PRODUCT_NOT_ENABLED", f"The {product} product is not enabled on this item")
    details = build(item)
    body: Json = {"webhook_type": webhook_type, "webhook_code": webhook_code}
    if webhook_type != "ASSETS":  # Assets webhooks name the report, not the item
        body["item_id"] = item.item_id
    return {**body, "environment": "sandbox", **details}
