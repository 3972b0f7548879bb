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


async def test_unknown_kids_are_remembered_and_fetches_are_budgeted() -> None:
    plaid = FakePlaid(WebhookSigner())
    cache = WebhookKeyCache(plaid.fetch, fetches_per_minute=3)
    for _ in range(5):
        assert await cache.get("unknown-kid") is None
    assert plaid.calls == ["unknown-kid"]
    for n in range(10):
        assert await cache.get(f"random-{n}") is None
    assert len(plaid.calls) == 3


async def test_plaid_down_is_unavailable_not_a_rejection() -> None:
    plaid = FakePlaid(WebhookSigner())
    plaid.down = True
    with pytest.raises(Unavailable):
        await WebhookKeyCache(plaid.fetch).get(plaid.signer.kid)
