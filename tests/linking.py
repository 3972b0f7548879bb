"""Linking an item the way a front end does: a sandbox public token from Plaid, then our exchange route."""

from __future__ import annotations

from typing import Any

import httpx

from ghostfolio_plaid.plaid_emulator import EmulatorServer
from tests.conftest import Caller, emulator_call, plaid_post

ACCOUNTS = [
    {
        "id": "plaid-acc-brokerage",
        "name": "Plaid Brokerage",
        "type": "investment",
        "subtype": "brokerage",
        "mask": "1234",
    },
    {"id": "plaid-acc-ira", "name": "Plaid IRA", "type": "investment", "subtype": "ira", "mask": "5678"},
]


async def sandbox_public_token(emulator: EmulatorServer, institution_id: str = "ins_109508") -> str:
    answer = await plaid_post(
        emulator,
        "/sandbox/public_token/create",
        {"institution_id": institution_id, "initial_products": ["investments"]},
    )
    token: str = answer["public_token"]
    return token


def exchange_body(public_token: str, accounts: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "publicToken": public_token,
        "institutionId": "ins_109508",
        "institutionName": "First Platypus Bank",
        "accounts": ACCOUNTS if accounts is None else accounts,
    }


async def link_item(client: httpx.AsyncClient, emulator: EmulatorServer, caller: Caller) -> dict[str, Any]:
    response = await client.post(
        "/api/v1/plaid/exchange-token",
        json=exchange_body(await sandbox_public_token(emulator)),
        headers=caller.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


async def link_seeded_item(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    caller: Caller,
    *,
    shape: dict[str, Any] | None = None,
    institution_id: str = "ins_109508",
    account_types: tuple[str, ...] = ("investment", "depository"),
) -> tuple[str, list[dict[str, Any]]]:
    """Link an emulator item with its real Plaid account ids, as Link's metadata would list them."""
    seeded = await emulator_call(
        emulator, "POST", "/emulator/items", {"institution_id": institution_id, "shape": shape or {}}
    )
    accounts = (await plaid_post(emulator, "/accounts/get", {"access_token": seeded["access_token"]}))["accounts"]
    listed = [
        {"id": a["account_id"], "name": a["name"], "type": a["type"], "subtype": a["subtype"], "mask": a["mask"]}
        for a in accounts
        if a["type"] in account_types
    ]
    body = exchange_body(seeded["public_token"], listed)
    body["institutionId"] = institution_id
    response = await client.post("/api/v1/plaid/exchange-token", json=body, headers=caller.headers)
    assert response.status_code == 201, response.text
    return response.json()["plaidItemId"], accounts
