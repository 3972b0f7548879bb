"""Prometheus metrics: requests by route template and status, GraphQL operations, webhooks, syncs, queue,
Ghostfolio pushes and the outbox."""

from __future__ import annotations

import math
import random
import string
import uuid
from collections.abc import Iterator
from dataclasses import replace

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from redis import Redis
from rq import Queue
from starlette.applications import Starlette

from ghostfolio_plaid.ghostfolio.jobs import deliver
from ghostfolio_plaid.job_queue import SyncQueue
from ghostfolio_plaid.models import PlaidItem
from ghostfolio_plaid.plaid_emulator import EmulatorServer, ThreadedServer
from ghostfolio_plaid.workers.sync import SyncServices
from tests.conftest import Caller
from tests.test_ghostfolio_push import synced_item

Samples = dict[tuple[str, tuple[tuple[str, str], ...]], float]


async def scrape(client: httpx.AsyncClient) -> Samples:
    response = await client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


async def test_metrics_count_what_happened(client: httpx.AsyncClient, alice: Caller) -> None:
    before = await scrape(client)
    await client.get("/api/v1/plaid/items", headers=alice.headers)
    await client.post(f"/api/v1/plaid/sync/{uuid.uuid4()}", headers=alice.headers)
    await client.post("/graphql", json={"query": "query PlaidItems { plaidItems { id } }"}, headers=alice.headers)
    await client.post("/graphql", json={"query": "query Mine { plaidItems { id } }"}, headers=alice.headers)
    await client.post("/api/v1/plaid/webhook", content=b"{}")
    after = await scrape(client)

    def grew(metric: str, **labels: str) -> float:
        key = (metric, tuple(sorted(labels.items())))
        return after.get(key, 0) - before.get(key, 0)

    assert grew("ghostfolio_plaid_http_requests_total", method="GET", route="/api/v1/plaid/items", status="200") == 1
    assert (
        grew(
            "ghostfolio_plaid_http_requests_total",
            method="POST",
            route="/api/v1/plaid/sync/{plaidItemId}",
            status="404",
        )
        == 1
    )
    assert grew("ghostfolio_plaid_graphql_operations_total", type="query", name="PlaidItems") == 1
    assert grew("ghostfolio_plaid_graphql_operations_total", type="query", name="other") == 1
    assert grew("ghostfolio_plaid_webhook_verifications_total", result="rejected") == 1
    assert grew("ghostfolio_plaid_http_request_duration_seconds_count", method="GET", route="/api/v1/plaid/items") == 1
    assert ("ghostfolio_plaid_sync_jobs", (("status", "succeeded"),)) in after
    assert ("ghostfolio_plaid_queue_depth", ()) in after


async def test_queue_depth_is_the_length_of_the_sync_queue(
    client: httpx.AsyncClient, app: Starlette, redis_client: Redis
) -> None:
    depth = (await scrape(client))[("ghostfolio_plaid_queue_depth", ())]
    queue = Queue(app.state.services.settings.sync_queue_name, connection=redis_client)
    assert depth == queue.count


async def test_queue_depth_is_nan_while_redis_is_down(client: httpx.AsyncClient, app: Starlette) -> None:
    services = app.state.services
    working = services.queue
    services.queue = SyncQueue("redis://127.0.0.1:1/0", "unreachable")
    try:
        depth = (await scrape(client))[("ghostfolio_plaid_queue_depth", ())]
    finally:
        services.queue.close()
        services.queue = working
    assert math.isnan(depth)


def random_word(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_letters + string.digits, k=12))


async def test_random_paths_methods_and_operation_names_add_no_label_values(
    client: httpx.AsyncClient, alice: Caller
) -> None:
    """Labels come from bounded sets: route templates or ``unmatched``, known methods, known operation names."""
    rng = random.Random()

    async def strangers(count: int) -> None:
        """``count`` random paths, methods and operation names, in every shape a stranger may send."""
        for n in range(count):
            word = random_word(rng)
            path = (f"/{word}", f"/api/v1/plaid/{word}", f"/api/v1/plaid/sync/{word}/{word}", f"/graphql/{word}")[n % 4]
            await client.request(("GET", "POST", word.upper())[n // 4 % 3], path)
            document = (f"query {word} {{ plaidItems {{ id }} }}", f"mutation {word} {{ nope }}", "{ ", "{ a }")[n % 4]
            await client.post("/graphql", json={"query": document, "operationName": word}, headers=alice.headers)

    await strangers(12)  # every shape once: the label values they need exist from now on
    await scrape(client)
    before = await scrape(client)
    await strangers(200)
    after = await scrape(client)
    assert set(after) == set(before)


@pytest.fixture
def metrics_token(app: Starlette) -> Iterator[str]:
    services = app.state.services
    original = services.settings
    services.settings = replace(original, metrics_token="scrape-token-0123456789")
    yield services.settings.metrics_token
    services.settings = original


async def test_metrics_and_readyz_take_the_metrics_token(client: httpx.AsyncClient, metrics_token: str) -> None:
    for path in ("/metrics", "/readyz"):
        assert (await client.get(path)).status_code == 401
        assert (await client.get(path, headers={"Authorization": "Bearer " + metrics_token[:-1]})).status_code == 401
        assert (await client.get(path, headers={"Authorization": f"Bearer {metrics_token}"})).status_code == 200
    assert (await client.get("/healthz")).status_code == 200


async def test_pushes_by_outcome_and_the_outbox_depth_move_with_a_push(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    sync_services: SyncServices,
    ghostfolio: ThreadedServer,
) -> None:
    connected = replace(sync_services, settings=replace(sync_services.settings, ghostfolio_url=ghostfolio.url))
    before = await scrape(client)
    item = await synced_item(client, emulator, alice, connected)
    assert item.ghostfolio_pending > 0
    synced = await scrape(client)
    depth = "ghostfolio_plaid_ghostfolio_outbox_depth", ()
    succeeded = "ghostfolio_plaid_ghostfolio_pushes", (("outcome", "succeeded"),)
    assert synced[depth] == before[depth] + item.ghostfolio_pending
    assert await deliver(connected.settings, connected.queue, str(item.id)) == "succeeded"
    pushed = await scrape(client)
    assert pushed[depth] == before[depth] and (await PlaidItem.get(id=item.id)).ghostfolio_pending == 0
    assert pushed[succeeded] == synced[succeeded] + 1
    for outcome in ("refused", "retrying", "running"):
        assert ("ghostfolio_plaid_ghostfolio_pushes", (("outcome", outcome),)) in pushed
