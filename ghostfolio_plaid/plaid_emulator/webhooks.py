"""Webhook delivery as Plaid does it: JSON indented by 2, signed (``Plaid-Verification``), in the background.

The payloads themselves are built in ``webhook_bodies.py``.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from typing import Any

import httpx

from ghostfolio_plaid.plaid_emulator.state import EmulatorState, Item, now_iso

log = logging.getLogger(__name__)
DELIVERY_TIMEOUT_SECONDS = 5.0


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


def send(state: EmulatorState, item: Item, body: dict[str, Any]) -> None:
    """Fire ``body`` at the item's webhook and remember it as the item's ``status.last_webhook``."""
    if not item.webhook:
        return
    item.last_webhook_code, item.last_webhook_sent_at = body["webhook_code"], now_iso()
    fire(state, item.webhook, body)


async def drain(state: EmulatorState) -> None:
    """Let deliveries under way finish (at shutdown), so none is cut off half-sent; each has its own timeout."""
    pending = list(state.deliveries)
    if pending:
        await asyncio.wait(pending, timeout=DELIVERY_TIMEOUT_SECONDS + 1)
