"""The webhook key cache: one fetch per kid, expiry respected, unknown kids remembered, fetches budgeted."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from ghostfolio_plaid.errors import PlaidApiError, PlaidUnavailable, Unavailable
from ghostfolio_plaid.plaid_emulator.signing import WebhookSigner
from ghostfolio_plaid.resolvers.webhook_keys import WebhookKeyCache


class FakePlaid:
    def __init__(self, signer: WebhookSigner, *, expired_at: float | None = None) -> None:
        self.signer = signer
        self.expired_at = expired_at
        self.calls: list[str] = []
        self.down = False

    async def fetch(self, kid: str) -> dict[str, Any]:
        self.calls.append(kid)
        await asyncio.sleep(0.01)
        if self.down:
            raise PlaidUnavailable("timeout")
        if kid != self.signer.kid:
            raise PlaidApiError(
                status=400,
                error_type="INVALID_INPUT",
                error_code="INVALID_WEBHOOK_VERIFICATION_KEY_ID",
                error_message="no such key",
            )
        return {**self.signer.jwk(), "expired_at": self.expired_at}


async def test_concurrent_requests_for_one_kid_share_one_fetch() -> None:
    plaid = FakePlaid(WebhookSigner())
    cache = WebhookKeyCache(plaid.fetch)
    keys = await asyncio.gather(*(cache.get(plaid.signer.kid) for _ in range(20)))
    assert all(key is not None for key in keys)
    assert plaid.calls == [plaid.signer.kid]


async def test_expired_keys_are_refused() -> None:
    plaid = FakePlaid(WebhookSigner(), expired_at=time.time() - 1)
    assert await WebhookKeyCache(plaid.fetch).get(plaid.signer.kid) is None


async def test_unknown_kids_are_remembered_and_fetches_are_budgeted_per_source() -> None:
    plaid = FakePlaid(WebhookSigner())
    cache = WebhookKeyCache(plaid.fetch, fetches_per_minute_per_source=3)
    for _ in range(5):
        assert await cache.get("unknown-kid", "203.0.113.7") is None
    assert plaid.calls == ["unknown-kid"]
    for n in range(10):
        assert await cache.get(f"random-{n}", "203.0.113.7") is None
    assert len(plaid.calls) == 3


async def test_a_flood_from_one_source_leaves_other_senders_their_fetches() -> None:
    plaid = FakePlaid(WebhookSigner())
    cache = WebhookKeyCache(plaid.fetch, fetches_per_minute_per_source=3)
    for n in range(50):
        await cache.get(f"random-{n}", "203.0.113.7")
    assert await cache.get(plaid.signer.kid, "52.21.26.131") is not None


async def test_with_no_valid_key_cached_a_fetch_is_kept_in_reserve_beyond_the_overall_budget() -> None:
    plaid = FakePlaid(WebhookSigner())
    cache = WebhookKeyCache(plaid.fetch, fetches_per_minute=5, fetches_per_minute_per_source=1)
    for n in range(20):
        await cache.get(f"random-{n}", f"198.51.100.{n}")
    assert len(plaid.calls) == 6  # five within the budget, one from the reserve
    await asyncio.sleep(0)
    cache._last_reserve -= 10  # the reserve interval has passed
    assert await cache.get(plaid.signer.kid, "52.21.26.131") is not None
    calls = len(plaid.calls)
    cache._last_reserve -= 10
    for n in range(20):
        await cache.get(f"later-{n}", f"192.0.2.{n}")
    assert len(plaid.calls) == calls  # a valid key is cached: the reserve stays closed


async def test_plaid_down_is_unavailable_not_a_rejection() -> None:
    plaid = FakePlaid(WebhookSigner())
    plaid.down = True
    with pytest.raises(Unavailable):
        await WebhookKeyCache(plaid.fetch).get(plaid.signer.kid)
