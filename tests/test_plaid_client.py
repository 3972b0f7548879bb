"""The Plaid client over HTTP: typed errors, bounded timeouts, no token in any error."""

from __future__ import annotations

import asyncio
import socket
import struct
import time
from dataclasses import replace
from datetime import date, timedelta

import pytest

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.errors import PlaidApiError, PlaidUnavailable
from ghostfolio_plaid.plaid_client import PlaidClient
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from tests.conftest import emulator_call, plaid_post


@pytest.fixture
def plaid(settings: Settings) -> PlaidClient:
    return PlaidClient(replace(settings, plaid_timeout_seconds=0.5))


async def linked_access_token(emulator: EmulatorServer) -> str:
    seeded = await emulator_call(emulator, "POST", "/emulator/items", {})
    token: str = seeded["access_token"]
    return token


async def test_link_token_and_exchange(plaid: PlaidClient, emulator: EmulatorServer) -> None:
    token = await plaid.create_link_token(client_user_id="user-1")
    assert token.link_token.startswith("link-") and token.expiration.tzinfo is not None
    public = (
        await plaid_post(
            emulator,
            "/sandbox/public_token/create",
            {"institution_id": "ins_109511", "initial_products": ["investments"]},
        )
    )["public_token"]
    exchanged = await plaid.exchange_public_token(public)
    status = await plaid.get_item(exchanged.access_token)
    assert status.item_id == exchanged.item_id and status.institution_id == "ins_109511"


async def test_plaid_errors_are_typed_and_carry_no_token(plaid: PlaidClient, emulator: EmulatorServer) -> None:
    access_token = await linked_access_token(emulator)
    await plaid.remove_item(access_token)
    with pytest.raises(PlaidApiError) as caught:
        await plaid.get_holdings(access_token)
    error = caught.value
    assert (error.status, error.error_type, error.error_code) == (400, "ITEM_ERROR", "ITEM_NOT_FOUND")
    assert error.request_id
    assert access_token not in str(error) and access_token not in repr(error.__dict__)


async def test_slow_plaid_times_out_instead_of_hanging(plaid: PlaidClient, emulator: EmulatorServer) -> None:
    access_token = await linked_access_token(emulator)
    await emulator_call(emulator, "POST", "/emulator/faults", {"path": "/item/get", "delay_ms": 2000})
    started = time.monotonic()
    with pytest.raises(PlaidUnavailable):
        await plaid.get_item(access_token)
    assert time.monotonic() - started < 1.5


@pytest.mark.parametrize(
    ("fault", "expected"),
    [
        ({"status": 502, "body": "bad gateway"}, PlaidUnavailable),
        ({"body": "{not json"}, PlaidUnavailable),
        ({"error_code": "RATE_LIMIT_EXCEEDED"}, PlaidApiError),
    ],
)
async def test_broken_answers_become_typed_errors(
    plaid: PlaidClient, emulator: EmulatorServer, fault: dict[str, object], expected: type[Exception]
) -> None:
    access_token = await linked_access_token(emulator)
    await emulator_call(emulator, "POST", "/emulator/faults", {"path": "/item/get", **fault})
    with pytest.raises(expected):
        await plaid.get_item(access_token)


async def test_unreachable_plaid_is_unavailable(settings: Settings) -> None:
    client = PlaidClient(replace(settings, plaid_base_url="http://127.0.0.1:1", plaid_timeout_seconds=1))
    with pytest.raises(PlaidUnavailable):
        await client.create_link_token(client_user_id="user-1")


async def test_holdings_and_transaction_pages(plaid: PlaidClient, emulator: EmulatorServer) -> None:
    access_token = await linked_access_token(emulator)
    holdings = await plaid.get_holdings(access_token)
    assert holdings["holdings"] and holdings["securities"]
    page = await plaid.get_investment_transactions(
        access_token, start=date.today() - timedelta(days=730), end=date.today(), offset=5, count=10
    )
    assert len(page["investment_transactions"]) == 10 and page["total_investment_transactions"] > 10


async def test_connection_reset_is_unavailable(settings: Settings) -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(1024)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    server = await asyncio.start_server(reset, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    client = PlaidClient(replace(settings, plaid_base_url=f"http://127.0.0.1:{port}", plaid_timeout_seconds=2))
    try:
        with pytest.raises(PlaidUnavailable):
            await client.get_item("access-sandbox-00000000-0000-0000-0000-000000000000")
    finally:
        client.close()
        server.close()
        await server.wait_closed()
