"""Per-user limits on Link tokens and manual syncs: 429 with Retry-After, per user, shared through Redis."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from starlette.applications import Starlette

from ghostfolio_plaid.job_queue import SyncQueue
from ghostfolio_plaid.models import SyncJob, SyncStatus
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from ghostfolio_plaid.user_limits import UserLimiter
from tests.conftest import Caller
from tests.linking import link_item


@pytest.fixture
def strict_limits(app: Starlette) -> Iterator[UserLimiter]:
    services = app.state.services
    original = services.user_limits
    services.user_limits = UserLimiter(services.queue.redis, {"link_token": (3, 3600), "manual_sync": (2, 3600)})
    yield services.user_limits
    services.user_limits = original


async def test_link_tokens_are_limited_per_user(
    client: httpx.AsyncClient, alice: Caller, bob: Caller, strict_limits: UserLimiter
) -> None:
    answers = [await client.post("/api/v1/plaid/link-token", headers=alice.headers) for _ in range(4)]
    assert [a.status_code for a in answers] == [200, 200, 200, 429]
    refused = answers[-1]
    assert 0 < int(refused.headers["Retry-After"]) <= 3600
    assert refused.json()["statusCode"] == 429 and "retry in" in refused.json()["message"]
    assert (await client.post("/api/v1/plaid/link-token", headers=bob.headers)).status_code == 200
    graphql = await client.post(
        "/graphql", json={"query": "mutation { createLinkToken { linkToken } }"}, headers=alice.headers
    )
    error = graphql.json()["errors"][0]
    assert error["extensions"]["code"] == "RATE_LIMITED" and error["extensions"]["retryAfter"] > 0


async def test_manual_syncs_are_limited_per_user(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, strict_limits: UserLimiter
) -> None:
    item_id = (await link_item(client, emulator, alice))["plaidItemId"]
    statuses = []
    for _ in range(3):
        statuses.append((await client.post(f"/api/v1/plaid/sync/{item_id}", headers=alice.headers)).status_code)
        await SyncJob.filter(plaid_item_id=item_id).update(status=SyncStatus.SUCCEEDED)
    assert statuses == [202, 202, 429]


async def test_limiter_outage_does_not_lock_users_out(client: httpx.AsyncClient, alice: Caller, app: Starlette) -> None:
    services = app.state.services
    original = services.user_limits
    services.user_limits = UserLimiter(SyncQueue("redis://127.0.0.1:1/0", "x").redis, {"link_token": (1, 3600)})
    try:
        assert (await client.post("/api/v1/plaid/link-token", headers=alice.headers)).status_code == 200
    finally:
        services.user_limits = original
