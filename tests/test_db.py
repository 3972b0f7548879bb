"""The database as the service uses it: a PostgreSQL that goes silent costs seconds, not minutes."""

from __future__ import annotations

import asyncio
import time
from urllib.parse import urlsplit

import httpx

from ghostfolio_plaid.db import tortoise_config
from tests.conftest import Caller
from tests.tcp_proxy import TcpProxy, serve_through


def test_connections_have_a_connect_timeout_and_the_api_bounds_its_statements() -> None:
    credentials = tortoise_config("postgres://u:p@db:5432/gp", statement_timeout=5)["connections"]["default"][
        "credentials"
    ]
    assert (credentials["timeout"], credentials["command_timeout"]) == (5.0, 5)
    plain = tortoise_config("postgres://u:p@db:5432/gp")["connections"]["default"]["credentials"]
    assert "command_timeout" not in plain
    assert tortoise_config("sqlite://demo.sqlite3")["connections"]["default"] == "sqlite://demo.sqlite3"


async def test_a_silent_database_answers_503_within_seconds_and_the_service_recovers(
    alice: Caller, process_env: dict[str, str]
) -> None:
    proxy = TcpProxy(urlsplit(process_env["DATABASE_URL"]).port or 5432)
    await proxy.start()
    try:
        async with (
            serve_through(proxy, process_env) as url,
            httpx.AsyncClient(base_url=url, headers=alice.headers, timeout=120) as http,
        ):
            assert (await http.get("/api/v1/plaid/items")).status_code == 200
            proxy.silent = True
            started = time.monotonic()
            down = await http.get("/api/v1/plaid/items")
            waited = time.monotonic() - started
            assert down.status_code == 503, down.text
            assert waited < 15, f"a silent database held the request for {waited:.1f} s"
            assert (await http.get("/healthz")).status_code == 200
            proxy.silent = False
            statuses = []
            for _ in range(40):
                statuses.append((await http.get("/api/v1/plaid/items")).status_code)
                if statuses[-1] == 200:
                    break
                await asyncio.sleep(0.25)
            assert statuses[-1] == 200, statuses
    finally:
        await proxy.stop()
