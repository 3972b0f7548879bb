"""Prometheus metrics: requests by route template and status, GraphQL operations, webhooks, syncs, queue."""

from __future__ import annotations

import uuid

import httpx
from prometheus_client.parser import text_string_to_metric_families

from tests.conftest import Caller


async def scrape(client: httpx.AsyncClient) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
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
    assert grew("ghostfolio_plaid_graphql_operations_total", type="query", name="Mine") == 1
    assert grew("ghostfolio_plaid_webhook_verifications_total", result="rejected") == 1
    assert grew("ghostfolio_plaid_http_request_duration_seconds_count", method="GET", route="/api/v1/plaid/items") == 1
    assert ("ghostfolio_plaid_sync_jobs", (("status", "succeeded"),)) in after
    assert ("ghostfolio_plaid_queue_depth", ()) in after
