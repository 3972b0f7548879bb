"""Oversized bodies get 413 and non-JSON bodies 415, before any route or query runs."""

from __future__ import annotations

import time

import httpx

from tests.conftest import Caller, SQLCounter


async def test_oversized_bodies_are_413_without_work(
    client: httpx.AsyncClient, alice: Caller, sql_counter: SQLCounter
) -> None:
    huge = b'{"query": "' + b"x" * (1024 * 1024 + 10) + b'"}'
    for path in ("/graphql", "/api/v1/plaid/exchange-token"):
        sql_counter.statements.clear()
        response = await client.post(path, content=huge, headers={**alice.headers, "content-type": "application/json"})
        assert response.status_code == 413
        assert response.json() == {
            "statusCode": 413,
            "message": "Request body is larger than 1048576 bytes",
            "error": "Request Entity Too Large",
        }
        assert sql_counter.statements == []


async def test_wrong_content_type_is_415(client: httpx.AsyncClient, alice: Caller) -> None:
    for content_type in ("text/plain", "application/x-www-form-urlencoded"):
        response = await client.post(
            "/api/v1/plaid/exchange-token",
            content=b"publicToken=x",
            headers={**alice.headers, "content-type": content_type},
        )
        assert response.status_code == 415 and content_type in response.json()["message"]
    empty = await client.post("/api/v1/plaid/link-token", headers=alice.headers)
    assert empty.status_code == 200


async def test_webhook_keeps_its_own_400_limit(client: httpx.AsyncClient) -> None:
    response = await client.post("/api/v1/plaid/webhook", content=b"x" * 70000, headers={"content-type": "text/plain"})
    assert response.status_code == 400


async def test_json_with_too_many_values_is_400_fast(
    client: httpx.AsyncClient, alice: Caller, sql_counter: SQLCounter
) -> None:
    """Coercing 20,000 GraphQL variable values took most of a second of the event loop, before authentication."""
    exchange = {"publicToken": "p", "institutionId": "i", "institutionName": "n"}
    accounts = [{"id": "x", "name": "n", "type": "t"}] * 2_500
    mutation = "mutation($input: ExchangePublicTokenInput!) { exchangePublicToken(input: $input) { plaidItemId } }"
    bodies = {
        "/graphql": {"query": mutation, "variables": {"input": {**exchange, "accounts": accounts}}},
        "/api/v1/plaid/exchange-token": {**exchange, "accounts": accounts},
    }
    for path, body in bodies.items():
        sql_counter.statements.clear()
        started = time.perf_counter()
        response = await client.post(path, json=body, headers=alice.headers)
        elapsed = time.perf_counter() - started
        assert response.status_code == 400, response.text
        answer = response.json()
        message = answer["errors"][0]["message"] if path == "/graphql" else answer["message"]
        assert message == "JSON holds more than 10000 values"
        assert elapsed < 1.0
        if path == "/graphql":  # REST authenticates the caller first
            assert sql_counter.statements == []
