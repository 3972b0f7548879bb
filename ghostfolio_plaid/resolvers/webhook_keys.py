"""Plaid's webhook signing keys, cached by ``kid``.

A known key is reused until its ``expired_at`` (and re-read hourly, so a key Plaid expires is noticed). An
unknown kid costs one fetch: concurrent requests for it wait on the same fetch, and a kid Plaid does not know
is remembered as unknown for a while.

Fetches are budgeted per source (the sender's address) and overall, so a flood of random kids cannot turn into
a flood of calls to Plaid, and cannot spend the budget of Plaid's own deliveries either. While no valid key is
cached at all (after a restart, or once Plaid's key expired), one fetch every few seconds is kept in reserve
beyond the overall budget, so a genuine webhook still gets its key during a flood.
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
        fetches_per_minute: int = 60,
        fetches_per_minute_per_source: int = 10,
        reserve_interval_seconds: float = 2.0,
        max_entries: int = 1000,
        max_sources: int = 10000,
    ) -> None:
        self._fetch = fetch
        self._refresh = refresh_seconds
        self._unknown = unknown_seconds
        self._overall = _Budget(fetches_per_minute)
        self._per_source = fetches_per_minute_per_source
        self._sources: OrderedDict[str, _Budget] = OrderedDict()
        self._max_sources = max_sources
        self._reserve_interval = reserve_interval_seconds
        self._last_reserve = -reserve_interval_seconds
        self._max_entries = max_entries
        self._entries: OrderedDict[str, CachedKey] = OrderedDict()
        self._inflight: dict[str, asyncio.Future[CachedKey | None]] = {}
        self.fetches = 0

    async def get(self, kid: str, source: str = "unknown") -> jwt.PyJWK | None:
        """The usable key for ``kid``, or None when Plaid has no such key (or it has expired)."""
        now = time.time()
        entry = self._fresh(kid, now)
        if entry is None:
            entry = await self._load(kid, source)
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

    async def _load(self, kid: str, source: str) -> CachedKey | None:
        pending = self._inflight.get(kid)
        if pending is not None:
            return await asyncio.shield(pending)
        if not self._spend(source):
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

    def _spend(self, source: str) -> bool:
        now = time.monotonic()
        own = self._sources.pop(source, None) or _Budget(self._per_source)
        self._sources[source] = own
        while len(self._sources) > self._max_sources:
            self._sources.popitem(last=False)
        if not own.available(now):
            return False
        if not self._overall.available(now):
            if self._has_valid_key() or now - self._last_reserve < self._reserve_interval:
                return False
            self._last_reserve = now
        else:
            self._overall.spend()
        own.spend()
        return True

    def _has_valid_key(self) -> bool:
        now = time.time()
        return any(
            entry.key is not None and (entry.expired_at is None or entry.expired_at > now)
            for entry in self._entries.values()
        )


class _Budget:
    """So many fetches per 60-second window."""

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self.window_start = -60.0
        self.spent = 0

    def available(self, now: float) -> bool:
        if now - self.window_start >= 60:
            self.window_start, self.spent = now, 0
        return self.spent < self.per_minute

    def spend(self) -> None:
        self.spent += 1
