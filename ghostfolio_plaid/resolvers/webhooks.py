"""Plaid webhooks: verified by Plaid's documented algorithm, then applied idempotently.

Verification: the ``Plaid-Verification`` header is an ES256 JWT whose ``kid`` names a key from
``/webhook_verification_key/get``; its ``iat`` must be recent and its ``request_body_sha256`` must equal the
SHA-256 of the raw body (compared in constant time). Anything else is 401 and changes nothing.
Unknown items, types and codes are acknowledged (so Plaid stops retrying) and only logged.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import time
from datetime import datetime
from typing import Any

import jwt

from ghostfolio_plaid.errors import BadUserInput, Unauthenticated
from ghostfolio_plaid.events import publish_item
from ghostfolio_plaid.job_queue import request_sync_soon
from ghostfolio_plaid.logs import item_id_var
from ghostfolio_plaid.metrics import WEBHOOKS
from ghostfolio_plaid.models import PlaidItem, SyncTrigger
from ghostfolio_plaid.request_limits import parse_json
from ghostfolio_plaid.resolvers.services import Services

log = logging.getLogger(__name__)
SYNC_WEBHOOKS = frozenset(
    {
        ("HOLDINGS", "DEFAULT_UPDATE"),
        ("INVESTMENTS_TRANSACTIONS", "DEFAULT_UPDATE"),
        ("INVESTMENTS_TRANSACTIONS", "HISTORICAL_UPDATE"),
    }
)
"""New data at Plaid: a sync is requested. HISTORICAL_UPDATE says a new item's history is ready (a first sync
that met PRODUCT_NOT_READY is waiting for it)."""
CLOCK_SKEW_SECONDS = 30


async def verify(services: Services, token: str | None, raw_body: bytes, source: str = "unknown") -> None:
    """Plaid's algorithm. The claims are checked before the key is looked up too (unverified, so only as a
    filter): a stale or mismatched token never costs a key fetch."""
    if not token:
        raise Unauthenticated("Missing Plaid-Verification header")
    try:
        header = jwt.get_unverified_header(token)
        unverified = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        raise Unauthenticated("Plaid-Verification is not a JWT") from None
    kid = header.get("kid")
    if header.get("alg") != "ES256" or not isinstance(kid, str) or not kid:
        raise Unauthenticated("Plaid-Verification must be an ES256 JWT with a kid")
    _check_claims(services, unverified, raw_body)
    key = await services.webhook_keys.get(kid, source)
    if key is None:
        raise Unauthenticated("Plaid-Verification names an unknown or expired key")
    try:
        claims = jwt.decode(token, key, algorithms=["ES256"], options={"require": ["iat"]}, leeway=CLOCK_SKEW_SECONDS)
    except jwt.InvalidTokenError:
        raise Unauthenticated("Plaid-Verification signature is invalid") from None
    _check_claims(services, claims, raw_body)


def _check_claims(services: Services, claims: dict[str, Any], raw_body: bytes) -> None:
    issued = claims.get("iat")
    if not isinstance(issued, int | float) or isinstance(issued, bool):
        raise Unauthenticated("Plaid-Verification has no iat")
    age = time.time() - float(issued)
    if age > services.settings.webhook_max_age_seconds or age < -CLOCK_SKEW_SECONDS:
        raise Unauthenticated("Plaid-Verification is too old")
    claimed = claims.get("request_body_sha256")
    if not isinstance(claimed, str) or not hmac.compare_digest(
        claimed.encode(), hashlib.sha256(raw_body).hexdigest().encode()
    ):
        raise Unauthenticated("Plaid-Verification does not match the body")


def parse(raw_body: bytes) -> dict[str, Any]:
    try:
        payload = parse_json(raw_body)
    except (ValueError, UnicodeDecodeError):
        raise BadUserInput("Webhook body must be valid JSON") from None
    if not isinstance(payload, dict) or not all(
        isinstance(payload.get(name), str) for name in ("webhook_type", "webhook_code", "item_id")
    ):
        raise BadUserInput("Webhook body must be an object with webhook_type, webhook_code and item_id")
    return payload


async def handle_webhook(services: Services, token: str | None, raw_body: bytes, source: str = "unknown") -> None:
    """``source`` is the sender's address: key fetches are budgeted per sender."""
    if len(raw_body) > services.settings.webhook_max_body_bytes:
        raise BadUserInput("Webhook body is too large")
    try:
        await verify(services, token, raw_body, source)
    except Unauthenticated:
        WEBHOOKS.labels("rejected").inc()
        raise
    WEBHOOKS.labels("verified").inc()
    payload = parse(raw_body)
    kind, code = payload["webhook_type"], payload["webhook_code"]
    item = await PlaidItem.get_or_none(item_id=payload["item_id"])
    if item is None or item.disconnected_at is not None:
        log.info("webhook %s:%s for unknown or disconnected item ignored", kind, code)
        return
    item_id_var.set(str(item.id))
    log.info("webhook %s:%s for plaid item %s", kind, code, item.id)
    if (kind, code) in SYNC_WEBHOOKS:
        await request_sync_soon(services.queue, item, SyncTrigger.WEBHOOK)
    elif kind == "ITEM":
        await _item_event(services, item, code, payload)
    else:
        log.info("webhook %s:%s needs no action", kind, code)


async def _item_event(services: Services, item: PlaidItem, code: str, payload: dict[str, Any]) -> None:
    if code == "ERROR":
        error = payload.get("error") or {}
        await _set(item, error=str(error.get("error_code") or "ITEM_ERROR"))
    elif code == "PENDING_EXPIRATION":
        expires = payload.get("consent_expiration_time")
        await _set(
            item,
            error="PENDING_EXPIRATION",
            consent_expires_at=_timestamp(expires) if isinstance(expires, str) else item.consent_expires_at,
        )
    elif code in ("PENDING_DISCONNECT", "USER_PERMISSION_REVOKED", "USER_ACCOUNT_REVOKED"):
        await _set(item, error=code)
    elif code == "LOGIN_REPAIRED":
        await _set(item, error=None)
        await request_sync_soon(services.queue, item, SyncTrigger.WEBHOOK)
    elif code == "NEW_ACCOUNTS_AVAILABLE":
        await _set(item, new_accounts_available=True)
    else:
        log.info("ITEM:%s needs no action", code)


async def _set(item: PlaidItem, **changes: Any) -> None:
    for name, value in changes.items():
        setattr(item, name, value)
    await item.save(update_fields=[*changes, "updated_at"])
    await publish_item(item)


def _timestamp(value: str) -> datetime | None:
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
