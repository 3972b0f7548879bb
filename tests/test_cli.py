"""The ``ghostfolio-plaid`` commands that the end-to-end test does not already drive."""

from __future__ import annotations

import asyncio
import os
import uuid
from pathlib import Path

import asyncpg
import httpx
from redis import Redis
from rq import Queue
from rq.job import Job

import ghostfolio_plaid.models.migrations
from ghostfolio_plaid.models import SyncJob, SyncStatus
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from tests.conftest import POSTGRES_SERVER, Caller
from tests.linking import link_seeded_item
from tests.processes import command, free_port


async def test_migrate_creates_a_missing_database_and_is_idempotent(env: dict[str, str]) -> None:
    name = f"gp_cli_{uuid.uuid4().hex[:8]}"
    process_env = {**os.environ, **env, "DATABASE_URL": f"{POSTGRES_SERVER}/{name}"}
    migrations = sorted(Path(ghostfolio_plaid.models.migrations.__file__).parent.glob("0*.py"))
    said = []
    try:
        for _ in range(2):
            process = await asyncio.create_subprocess_exec(
                *command("migrate"), env=process_env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
            )
            out, err = await asyncio.wait_for(process.communicate(), timeout=120)
            assert process.returncode == 0, err.decode()
            assert not err.startswith(b"{"), "the command talks to people, not in JSON log lines"
            said.append(out.decode())
        assert said[0] == (
            f"created the database {name}\n"
            f"applied {len(migrations)} migrations: {', '.join(m.stem for m in migrations)}\n"
        )
        assert said[1] == "the database is up to date (no migration to apply)\n"
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
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    process_env: dict[str, str],
    redis_client: Redis,
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
    assert [line for line in progress.splitlines() if line.startswith("{")] == [], "no JSON log lines for people"
    queue = Queue(process_env["SYNC_QUEUE_NAME"], connection=redis_client)
    assert str(job.id) not in queue.job_ids and not Job.exists(str(job.id), connection=redis_client)
    missing = await asyncio.create_subprocess_exec(
        *command("sync", "no-such-item"),
        env=process_env,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
    )
    assert await missing.wait() == 2


async def test_sync_refuses_wait_with_inline(process_env: dict[str, str]) -> None:
    process = await asyncio.create_subprocess_exec(
        *command("sync", str(uuid.uuid4()), "--wait", "--inline"),
        env=process_env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(process.communicate(), timeout=60)
    assert process.returncode == 2 and out == b""
    assert "--inline: not allowed with argument --wait" in err.decode()


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
