"""GraphiQL works offline: the page and its files come from the service, and a real browser runs a query."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest

from tests.conftest import Caller

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
    assert page.status_code == 200 and "GraphiQL" in page.text
    assert not re.search(r"(src|href)=\"https?://", page.text)
    assert "ghostfolio-plaid token USER_ID" in page.text and "Authorization" in page.text
    assets = re.findall(r"(?:src|href)=\"(/graphiql-assets/[^\"]+)\"", page.text)
    assert len(assets) == 4
    for asset in assets:
        response = await client.get(asset)
        expected = "text/css" if asset.endswith(".css") else "javascript"
        assert response.status_code == 200 and expected in response.headers["content-type"]


def run_in_browser(url: str, token: str) -> tuple[str, set[str]]:
    from playwright.sync_api import sync_playwright

    hosts: set[str] = set()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("request", lambda request: hosts.add(urlsplit(request.url).hostname or ""))
            page.goto(url + "/graphql")
            page.wait_for_selector(".graphiql-query-editor .CodeMirror", timeout=20000)
            page.evaluate(
                """([query, headers]) => {
                    const editors = [...document.querySelectorAll('.CodeMirror')].map(e => e.CodeMirror);
                    editors[0].setValue(query);
                    editors.find(e => e.getValue().includes('Authorization')).setValue(headers);
                }""",
                ["{ plaidItems { id } }", '{"Authorization": "Bearer ' + token + '"}'],
            )
            page.click(".graphiql-execute-button")
            page.wait_for_function(
                "() => (document.querySelector('.result-window')?.textContent || '').includes('plaidItems')",
                timeout=20000,
            )
            result = page.inner_text(".result-window").replace("\xa0", " ")
        finally:
            browser.close()
    return result, hosts


@pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian chromium is not installed (apt-get install chromium)")
async def test_browser_runs_a_query_offline(served: str, alice: Caller) -> None:
    result, hosts = await asyncio.to_thread(run_in_browser, served, alice.token)
    assert '"plaidItems": []' in result
    assert hosts == {"127.0.0.1"}
