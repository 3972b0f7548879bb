"""Plaid's webhook signing keys, cached by ``kid``.

A known key is reused until its ``expired_at`` (and re-read hourly, so a key Plaid expires is noticed). An
unknown kid costs one fetch: concurrent requests for it wait on the same fetch, a kid Plaid does not know is
remembered as unknown for a while, and all fetches share a small per-minute budget, so a flood of random kids
cannot turn into a flood of calls to Plaid.
"""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import jwt

from ghostfolio_plaid.errors import PlaidApiError, PlaidUnavailable, Unavailable

KeyFetcher = Callable[[str], Awaitable[dict[str, Any]]]
UNKNOWN_KEY_CODES = frozenset({"INVALID_WEBHOOK_VERIFICATION_KEY_ID", "INVALID_FIELD", "NOT_FOUND"})


@dataclass(frozen=True)
class CachedKey:
    key: jwt.PyJWK | None
    expired_at: float | None
    stored_at: float


class WebhookKeyCache:
    def __init__(
        self,
        fetch: KeyFetcher,
        *,
        refresh_seconds: float = 3600,
        unknown_seconds: float = 300,
        fetches_per_minute: int = 10,
        max_entries: int = 1000,
    ) -> None:
        self._fetch = fetch
        self._refresh = refresh_seconds
        self._unknown = unknown_seconds
        self._budget = fetches_per_minute
        self._window_start = 0.0
        self._spent = 0
        self._max_entries = max_entries
        self._entries: OrderedDict[str, CachedKey] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[CachedKey | None]] = {}
        self.fetches = 0

    async def get(self, kid: str) -> jwt.PyJWK | None:
        """The usable key for ``kid``, or None when Plaid has no such key (or it has expired)."""
        now = time.time()
        entry = self._fresh(kid, now)
        if entry is None:
            entry = await self._load(kid)
        if entry is None or entry.key is None:
            return None
        if entry.expired_at is not None and entry.expired_at <= now:
            return None
        return entry.key

    def _fresh(self, kid: str, now: float) -> CachedKey | None:
        entry = self._entries.get(kid)
        if entry is None:
            return None
        ttl = self._unknown if entry.key is None else self._refresh
        return entry if now - entry.stored_at < ttl else None

    async def _load(self, kid: str) -> CachedKey | None:
        pending = self._inflight.get(kid)
        if pending is not None:
            return await asyncio.shield(pending)
        if not self._spend():
            return self._entries.get(kid)
        future: asyncio.Future[CachedKey | None] = asyncio.get_running_loop().create_future()
        self._inflight[kid] = future
        try:
            entry = await self._fetch_entry(kid)
            future.set_result(entry)
            return entry
        except BaseException as exc:
            future.set_exception(exc)
            future.exception()
            raise
        finally:
            del self._inflight[kid]

    async def _fetch_entry(self, kid: str) -> CachedKey:
        self.fetches += 1
        now = time.time()
        try:
            jwk = await self._fetch(kid)
        except PlaidUnavailable:
            raise Unavailable("Plaid's webhook key could not be fetched; retry later") from None
        except PlaidApiError as error:
            if error.error_code not in UNKNOWN_KEY_CODES:
                raise Unavailable("Plaid's webhook key could not be fetched; retry later") from None
            entry = CachedKey(key=None, expired_at=None, stored_at=now)
        else:
            expired = jwk.get("expired_at")
            public = {k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y", "kid", "alg", "use")}
            entry = CachedKey(
                key=jwt.PyJWK(public, algorithm="ES256"),
                expired_at=float(expired) if expired is not None else None,
                stored_at=now,
            )
        self._entries[kid] = entry
        self._entries.move_to_end(kid)
        while len(self._entries) > self._max_entries:
            self._entries.popitem(last=False)
        return entry

    def _spend(self) -> bool:
        now = time.monotonic()
        if now - self._window_start >= 60:
            self._window_start, self._spent = now, 0
        if self._spent >= self._budget:
            return False
        self._spent += 1
        return True
