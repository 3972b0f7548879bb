"""GraphiQL works offline: the page and its files come from the service, and a real browser runs a query."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from ghostfolio_plaid.graphiql import ASSETS_DIR, EXAMPLE_QUERY
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from tests.conftest import Caller
from tests.linking import link_item

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


async def test_page_loads_only_local_assets(client: httpx.AsyncClient) -> None:
    page = await client.get("/graphql", headers={"Accept": "text/html"})
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "GraphiQL" in page.text
    assert not re.search(r"https?://|[\"'(]//", page.text), "the page must name no other host"
    assert "ghostfolio-plaid token USER_ID" in page.text and "Authorization" in page.text
    assets = re.findall(r"(?:src|href)=\"([^\"]+)\"", page.text)
    assert len(assets) == 4 and all(asset.startswith("/graphiql-assets/") for asset in assets)
    for asset in assets:
        response = await client.get(asset)
        expected = "text/css" if asset.endswith(".css") else "javascript"
        assert response.status_code == 200 and expected in response.headers["content-type"], asset


def test_vendored_files_keep_their_licenses() -> None:
    versions = (ASSETS_DIR / "VERSIONS").read_text().splitlines()
    assert [line.split()[0] for line in versions] == ["graphiql", "react", "react-dom"]
    assert all(line.endswith("(MIT)") for line in versions)
    for package in ("graphiql", "react", "react-dom"):
        assert "MIT License" in (ASSETS_DIR / f"LICENSE.{package}").read_text()


async def test_example_query_is_valid(client: httpx.AsyncClient, alice: Caller) -> None:
    """The pre-filled query must run as it is once the token is pasted in."""
    response = await client.post("/graphql", json={"query": EXAMPLE_QUERY}, headers=alice.headers)
    assert response.json() == {"data": {"plaidItems": []}}


async def test_favicon_is_served(client: httpx.AsyncClient) -> None:
    """Browsers ask for ``/favicon.ico`` on every page; a 404 there is the console's only error otherwise."""
    icon = await client.get("/favicon.ico")
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/svg+xml"
    assert icon.text.startswith("<svg") and "max-age" in icon.headers["cache-control"]


@contextlib.contextmanager
def graphiql(url: str, operation: str, token: str, events: dict[str, list[str]]) -> Iterator[Any]:
    """GraphiQL in headless Debian chromium with ``operation`` and the token typed in; ``events`` collects the
    page's requests, WebSockets and errors (JavaScript exceptions and console errors such as a failed request)."""
    from playwright.sync_api import sync_playwright

    for name in ("requests", "sockets", "errors"):
        events.setdefault(name, [])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda request: events["requests"].append(request.url))
            page.on("websocket", lambda socket: events["sockets"].append(socket.url))
            page.on("pageerror", lambda error: events["errors"].append(str(error)))
            page.on(
                "console", lambda message: events["errors"].append(message.text) if message.type == "error" else None
            )
            page.goto(url + "/graphql")
            page.wait_for_selector(".graphiql-query-editor .CodeMirror", timeout=20000)
            page.evaluate(
                """([query, headers]) => {
                    const editors = [...document.querySelectorAll('.CodeMirror')].map(e => e.CodeMirror);
                    editors[0].setValue(query);
                    editors.find(e => e.getValue().includes('Authorization')).setValue(headers);
                }""",
                [operation, '{"Authorization": "Bearer ' + token + '"}'],
            )
            page.wait_for_timeout(1500)  # the editor parses the document a moment after it changes
            yield page
        finally:
            browser.close()


def result_once_it_shows(page: Any, text: str) -> str:
    page.wait_for_function(
        f"() => (document.querySelector('.result-window')?.textContent || '').includes({text!r})", timeout=20000
    )
    return str(page.inner_text(".result-window")).replace("\xa0", " ")


def run_in_browser(url: str, token: str) -> tuple[str, list[str], list[str]]:
    """Run a query with the token; the result, the requests and the errors."""
    events: dict[str, list[str]] = {}
    with graphiql(url, "{ plaidItems { id } }", token, events) as page:
        page.click(".graphiql-execute-button")
        result = result_once_it_shows(page, "plaidItems")
    return result, events["requests"], events["errors"]


def run_subscription_in_browser(url: str, token: str, change: Callable[[], None]) -> tuple[str, list[str], list[str]]:
    """Start a ``plaidItemsChanged`` subscription with the token, make ``change`` happen once the WebSocket is
    open, and answer what the result pane shows, the WebSockets opened and the errors."""
    events: dict[str, list[str]] = {}
    with graphiql(url, "subscription Watch { plaidItemsChanged { id status } }", token, events) as page:
        with page.expect_websocket(timeout=20000) as opened:
            page.click(".graphiql-execute-button")
        opened.value.wait_for_event("framereceived", timeout=20000)  # connection_ack: subscribed
        page.wait_for_timeout(500)
        change()
        result = result_once_it_shows(page, "DISCONNECTED")
    return result, events["sockets"], events["errors"]


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (apt-get install chromium)")
async def test_browser_runs_a_subscription_over_a_websocket(
    served: str, client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller
) -> None:
    item_id = (await link_item(client, emulator, alice))["plaidItemId"]

    def disconnect() -> None:
        answer = httpx.delete(f"{served}/api/v1/plaid/items/{item_id}", headers=alice.headers, timeout=20)
        assert answer.status_code == 200, answer.text

    result, sockets, errors = await asyncio.to_thread(run_subscription_in_browser, served, alice.token, disconnect)
    assert item_id in result and '"status": "DISCONNECTED"' in result, result
    assert sockets == [served.replace("http://", "ws://") + "/graphql"]
    assert errors == []


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (apt-get install chromium)")
async def test_browser_runs_a_query_offline(served: str, alice: Caller) -> None:
    result, requests, errors = await asyncio.to_thread(run_in_browser, served, alice.token)
    assert '"plaidItems": []' in result, result
    assert errors == []
    network = [url for url in requests if urlsplit(url).scheme not in ("data", "blob")]
    assert any(url.endswith("/graphiql-assets/graphiql.min.js") for url in network)
    assert [url for url in network if urlsplit(url).hostname != "127.0.0.1"] == []
