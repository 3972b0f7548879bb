"""``ghostfolio-plaid demo`` as a user runs it: one process, no PostgreSQL, Redis or Plaid; state survives."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx

from tests.processes import command, free_port

DEMO_CREDENTIALS = {"client_id": "demo-client-id", "secret": "demo-secret-value"}


def without_settings() -> dict[str, str]:
    """This environment without the service's settings: what a newcomer's shell has."""
    prefixes = ("PLAID_", "DATABASE_", "REDIS_", "JWT_", "SYNC_", "ENABLE_FEATURE_PLAID")
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
            http.headers["Authorization"] = f"Bearer {token}"
            yield http
    finally:
        process.terminate()
        await process.wait()
        log.close()


async def first_sync(http: httpx.AsyncClient, item_id: str) -> dict[str, Any]:
    """The item once the sync that linking queued has run, with its activity count."""
    query = """query($id: ID!) {
      plaidItem(id: $id) { lastSyncedAt error accounts { activities(first: 1) { totalCount } } }
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


async def test_demo_links_syncs_and_keeps_its_state(tmp_path: Path) -> None:
    port = free_port()
    async with demo(tmp_path, port) as http:
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
        item_id = exchanged.json()["plaidItemId"]
        first = await first_sync(http, item_id)
        assert first["error"] is None and sum(a["activities"]["totalCount"] for a in first["accounts"]) > 0
        assert await synced(http, item_id) == {"status": "SUCCEEDED", "error": None, "activitiesCreated": 0}
        (item,) = (await http.get("/api/v1/plaid/items")).json()["items"]
        assert item["lastSyncedAt"] and item["accountCount"] == len(accounts)
        await token_from_the_demo_state_works(http, tmp_path)
    assert (tmp_path / ".ghostfolio-plaid-demo" / "demo.sqlite3").exists()
    async with demo(tmp_path, port) as http:
        (again,) = (await http.get("/api/v1/plaid/items")).json()["items"]
        assert again["id"] == item_id and again["lastSyncedAt"] == item["lastSyncedAt"]
        second = await synced(http, item_id)
        assert second == {"status": "SUCCEEDED", "error": None, "activitiesCreated": 0}


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
