"""A finishing sync and a webhook flagging the item at the same time: the webhook's news survives.

Plaid may send ``ITEM:ERROR`` (ITEM_LOGIN_REQUIRED) after the sync's last Plaid call; the sync read a working
login, but that proves nothing about the login now. The webhook is delivered through the real route while the
sync writes, exactly between its last Plaid call and its end.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import pytest

from ghostfolio_plaid.models import PlaidItem, SyncJob, SyncStatus, SyncTrigger
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from ghostfolio_plaid.workers import sync as sync_module
from ghostfolio_plaid.workers.sync import SyncServices, execute_sync
from tests.conftest import Caller
from tests.linking import link_seeded_item

HOOK = "/api/v1/plaid/webhook"


async def deliver_webhook(client: httpx.AsyncClient, emulator: EmulatorServer, body: dict[str, Any]) -> None:
    raw = json.dumps(body, indent=2).encode()
    signer = emulator.app.state.emulator.signer  # type: ignore[attr-defined]
    response = await client.post(HOOK, content=raw, headers={"Plaid-Verification": signer.sign(raw)})
    assert response.status_code == 200, response.text


def during_writes(monkeypatch: pytest.MonkeyPatch, event: Callable[[], Awaitable[None]]) -> None:
    """Run ``event`` once, after the sync's Plaid calls and before it records its result."""
    real = sync_module.write_activities

    async def write_then_event(*args: Any, **kwargs: Any) -> Any:
        result = await real(*args, **kwargs)
        await event()
        return result

    monkeypatch.setattr(sync_module, "write_activities", write_then_event)


async def run_sync(item_id: str, services: SyncServices) -> SyncJob:
    job = await SyncJob.create(plaid_item_id=item_id, trigger=SyncTrigger.MANUAL)
    await execute_sync(services, str(job.id))
    return await SyncJob.get(id=job.id)


@pytest.mark.parametrize("error_before", [None, "ITEM_LOGIN_REQUIRED"])
async def test_login_error_from_a_webhook_during_the_sync_survives_it(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    sync_services: SyncServices,
    monkeypatch: pytest.MonkeyPatch,
    error_before: str | None,
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    await PlaidItem.filter(id=item_id).update(error=error_before)
    plaid_item_id = (await PlaidItem.get(id=item_id)).item_id
    login_required = {
        "webhook_type": "ITEM",
        "webhook_code": "ERROR",
        "item_id": plaid_item_id,
        "error": {"error_type": "ITEM_ERROR", "error_code": "ITEM_LOGIN_REQUIRED", "error_message": "login"},
    }
    during_writes(monkeypatch, lambda: deliver_webhook(client, emulator, login_required))

    job = await run_sync(item_id, sync_services)

    assert job.status == SyncStatus.SUCCEEDED, job.error
    item = await PlaidItem.get(id=item_id)
    assert item.error == "ITEM_LOGIN_REQUIRED"
    assert item.last_synced_at is not None and item.last_synced_at >= job.started_at


async def test_new_accounts_flag_set_during_the_sync_survives_it(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    sync_services: SyncServices,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    plaid_item_id = (await PlaidItem.get(id=item_id)).item_id
    new_accounts = {"webhook_type": "ITEM", "webhook_code": "NEW_ACCOUNTS_AVAILABLE", "item_id": plaid_item_id}
    during_writes(monkeypatch, lambda: deliver_webhook(client, emulator, new_accounts))

    assert (await run_sync(item_id, sync_services)).status == SyncStatus.SUCCEEDED

    item = await PlaidItem.get(id=item_id)
    assert (item.new_accounts_available, item.error) == (True, None)


@pytest.mark.parametrize(
    ("error_before", "error_after"),
    [
        ("ITEM_LOGIN_REQUIRED", None),
        ("INSTITUTION_NOT_RESPONDING", None),
        ("PENDING_EXPIRATION", "PENDING_EXPIRATION"),
        ("PENDING_DISCONNECT", "PENDING_DISCONNECT"),
    ],
)
async def test_a_successful_sync_clears_only_what_it_disproves(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    sync_services: SyncServices,
    error_before: str,
    error_after: str | None,
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    await PlaidItem.filter(id=item_id).update(error=error_before)

    assert (await run_sync(item_id, sync_services)).status == SyncStatus.SUCCEEDED

    assert (await PlaidItem.get(id=item_id)).error == error_after
