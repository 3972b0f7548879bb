"""``GET /`` of the emulator says what is there, on its own and mounted under a prefix (as in the demo)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Mount

from ghostfolio_plaid.plaid_emulator import EmulatorConfig, EmulatorServer, ThreadedServer, create_app
from ghostfolio_plaid.plaid_emulator.control import CONTROL_ENDPOINTS
from ghostfolio_plaid.plaid_emulator.plaid_routes import PLAID_ROUTES
from tests.test_plaid_emulator import CLIENT_ID, SECRET, start_emulator

PREFIX = "/plaid-emulator"


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorServer]:
    with start_emulator() as server:
        yield server


@pytest.fixture(scope="module")
def mounted() -> Iterator[ThreadedServer]:
    """The emulator inside another app, as ``ghostfolio-plaid demo`` mounts it."""
    config = EmulatorConfig(client_id=CLIENT_ID, secret=SECRET)
    with ThreadedServer(Starlette(routes=[Mount(PREFIX, app=create_app(config))])) as server:
        yield server


def index(url: str) -> dict[str, Any]:
    response = httpx.get(url, follow_redirects=True)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/json"
    assert SECRET not in response.text
    answer: dict[str, Any] = response.json()
    return answer


def check_index(answer: dict[str, Any], base: str) -> None:
    """Every URL the index names is served at that URL; nothing secret is shown."""
    assert answer["base_url"] == base
    assert [e["path"] for e in answer["plaid_endpoints"]] == list(PLAID_ROUTES)
    for endpoint in answer["plaid_endpoints"]:
        refused = httpx.post(endpoint["url"], json={})
        assert refused.status_code == 400 and refused.json()["error_code"] == "INVALID_API_KEYS", endpoint
    listed = [(e["method"], e["path"]) for e in answer["control_endpoints"]]
    assert listed == [(method, path) for method, path, _, _ in CONTROL_ENDPOINTS]
    for endpoint in answer["control_endpoints"]:
        assert endpoint["description"] and "\n" not in endpoint["description"]
        assert endpoint["url"] == base + endpoint["path"]
        if endpoint["method"] == "GET":
            assert httpx.get(endpoint["url"]).status_code == 200, endpoint
    credentials = answer["credentials"]
    assert credentials["client_id"] == CLIENT_ID and "not shown" in credentials["secret"]
    institutions = {i["institution_id"]: i for i in answer["sandbox_institutions"]}
    assert institutions["ins_109508"]["name"] == "First Platypus Bank"
    assert institutions["ins_116834"]["country_codes"] == ["GB"] and institutions["ins_127287"]["oauth"] is True
    steps = " ".join(answer["link_an_item_by_hand"])
    for named in (
        f"{base}/sandbox/public_token/create",
        f"{base}/emulator/link/complete",
        "/api/v1/plaid/exchange-token",
    ):
        assert named in steps
    assert answer["documentation"] == "docs/emulator.md"


def test_the_index_lists_endpoints_credentials_institutions_and_steps(emulator: EmulatorServer) -> None:
    check_index(index(emulator.url + "/"), emulator.url)
    assert index(emulator.url)["base_url"] == emulator.url


def test_mounted_without_a_trailing_slash_redirects_to_the_index(mounted: ThreadedServer) -> None:
    """Starlette's router answers ``GET /plaid-emulator`` (no slash) on a Mount with a 307 to the slashed path."""
    bare = httpx.get(mounted.url + PREFIX)
    assert bare.status_code == 307 and bare.headers["location"] == mounted.url + PREFIX + "/"
    followed = index(mounted.url + PREFIX)
    assert followed == index(mounted.url + PREFIX + "/")
    check_index(followed, mounted.url + PREFIX)


def test_the_index_says_where_a_default_secret_comes_from() -> None:
    with EmulatorServer(create_app()) as server:
        response = httpx.get(server.url)
    assert response.status_code == 200 and EmulatorConfig().secret not in response.text
    credentials = response.json()["credentials"]
    assert credentials["client_id"] == EmulatorConfig().client_id and "config.py" in credentials["secret"]


def test_other_methods_on_the_index_are_plaids_not_found(emulator: EmulatorServer) -> None:
    response = httpx.post(emulator.url + "/", json={})
    assert response.status_code == 404 and response.json()["error_code"] == "NOT_FOUND"
