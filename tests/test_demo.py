"""``ghostfolio-plaid demo`` as a user runs it: one process, no PostgreSQL, Redis, Plaid or Ghostfolio; state
survives, and what a link brings arrives in the embedded Ghostfolio emulator (again after a restart)."""

from __future__ import annotations

import asyncio
import os
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx

from tests.processes import command, free_port

DEMO_CREDENTIALS = {"client_id": "demo-client-id", "secret": "demo-secret-value"}


def without_settings() -> dict[str, str]:
    """This environment without the service's settings: what a newcomer's shell has."""
    prefixes = ("PLAID_", "DATABASE_", "REDIS_", "JWT_", "SYNC_", "GHOSTFOLIO_", "ENABLE_FEATURE_PLAID")
    return {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}


@asynccontextmanager
async def demo(folder: Path, port: int) -> AsyncIterator[httpx.AsyncClient]:
    env = without_settings()
    log = (folder / f"demo-{port}.log").open("wb")
    process = await asyncio.create_subprocess_exec(
        *command("demo", "--port", str(port)), cwd=folder, env=env, stdout=log, stderr=asyncio.subprocess.STDOUT
    )
    base = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            for _ in range(300):
                try:
                    if (await http.get("/readyz")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                assert process.returncode is None, (folder / f"demo-{port}.log").read_text()
                await asyncio.sleep(0.1)
            printed = (folder / f"demo-{port}.log").read_text()
            token = printed.split("Dev JWT for user demo-user:")[1].split()[0]
            assert f'curl -s -X POST -H "Authorization: Bearer {token}"' in printed
            assert f"{base}/ghostfolio-emulator/emulator/state?userId=demo-user" in printed
            http.headers["Authorization"] = f"Bearer {token}"
            yield http
    finally:
        process.terminate()
        await process.wait()
        log.close()


async def first_sync(http: httpx.AsyncClient, item_id: str) -> dict[str, Any]:
    """The item once the sync that linking queued has run, with its activity count."""
    query = """query($id: ID!) {
      plaidItem(id: $id) {
        lastSyncedAt error accounts { name balance activities(first: 1) { totalCount } }
      }
    }"""
    for _ in range(300):
        answer = (await http.post("/graphql", json={"query": query, "variables": {"id": item_id}})).json()
        item: dict[str, Any] = answer["data"]["plaidItem"]
        if item["lastSyncedAt"] or item["error"]:
            return item
        await asyncio.sleep(0.1)
    raise AssertionError("the demo's worker did not run the first sync")


async def synced(http: httpx.AsyncClient, item_id: str) -> dict[str, Any]:
    job_id = (await http.post(f"/api/v1/plaid/sync/{item_id}")).json()["jobId"]
    query = "query($id: ID!) { syncJob(id: $id) { status error activitiesCreated } }"
    for _ in range(300):
        answer = (await http.post("/graphql", json={"query": query, "variables": {"id": job_id}})).json()
        job: dict[str, Any] = answer["data"]["syncJob"]
        if job["status"] in ("SUCCEEDED", "FAILED"):
            return job
        await asyncio.sleep(0.1)
    raise AssertionError("the demo's worker did not finish the sync")


async def ghostfolio_state(http: httpx.AsyncClient) -> dict[str, Any]:
    """What the embedded Ghostfolio emulator holds for the demo's user (the URL the banner prints)."""
    answer = await http.get("/ghostfolio-emulator/emulator/state", params={"userId": "demo-user"})
    assert answer.status_code == 200
    state: dict[str, Any] = answer.json()
    return state


async def activity_comments(http: httpx.AsyncClient, item_id: str) -> list[str]:
    """The comment each of the item's activities carries into Ghostfolio: ``plaid:`` and its Plaid id."""
    query = """query($id: ID!) { plaidItem(id: $id) { accounts {
      activities(first: 500) { pageInfo { hasNextPage } edges { node { plaidTransactionId } } }
    } } }"""
    answer = (await http.post("/graphql", json={"query": query, "variables": {"id": item_id}})).json()
    pages = [a["activities"] for a in answer["data"]["plaidItem"]["accounts"]]
    assert not any(page["pageInfo"]["hasNextPage"] for page in pages)
    return ["plaid:" + edge["node"]["plaidTransactionId"] for page in pages for edge in page["edges"]]


async def delivered(http: httpx.AsyncClient, item: dict[str, Any], comments: list[str]) -> dict[str, Any]:
    """Ghostfolio's state once a push delivered the item's accounts, every one of its activities exactly once,
    and a balance for each account. Anything else Ghostfolio holds must be a MANUAL position the connector
    derives (cash in a currency other than its account's), never a second copy of an activity."""
    state: dict[str, Any] = {}
    for _ in range(300):
        state = await ghostfolio_state(http)
        arrived = Counter(a["comment"] for a in state["activities"])
        balanced = {a["id"] for a in state["accounts"]} == {b["accountId"] for b in state["balances"]}
        if len(state["accounts"]) == len(item["accounts"]) and all(arrived[c] for c in comments) and balanced:
            assert all(arrived[c] == 1 for c in comments)
            extra = [a for a in state["activities"] if a["comment"] not in set(comments)]
            assert all(a["dataSource"] == "MANUAL" for a in extra), extra
            return state
        await asyncio.sleep(0.1)
    counts = {key: len(state.get(key) or []) for key in ("accounts", "activities", "balances")}
    raise AssertionError(f"the push never delivered the {len(comments)} activities: Ghostfolio has {counts}")


async def import_statuses(http: httpx.AsyncClient) -> list[int]:
    """The status of each real import (dry runs aside) the emulator logged: its log sees the paths Ghostfolio
    would (no mount prefix) and none of the control calls."""
    logged = (await http.get("/ghostfolio-emulator/emulator/requests")).json()["requests"]
    assert not any(r["path"].startswith(("/emulator/", "/ghostfolio-emulator/")) for r in logged)
    return [r["status"] for r in logged if r["path"] == "/api/v1/import" and not r["query"]]


def same_accounts_and_balances(state: dict[str, Any], item: dict[str, Any]) -> None:
    """Ghostfolio's accounts are the linked ones, named as linked, each with the cash balance the service has."""
    ours = sorted((a["name"], Decimal(str(a["balance"]))) for a in item["accounts"])
    theirs = sorted((a["name"], Decimal(str(a["balance"]))) for a in state["accounts"])
    assert theirs == ours
    assert all(a["comment"].startswith("plaid:") for a in state["activities"])
    assert all(a["accountId"] in {b["id"] for b in state["accounts"]} for a in state["activities"])


async def test_demo_links_syncs_and_keeps_its_state(tmp_path: Path) -> None:
    port = free_port()
    async with demo(tmp_path, port) as http:
        empty = await ghostfolio_state(http)
        assert empty["accounts"] == [] and empty["activities"] == []
        seeded = (await http.post("/plaid-emulator/emulator/items", json={})).json()
        accounts = (
            await http.post(
                "/plaid-emulator/accounts/get", json={**DEMO_CREDENTIALS, "access_token": seeded["access_token"]}
            )
        ).json()["accounts"]
        exchanged = await http.post(
            "/api/v1/plaid/exchange-token",
            json={
                "publicToken": seeded["public_token"],
                "institutionId": "ins_109508",
                "institutionName": "First Platypus Bank",
                "accounts": [
                    {
                        "id": a["account_id"],
                        "name": a["name"],
                        "type": a["type"],
                        "subtype": a["subtype"],
                        "mask": a["mask"],
                    }
                    for a in accounts
                ],
            },
        )
        assert exchanged.status_code == 201
        at_link = await ghostfolio_state(http)
        assert sorted(a["name"] for a in at_link["accounts"]) == sorted(a["name"] for a in accounts)
        item_id = exchanged.json()["plaidItemId"]
        first = await first_sync(http, item_id)
        assert first["error"] is None and sum(a["activities"]["totalCount"] for a in first["accounts"]) > 0
        comments = await activity_comments(http, item_id)
        assert len(comments) == sum(a["activities"]["totalCount"] for a in first["accounts"])
        state = await delivered(http, first, comments)
        same_accounts_and_balances(state, first)
        assert {a["id"] for a in state["accounts"]} == {a["id"] for a in at_link["accounts"]}
        assert await import_statuses(http) == [201]
        assert await synced(http, item_id) == {"status": "SUCCEEDED", "error": None, "activitiesCreated": 0}
        (item,) = (await http.get("/api/v1/plaid/items")).json()["items"]
        assert item["lastSyncedAt"] and item["accountCount"] == len(accounts)
        await token_from_the_demo_state_works(http, tmp_path)
    assert (tmp_path / ".ghostfolio-plaid-demo" / "demo.sqlite3").exists()
    async with demo(tmp_path, port) as http:
        (again,) = (await http.get("/api/v1/plaid/items")).json()["items"]
        assert again["id"] == item_id and again["lastSyncedAt"] == item["lastSyncedAt"]
        replayed = await delivered(http, first, comments)  # the emulator starts empty: the demo replays the item
        same_accounts_and_balances(replayed, first)
        second = await synced(http, item_id)
        assert second == {"status": "SUCCEEDED", "error": None, "activitiesCreated": 0}
        after = await delivered(http, first, comments)
        assert (after["accounts"], after["activities"]) == (replayed["accounts"], replayed["activities"])


async def token_from_the_demo_state_works(http: httpx.AsyncClient, folder: Path) -> None:
    """``ghostfolio-plaid token`` next to a running demo, without JWT_SECRET_KEY: it signs with the demo's."""
    process = await asyncio.create_subprocess_exec(
        *command("token", "another-user"),
        cwd=folder,
        env=without_settings(),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(60):
        out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    assert ".ghostfolio-plaid-demo/secrets.json" in err.decode()
    items = await http.get("/api/v1/plaid/items", headers={"Authorization": f"Bearer {out.decode().strip()}"})
    assert items.status_code == 200 and items.json() == {"items": []}
