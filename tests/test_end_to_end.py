"""The documented commands, run as processes: serve, worker, token; the whole flow over HTTP."""

from __future__ import annotations

import subprocess
import uuid

import httpx
from starlette.applications import Starlette

from ghostfolio_plaid.models import SyncJob, SyncStatus, SyncTrigger
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from tests.linking import exchange_body, sandbox_public_token
from tests.processes import command, run_command


def test_token_command_prints_a_usable_jwt(served: str, process_env: dict[str, str]) -> None:
    token = subprocess.run(
        command("token", f"cli-user-{uuid.uuid4()}"), env=process_env, capture_output=True, text=True, check=True
    ).stdout.strip()
    response = httpx.get(served + "/api/v1/plaid/items", headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200
    assert response.json() == {"items": []}


def test_bad_configuration_stops_with_a_clear_message(process_env: dict[str, str]) -> None:
    result = subprocess.run(
        command("serve"),
        env={**process_env, "PLAID_ENCRYPTION_KEY": "too-short", "PLAID_ENV": "moon"},
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2
    assert "PLAID_ENCRYPTION_KEY" in result.stderr and "PLAID_ENV" in result.stderr
    assert "Traceback" not in result.stderr


async def test_link_exchange_list_sync_conflict_work_disconnect(
    served: str, process_env: dict[str, str], emulator: EmulatorServer, app: Starlette
) -> None:
    token = (await run_command(process_env, "token", f"flow-user-{uuid.uuid4()}")).strip()
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=served, headers=auth, timeout=30) as http:
        api = "/api/v1/plaid"
        assert (await http.post(f"{api}/link-token")).status_code == 200
        public_token = await sandbox_public_token(emulator)
        exchanged = await http.post(f"{api}/exchange-token", json=exchange_body(public_token))
        assert exchanged.status_code == 201
        item_id = exchanged.json()["plaidItemId"]
        assert [i["id"] for i in (await http.get(f"{api}/items")).json()["items"]] == [item_id]
        first_sync = await SyncJob.get(plaid_item_id=item_id)
        assert (first_sync.trigger, first_sync.status) == (SyncTrigger.LINK, SyncStatus.QUEUED)
        job_id = str(first_sync.id)
        assert (await http.post(f"{api}/sync/{item_id}")).status_code == 409

        await run_command(process_env, "worker", "--burst")

        job = await SyncJob.get(id=job_id)
        assert job.status == SyncStatus.SUCCEEDED
        assert job.started_at is not None and job.finished_at is not None
        query = "query($id: ID!) { syncJob(id: $id) { status finishedAt } }"
        graphql = (await http.post("/graphql", json={"query": query, "variables": {"id": job_id}})).json()
        assert graphql["data"]["syncJob"]["status"] == "SUCCEEDED"
        assert (await http.post(f"{api}/sync/{item_id}")).status_code == 202

        assert (await http.delete(f"{api}/items/{item_id}")).status_code == 200
        (listed,) = (await http.get(f"{api}/items")).json()["items"]
        assert listed["status"] == "DISCONNECTED"
