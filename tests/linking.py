"""Linking an item the way a front end does: a public token from Plaid (Link), then our exchange route.

Linking queues the item's first sync. Tests that drive syncs themselves start from a quiet item: the helpers
drop that first job unless asked to keep it.
"""

from __future__ import annotations

import contextlib
from typing import Any

import httpx
from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job

from ghostfolio_plaid.models import SyncJob, SyncTrigger
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from tests.conftest import REDIS_URL, Caller, emulator_call, plaid_post

DISPLAY_NAMES = ("My Brokerage", "My IRA")
"""What the caller names the item's first two accounts (Link's metadata); the others keep Plaid's names."""


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
        "accounts": accounts or [],
    }


def listed_accounts(plaid_accounts: list[dict[str, Any]], names: tuple[str, ...] = DISPLAY_NAMES) -> list[Any]:
    """Link's metadata for the item's accounts: ids, types and masks as Plaid has them, names as the user saw."""
    return [
        {
            "id": a["account_id"],
            "name": names[index] if index < len(names) else a["name"],
            "type": a["type"],
            "subtype": a["subtype"],
            "mask": a["mask"],
        }
        for index, a in enumerate(plaid_accounts)
    ]


async def seed_item(
    emulator: EmulatorServer, *, shape: dict[str, Any] | None = None, institution_id: str = "ins_109508"
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An item at the emulator (its tokens) and its accounts as ``/accounts/get`` reports them."""
    seeded = await emulator_call(
        emulator, "POST", "/emulator/items", {"institution_id": institution_id, "shape": shape or {}}
    )
    accounts = (await plaid_post(emulator, "/accounts/get", {"access_token": seeded["access_token"]}))["accounts"]
    return seeded, accounts


async def link_seeded_item(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    caller: Caller,
    *,
    shape: dict[str, Any] | None = None,
    institution_id: str = "ins_109508",
    keep_first_sync: bool = False,
) -> tuple[str, list[dict[str, Any]]]:
    """Link an emulator item with its real Plaid account ids, as Link's metadata would list them."""
    seeded, accounts = await seed_item(emulator, shape=shape, institution_id=institution_id)
    body = exchange_body(seeded["public_token"], listed_accounts(accounts))
    body["institutionId"] = institution_id
    response = await client.post("/api/v1/plaid/exchange-token", json=body, headers=caller.headers)
    assert response.status_code == 201, response.text
    plaid_item_id: str = response.json()["plaidItemId"]
    if not keep_first_sync:
        await forget_first_sync(plaid_item_id)
    return plaid_item_id, accounts


async def link_item(
    client: httpx.AsyncClient, emulator: EmulatorServer, caller: Caller, *, keep_first_sync: bool = False
) -> dict[str, Any]:
    """Link the sandbox item; answers the exchange route's 201 body."""
    seeded, accounts = await seed_item(emulator)
    response = await client.post(
        "/api/v1/plaid/exchange-token",
        json=exchange_body(seeded["public_token"], listed_accounts(accounts)),
        headers=caller.headers,
    )
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    if not keep_first_sync:
        await forget_first_sync(body["plaidItemId"])
    return body


async def forget_first_sync(plaid_item_id: str) -> None:
    """Remove the sync that linking queued (its row and its RQ job), so the test drives syncs itself."""
    jobs = await SyncJob.filter(plaid_item_id=plaid_item_id, trigger=SyncTrigger.LINK)
    redis = Redis.from_url(REDIS_URL)
    try:
        for job in jobs:
            with contextlib.suppress(NoSuchJobError):
                Job.fetch(str(job.id), connection=redis).delete()
            await job.delete()
    finally:
        redis.close()
