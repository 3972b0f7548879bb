"""The ``ghostfolio-plaid`` commands that the end-to-end test does not already drive."""

from __future__ import annotations

import asyncio
import os
import uuid

import asyncpg
import httpx

from ghostfolio_plaid.models import SyncJob, SyncStatus
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from tests.conftest import POSTGRES_SERVER, Caller
from tests.linking import link_seeded_item
from tests.processes import command, free_port


async def test_migrate_creates_a_missing_database_and_is_idempotent(env: dict[str, str]) -> None:
    name = f"gp_cli_{uuid.uuid4().hex[:8]}"
    process_env = {**os.environ, **env, "DATABASE_URL": f"{POSTGRES_SERVER}/{name}"}
    try:
        for _ in range(2):
            process = await asyncio.create_subprocess_exec(*command("migrate"), env=process_env)
            assert await asyncio.wait_for(process.wait(), timeout=120) == 0
        connection = await asyncpg.connect(f"{POSTGRES_SERVER.replace('postgres://', 'postgresql://')}/{name}")
        try:
            tables = {r["tablename"] for r in await connection.fetch("SELECT tablename FROM pg_tables")}
        finally:
            await connection.close()
        assert {"plaid_item", "account", "order", "sync_job", "symbol_profile", "market_data", "user"} <= tables
    finally:
        admin = await asyncpg.connect(f"{POSTGRES_SERVER.replace('postgres://', 'postgresql://')}/postgres")
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def test_emulator_command_serves_plaid_with_the_configured_credentials(env: dict[str, str]) -> None:
    port = free_port()
    process_env = {**os.environ, **env, "PLAID_CLIENT_ID": "cli-client", "PLAID_SECRET": "cli-secret"}
    process = await asyncio.create_subprocess_exec(
        *command("emulator", "--port", str(port)),
        env=process_env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=2) as http:
            for _ in range(100):
                try:
                    answer = await http.post(
                        "/sandbox/public_token/create",
                        json={
                            "client_id": "cli-client",
                            "secret": "cli-secret",
                            "institution_id": "ins_109508",
                            "initial_products": ["investments"],
                        },
                    )
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            assert answer.status_code == 200 and answer.json()["public_token"].startswith("public-sandbox-")
            wrong = await http.post("/item/get", json={"client_id": "x", "secret": "y", "access_token": "a"})
            assert wrong.json()["error_code"] == "INVALID_API_KEYS"
    finally:
        process.terminate()
        await process.wait()


async def test_sync_command_runs_one_and_shows_progress(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, process_env: dict[str, str]
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    process = await asyncio.create_subprocess_exec(
        *command("sync", item_id, "--inline"),
        env=process_env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    async with asyncio.timeout(120):
        out, err = await process.communicate()
    assert process.returncode == 0, err.decode()
    job = await SyncJob.get(id=out.decode().strip())
    assert job.status == SyncStatus.SUCCEEDED and job.transactions_total == job.transactions_fetched > 0
    progress = err.decode()
    assert f"[{'#' * 30}] {job.transactions_fetched}/{job.transactions_total} transactions succeeded" in progress
    assert "created" in progress
    missing = await asyncio.create_subprocess_exec(
        *command("sync", "no-such-item"),
        env=process_env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert await missing.wait() == 2


async def test_serve_on_a_fresh_database_migrates_it_first(env: dict[str, str], alice: Caller) -> None:
    name = f"gp_serve_{uuid.uuid4().hex[:8]}"
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        *command("serve", "--port", str(port)),
        env={**os.environ, **env, "DATABASE_URL": f"{POSTGRES_SERVER}/{name}"},
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=5) as http:
            for _ in range(300):
                try:
                    response = await http.get("/api/v1/plaid/items", headers=alice.headers)
                    break
                except httpx.TransportError:
                    await asyncio.sleep(0.1)
            assert response.status_code == 200 and response.json() == {"items": []}
    finally:
        process.terminate()
        await process.wait()
        admin = await asyncpg.connect(f"{POSTGRES_SERVER.replace('postgres://', 'postgresql://')}/postgres")
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
