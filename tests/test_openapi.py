"""The REST layer's OpenAPI document is valid, matches the routes served, and survives generated input."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import schemathesis
from hypothesis import HealthCheck, given, settings
from openapi_spec_validator import validate
from schemathesis.specs.openapi.checks import positive_data_acceptance
from starlette.applications import Starlette
from starlette.routing import Mount

from ghostfolio_plaid.auth import issue_token
from tests.conftest import JWT_SECRET


async def test_document_is_valid_openapi_31_and_lists_every_route(client: httpx.AsyncClient, app: Starlette) -> None:
    response = await client.get("/api/v1/plaid/openapi.json")
    assert response.status_code == 200
    document = response.json()
    validate(document)
    assert document["openapi"] == "3.1.0"
    documented = {(method.upper(), path) for path, ops in document["paths"].items() for method in ops}
    (mount,) = [r for r in app.routes if isinstance(r, Mount) and r.path == "/api/v1/plaid"]
    served = {
        (method, mount.path + route.path)
        for route in mount.routes
        for method in (getattr(route, "methods", None) or set()) - {"HEAD"}
        if route.path != "/openapi.json"
    }
    assert documented == served


async def test_listed_items_document_their_ghostfolio_state(client: httpx.AsyncClient) -> None:
    document = (await client.get("/api/v1/plaid/openapi.json")).json()
    answer = document["paths"]["/api/v1/plaid/items"]["get"]["responses"]["200"]["content"]["application/json"]
    item = answer["schema"]["properties"]["items"]["items"]
    assert "ghostfolio" in item["required"]
    ghostfolio = item["properties"]["ghostfolio"]
    assert ghostfolio["required"] == ["status", "lastPushedAt", "pendingChanges", "error"]
    assert ghostfolio["properties"]["status"] == {"enum": ["OFF", "PENDING", "SYNCED", "FAILED"]}


def test_no_route_fails_or_breaks_its_schema(served: str) -> None:
    """Schemathesis generates inputs for every operation; none may answer 500 or differ from the document.

    Schema-valid requests may still be refused for what they mean (an unknown public token is a 400), so the
    check that all schema-valid input is accepted is left out; every other check runs.
    """
    api = schemathesis.openapi.from_url(f"{served}/api/v1/plaid/openapi.json")
    headers = {"Authorization": f"Bearer {issue_token(f'schemathesis-{uuid.uuid4()}', JWT_SECRET)}"}
    operations = [result.ok() for result in api.get_all_operations()]
    assert len(operations) == 7
    calls: dict[str, int] = {}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=30, deadline=None, database=None, suppress_health_check=list(HealthCheck))
        def check(case: Any) -> None:
            case.call_and_validate(headers=headers, excluded_checks=[positive_data_acceptance])
            calls[case.operation.label] = calls.get(case.operation.label, 0) + 1

        check()
    assert len(calls) == 7 and min(calls.values()) >= 5, calls
