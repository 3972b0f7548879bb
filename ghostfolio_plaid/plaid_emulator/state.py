"""The emulator's memory: items, tokens, the request log, webhook deliveries and injected faults."""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import threading
import time
import uuid
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from ghostfolio_plaid.plaid_emulator.fixtures import ItemData, ItemShape, build_item_data
from ghostfolio_plaid.plaid_emulator.institutions import INSTITUTIONS
from ghostfolio_plaid.plaid_emulator.signing import WebhookSigner
from ghostfolio_plaid.plaid_emulator.traps import REVISIONS, build_traps


def now_iso() -> str:
    """Plaid's timestamps: ISO 8601 in UTC, to the second, with a ``Z``."""
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())


@dataclass
class Item:
    item_id: str
    institution_id: str
    products: list[str]
    shape: ItemShape
    webhook: str | None = None
    login_required: bool = False
    removed: bool = False
    consent_expiration_time: str | None = None
    created_at: str = field(default_factory=now_iso)
    # /item/get's ``status``: the last investments update that succeeded or failed, the last webhook sent.
    investments_last_successful_update: str | None = None
    investments_last_failed_update: str | None = None
    last_webhook_code: str | None = None
    last_webhook_sent_at: str | None = None
    revision: int = 0
    """How often ``/emulator/items/{item_id}/revise`` moved the item on (the traps dataset has one revision)."""
    _data: ItemData | None = None

    @property
    def data(self) -> ItemData:
        if self._data is None:
            if self.shape.dataset == "traps":
                self._data = build_traps(self.item_id, self.revision)
            else:
                self._data = build_item_data(self.item_id, INSTITUTIONS[self.institution_id], self.shape)
        return self._data

    def revise(self) -> int:
        """Move to the dataset's next revision: what Plaid answers from now on differs (see ``traps.py``)."""
        if self.shape.dataset != "traps":
            raise ValueError(f"the {self.shape.dataset} dataset has no revisions; seed shape.dataset traps")
        if self.revision + 1 >= REVISIONS:
            raise ValueError(f"item {self.item_id} is at its last revision ({self.revision})")
        self.revision += 1
        self._data = None
        return self.revision


@dataclass
class PublicToken:
    item_id: str
    expires_at: float
    used: bool = False


@dataclass
class Fault:
    """An injected failure for the next ``times`` calls of one path (of one item, if given).

    ``error_code``: Plaid's error object for that code (its usual status, or ``status``). ``status`` alone:
    the Plaid error Plaid sends with that status (500 -> INTERNAL_SERVER_ERROR, 429 -> RATE_LIMIT_EXCEEDED,
    503 -> PLANNED_MAINTENANCE). ``status`` with ``body``: that raw body (a broken proxy). ``body`` alone: a
    200 with that raw body (e.g. malformed JSON). ``delay_ms``: wait first; alone, the real answer follows.
    """

    path: str
    item_id: str | None = None
    error_code: str | None = None
    status: int | None = None
    delay_ms: int = 0
    times: int = 1
    body: str | None = None

    def __post_init__(self) -> None:
        """Reject wrong types here, so a bad fault is a 400 at ``/emulator/faults``, not a crash later."""
        if not isinstance(self.path, str) or not self.path.startswith("/"):
            raise ValueError("path must be a string starting with /")
        for name in ("item_id", "error_code", "body"):
            if getattr(self, name) is not None and not isinstance(getattr(self, name), str):
                raise ValueError(f"{name} must be a string")
        if self.status is not None and (not _is_int(self.status) or not 100 <= self.status <= 599):
            raise ValueError("status must be an HTTP status code")
        if not _is_int(self.delay_ms) or not 0 <= self.delay_ms <= 600_000:
            raise ValueError("delay_ms must be an integer from 0 to 600000")
        if not _is_int(self.times) or self.times < 1:
            raise ValueError("times must be a positive integer")


@dataclass
class EmulatorState:
    public_token_ttl: float
    items: dict[str, Item] = field(default_factory=dict)
    access_tokens: dict[str, str] = field(default_factory=dict)
    public_tokens: dict[str, PublicToken] = field(default_factory=dict)
    link_tokens: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    webhooks: list[dict[str, Any]] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    signer: WebhookSigner = field(default_factory=WebhookSigner)
    lock: threading.RLock = field(default_factory=threading.RLock)
    deliveries: set[asyncio.Task[None]] = field(default_factory=set)

    def reset(self) -> None:
        with self.lock:
            for collection in (self.items, self.access_tokens, self.public_tokens, self.link_tokens):
                collection.clear()
            self.requests.clear()
            self.webhooks.clear()
            self.faults.clear()

    def create_item(self, institution_id: str, products: list[str], shape: ItemShape, webhook: str | None) -> Item:
        item = Item(
            item_id=_random_id(), institution_id=institution_id, products=products, shape=shape, webhook=webhook
        )
        with self.lock:
            self.items[item.item_id] = item
        return item

    def issue_public_token(self, item: Item) -> str:
        token = f"public-sandbox-{uuid.uuid4()}"
        with self.lock:
            self.public_tokens[token] = PublicToken(item.item_id, time.time() + self.public_token_ttl)
        return token

    def issue_access_token(self, item: Item) -> str:
        token = f"access-sandbox-{uuid.uuid4()}"
        with self.lock:
            self.access_tokens[token] = item.item_id
        return token

    def save(self, path: Path) -> None:
        """Write what outlives a restart (items, access tokens, the signing key), atomically."""
        with self.lock:
            snapshot = {
                "items": [
                    {
                        "item_id": i.item_id,
                        "institution_id": i.institution_id,
                        "products": i.products,
                        "shape": asdict(i.shape),
                        "webhook": i.webhook,
                        "login_required": i.login_required,
                        "removed": i.removed,
                        "consent_expiration_time": i.consent_expiration_time,
                        "created_at": i.created_at,
                        "investments_last_successful_update": i.investments_last_successful_update,
                        "investments_last_failed_update": i.investments_last_failed_update,
                        "last_webhook_code": i.last_webhook_code,
                        "last_webhook_sent_at": i.last_webhook_sent_at,
                        "revision": i.revision,
                    }
                    for i in self.items.values()
                ],
                "access_tokens": self.access_tokens,
                "signer": {
                    "pem": self.signer.pem().decode(),
                    "kid": self.signer.kid,
                    "created_at": self.signer.created_at,
                },
            }
        temporary = path.with_suffix(".tmp")
        temporary.write_text(json.dumps(snapshot))
        os.replace(temporary, path)

    def load(self, path: Path) -> None:
        if not path.exists():
            return
        snapshot = json.loads(path.read_text())
        with self.lock:
            for raw in snapshot["items"]:
                item = Item(**{**raw, "shape": ItemShape(**raw["shape"])})
                self.items[item.item_id] = item
            self.access_tokens.update(snapshot["access_tokens"])
            signer = snapshot["signer"]
            self.signer = WebhookSigner(signer["pem"].encode(), signer["kid"], signer["created_at"])

    def take_fault(self, path: str, item_id: str | None) -> Fault | None:
        with self.lock:
            for fault in self.faults:
                if fault.path == path and fault.item_id in (None, item_id) and fault.times > 0:
                    fault.times -= 1
                    if fault.times == 0:
                        self.faults.remove(fault)
                    return fault
        return None


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _random_id() -> str:
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
    return "".join(secrets.choice(alphabet) for _ in range(37))
