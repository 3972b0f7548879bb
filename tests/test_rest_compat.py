"""Every route and status of docs/rest-contract.md, driven over HTTP."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import asyncpg
import httpx
import pytest
from jsonschema import Draft202012Validator
from rq.job import Job
from starlette.applications import Starlette

from ghostfolio_plaid.ghostfolio.jobs import deliver
from ghostfolio_plaid.job_queue import SyncQueue
from ghostfolio_plaid.models import (
    Account,
    Order,
    OrderType,
    PlaidItem,
    Platform,
    SyncJob,
    SyncStatus,
    SyncTrigger,
    User,
)
from ghostfolio_plaid.plaid_emulator import EmulatorServer, ThreadedServer
from ghostfolio_plaid.rest_compat import contract
from ghostfolio_plaid.workers.sync import SyncServices, execute_sync
from tests.conftest import Caller, emulator_call, plaid_post
from tests.linking import DISPLAY_NAMES, exchange_body, link_item, listed_accounts, sandbox_public_token, seed_item
from tests.test_ghostfolio_push import activities_expected

API = "/api/v1/plaid"


def assert_nest_error(response: httpx.Response, status: int, message_part: str = "") -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"statusCode", "message", "error"}
    assert body["statusCode"] == status
    assert message_part in body["message"]


async def emulator_paths(emulator: EmulatorServer) -> list[str]:
    return [entry["path"] for entry in (await emulator_call(emulator, "GET", "/emulator/requests"))["requests"]]


async def test_link_token(client: httpx.AsyncClient, alice: Caller) -> None:
    response = await client.post(f"{API}/link-token", headers=alice.headers)
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"linkToken", "expiration"}
    assert body["linkToken"].startswith("link-")
    assert body["expiration"].endswith("Z")


async def test_exchange_creates_item_and_accounts(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller
) -> None:
    seeded, plaid_accounts = await seed_item(emulator)
    listed = listed_accounts(plaid_accounts)[:2]
    response = await client.post(
        f"{API}/exchange-token", json=exchange_body(seeded["public_token"], listed), headers=alice.headers
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert set(body) == {"plaidItemId", "accounts"}
    assert [(a["plaidAccountId"], a["name"]) for a in body["accounts"]] == [
        (a["account_id"], name)
        for a, name in zip(plaid_accounts, [*DISPLAY_NAMES, *(a["name"] for a in plaid_accounts[2:])], strict=True)
    ]
    item = await PlaidItem.get(id=body["plaidItemId"])
    assert item.user_id == alice.id
    assert await User.exists(id=alice.id)
    assert item.institution_id == "ins_109508"
    assert "access-" not in item.access_token
    rows = await Account.filter(plaid_item_id=item.id)
    assert {str(r.id) for r in rows} == {a["accountId"] for a in body["accounts"]}
    assert {(r.plaid_account_id, r.account_type, r.account_subtype, r.mask) for r in rows} == {
        (a["account_id"], a["type"], a["subtype"], a["mask"]) for a in plaid_accounts
    }


async def test_exchange_links_the_accounts_plaid_reports_when_the_body_lists_none(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller
) -> None:
    seeded, plaid_accounts = await seed_item(emulator)
    response = await client.post(
        f"{API}/exchange-token", json=exchange_body(seeded["public_token"], []), headers=alice.headers
    )
    assert response.status_code == 201, response.text
    assert [(a["plaidAccountId"], a["name"]) for a in response.json()["accounts"]] == [
        (a["account_id"], a["name"]) for a in plaid_accounts
    ]


async def test_exchange_with_an_account_plaid_does_not_know_is_400_and_removes_the_item_at_plaid(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller
) -> None:
    seeded, plaid_accounts = await seed_item(emulator)
    listed = [*listed_accounts(plaid_accounts), {"id": "made-up-account", "name": "Dead", "type": "investment"}]
    before = (await PlaidItem.all().count(), await Account.all().count(), await SyncJob.all().count())
    response = await client.post(
        f"{API}/exchange-token", json=exchange_body(seeded["public_token"], listed), headers=alice.headers
    )
    assert_nest_error(response, 400, "'made-up-account' is not an account of this item at Plaid")
    assert (await PlaidItem.all().count(), await Account.all().count(), await SyncJob.all().count()) == before
    gone = await plaid_post(emulator, "/accounts/get", {"access_token": seeded["access_token"]})
    assert gone["error_code"] == "ITEM_NOT_FOUND"


async def test_linking_starts_the_first_sync(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, app: Starlette
) -> None:
    body = await link_item(client, emulator, alice, keep_first_sync=True)
    (job,) = await SyncJob.filter(plaid_item_id=body["plaidItemId"])
    assert (job.trigger, job.status) == (SyncTrigger.LINK, SyncStatus.QUEUED)
    assert str(job.id) in app.state.services.queue.queue.job_ids


async def test_linking_still_succeeds_when_the_queue_is_down(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, app: Starlette
) -> None:
    services = app.state.services
    working = services.queue
    services.queue = SyncQueue("redis://127.0.0.1:1/5", "unreachable")
    try:
        body = await link_item(client, emulator, alice, keep_first_sync=True)
    finally:
        services.queue = working
    assert await PlaidItem.exists(id=body["plaidItemId"])
    assert await SyncJob.filter(plaid_item_id=body["plaidItemId"]).count() == 0


async def test_a_database_failure_while_linking_removes_the_item_at_plaid_and_says_so(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def connection_lost(*args: object, **kwargs: object) -> None:
        raise asyncpg.ConnectionDoesNotExistError("connection was closed in the middle of operation")

    monkeypatch.setattr(Platform, "get_or_create", connection_lost)
    seeded, plaid_accounts = await seed_item(emulator)
    response = await client.post(
        f"{API}/exchange-token",
        json=exchange_body(seeded["public_token"], listed_accounts(plaid_accounts)),
        headers=alice.headers,
    )
    assert_nest_error(response, 503, "removed at Plaid")
    assert not await PlaidItem.exists(user_id=alice.id)
    gone = await plaid_post(emulator, "/accounts/get", {"access_token": seeded["access_token"]})
    assert gone["error_code"] == "ITEM_NOT_FOUND"


async def test_exchange_rejects_invalid_and_reused_public_tokens(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller
) -> None:
    before = await PlaidItem.all().count()
    response = await client.post(
        f"{API}/exchange-token", json=exchange_body("public-sandbox-unknown"), headers=alice.headers
    )
    assert_nest_error(response, 400, "public token")
    token = await sandbox_public_token(emulator)
    first = await client.post(f"{API}/exchange-token", json=exchange_body(token), headers=alice.headers)
    assert first.status_code == 201
    again = await client.post(f"{API}/exchange-token", json=exchange_body(token), headers=alice.headers)
    assert_nest_error(again, 400, "public token")
    assert await PlaidItem.all().count() == before + 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"{not json", "valid JSON"),
        (b"[1, 2]", "JSON object"),
        (b"{}", "publicToken is required"),
        (
            b'{"publicToken": 5, "institutionId": "i", "institutionName": "n", "accounts": []}',
            "must be a string",
        ),
        (
            b'{"publicToken": "p", "institutionId": "i", "institutionName": "n", "accounts": {}}',
            "must be an array",
        ),
        (
            b'{"publicToken": "p", "institutionId": "i", "institutionName": "n", "accounts": [3]}',
            "accounts[0]",
        ),
        (
            b'{"publicToken": "p", "institutionId": "i", "institutionName": "n", "accounts": [{"id": "a"}]}',
            "accounts[0].name is required",
        ),
        (
            b'{"publicToken": "", "institutionId": "i", "institutionName": "n", "accounts": []}',
            "must not be empty",
        ),
    ],
)
async def test_exchange_rejects_malformed_bodies(
    client: httpx.AsyncClient, alice: Caller, content: bytes, message: str
) -> None:
    response = await client.post(
        f"{API}/exchange-token",
        content=content,
        headers={**alice.headers, "content-type": "application/json"},
    )
    assert_nest_error(response, 400, message)


async def test_sync_enqueues_a_real_job_and_conflicts_while_queued(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, app: Starlette
) -> None:
    item_id = (await link_item(client, emulator, alice))["plaidItemId"]
    response = await client.post(f"{API}/sync/{item_id}", headers=alice.headers)
    assert response.status_code == 202
    body = response.json()
    assert body["message"] == "Sync job enqueued"
    queue: SyncQueue = app.state.services.queue
    job = Job.fetch(body["jobId"], connection=queue.redis)
    assert job.func_name == "ghostfolio_plaid.workers.sync.run_sync_job"
    assert job.args == (body["jobId"],)
    assert body["jobId"] in queue.queue.job_ids
    row = await SyncJob.get(id=body["jobId"])
    assert row.status == SyncStatus.QUEUED
    assert str(row.plaid_item_id) == item_id
    again = await client.post(f"{API}/sync/{item_id}", headers=alice.headers)
    assert_nest_error(again, 409, "already queued or running")
    assert await SyncJob.filter(plaid_item_id=item_id).count() == 1


async def test_sync_job_lost_from_the_queue_does_not_block_forever(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, app: Starlette
) -> None:
    item_id = (await link_item(client, emulator, alice))["plaidItemId"]
    first = (await client.post(f"{API}/sync/{item_id}", headers=alice.headers)).json()["jobId"]
    queue: SyncQueue = app.state.services.queue
    Job.fetch(first, connection=queue.redis).delete()
    second = await client.post(f"{API}/sync/{item_id}", headers=alice.headers)
    assert second.status_code == 202
    assert (await SyncJob.get(id=first)).status == SyncStatus.FAILED


async def test_sync_answers_503_and_writes_nothing_when_redis_is_down(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, app: Starlette
) -> None:
    item_id = (await link_item(client, emulator, alice))["plaidItemId"]
    services = app.state.services
    working = services.queue
    services.queue = SyncQueue("redis://127.0.0.1:1/0", "unreachable")
    try:
        response = await client.post(f"{API}/sync/{item_id}", headers=alice.headers)
    finally:
        services.queue = working
    assert_nest_error(response, 503, "queue")
    assert await SyncJob.filter(plaid_item_id=item_id).count() == 0
    assert (await client.post(f"{API}/sync/{item_id}", headers=alice.headers)).status_code == 202


async def test_items_lists_only_the_callers_items(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, bob: Caller
) -> None:
    linked = await link_item(client, emulator, alice)
    response = await client.get(f"{API}/items", headers=alice.headers)
    assert response.status_code == 200
    (entry,) = response.json()["items"]
    assert entry["id"] == linked["plaidItemId"]
    assert entry["institutionId"] == "ins_109508"
    assert entry["institutionName"] == "First Platypus Bank"
    assert entry["accountCount"] == 4
    assert entry["lastSyncedAt"] is None and entry["error"] is None and entry["consentExpiresAt"] is None
    assert entry["createdAt"].endswith("Z")
    assert entry["status"] == "ACTIVE"
    assert (await client.get(f"{API}/items", headers=bob.headers)).json() == {"items": []}


async def test_update_link_token_uses_update_mode(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller
) -> None:
    item_id = (await link_item(client, emulator, alice))["plaidItemId"]
    response = await client.post(f"{API}/link-token/update/{item_id}", headers=alice.headers)
    assert response.status_code == 200
    assert set(response.json()) == {"linkToken", "expiration"}


async def test_disconnect_removes_at_plaid_and_keeps_accounts(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller
) -> None:
    item_id = (await link_item(client, emulator, alice))["plaidItemId"]
    removals_before = (await emulator_paths(emulator)).count("/item/remove")
    response = await client.delete(f"{API}/items/{item_id}", headers=alice.headers)
    assert response.status_code == 200
    assert response.json() == {"message": "Plaid connection disconnected"}
    assert (await emulator_paths(emulator)).count("/item/remove") == removals_before + 1
    item = await PlaidItem.get(id=item_id)
    assert item.disconnected_at is not None
    assert await Account.filter(plaid_item_id=item_id).count() == 4
    sync = await client.post(f"{API}/sync/{item_id}", headers=alice.headers)
    assert_nest_error(sync, 409, "disconnected")
    (entry,) = (await client.get(f"{API}/items", headers=alice.headers)).json()["items"]
    assert entry["status"] == "DISCONNECTED"
    again = await client.delete(f"{API}/items/{item_id}", headers=alice.headers)
    assert again.status_code == 200
    assert (await emulator_paths(emulator)).count("/item/remove") == removals_before + 1


@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/sync/{id}"), ("POST", "/link-token/update/{id}"), ("DELETE", "/items/{id}")],
)
async def test_item_routes_check_ownership_and_ids(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, bob: Caller, method: str, path: str
) -> None:
    item_id = (await link_item(client, emulator, alice))["plaidItemId"]
    forbidden = await client.request(method, API + path.format(id=item_id), headers=bob.headers)
    assert_nest_error(forbidden, 403)
    missing = await client.request(method, API + path.format(id=uuid.uuid4()), headers=alice.headers)
    assert_nest_error(missing, 404, "PlaidItem not found")
    malformed = await client.request(method, API + path.format(id="not-a-uuid"), headers=alice.headers)
    assert_nest_error(malformed, 400, "UUID")
    assert (await PlaidItem.get(id=item_id)).disconnected_at is None
    assert await SyncJob.filter(plaid_item_id=item_id).count() == 0


ROUTES = [
    ("POST", "/link-token"),
    ("POST", "/exchange-token"),
    ("POST", f"/sync/{uuid.uuid4()}"),
    ("GET", "/items"),
    ("POST", f"/link-token/update/{uuid.uuid4()}"),
    ("DELETE", f"/items/{uuid.uuid4()}"),
]


@pytest.mark.parametrize(("method", "path"), ROUTES)
async def test_every_route_requires_a_valid_token(client: httpx.AsyncClient, method: str, path: str) -> None:
    assert_nest_error(await client.request(method, API + path), 401)
    bad = {"Authorization": "Bearer not.a.token"}
    assert_nest_error(await client.request(method, API + path, headers=bad), 401)


@pytest.mark.parametrize(("method", "path"), [*ROUTES, ("POST", "/webhook")])
async def test_feature_gate_closes_every_route(
    client: httpx.AsyncClient, alice: Caller, feature_disabled: None, method: str, path: str
) -> None:
    assert_nest_error(await client.request(method, API + path, headers=alice.headers), 403, "disabled")


async def test_link_token_plaid_failure_is_a_500_with_a_clear_message(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller
) -> None:
    await emulator_call(
        emulator,
        "POST",
        "/emulator/faults",
        {"path": "/link/token/create", "error_code": "INTERNAL_SERVER_ERROR", "times": 1},
    )
    response = await client.post(f"{API}/link-token", headers=alice.headers)
    assert_nest_error(response, 500, "Plaid API error")
    assert (await client.post(f"{API}/link-token", headers=alice.headers)).status_code == 200


async def test_unknown_routes_answer_json_404(client: httpx.AsyncClient, alice: Caller) -> None:
    assert_nest_error(await client.get(f"{API}/nope", headers=alice.headers), 404)
    assert_nest_error(await client.get(f"{API}/link-token", headers=alice.headers), 405)


async def test_access_token_never_leaves_the_service(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, app: Starlette, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    linked = await link_item(client, emulator, alice)
    item = await PlaidItem.get(id=linked["plaidItemId"])
    access_token = app.state.services.cipher.decrypt(item.access_token, row_id=str(item.id))
    assert access_token.startswith("access-")
    bodies = [
        (await client.get(f"{API}/items", headers=alice.headers)).text,
        (await client.post(f"{API}/link-token/update/{item.id}", headers=alice.headers)).text,
        (await client.post(f"{API}/sync/{item.id}", headers=alice.headers)).text,
        (await client.delete(f"{API}/items/{item.id}", headers=alice.headers)).text,
    ]
    assert all(access_token not in body for body in bodies)
    assert access_token not in caplog.text
    assert app.state.services.settings.plaid_secret not in caplog.text


async def test_exchange_of_an_already_linked_item_is_a_409_and_writes_nothing(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, app: Starlette
) -> None:
    linked = await link_item(client, emulator, alice)
    item = await PlaidItem.get(id=linked["plaidItemId"])
    access_token = app.state.services.cipher.decrypt(item.access_token, row_id=str(item.id))
    again = await plaid_post(emulator, "/item/public_token/create", {"access_token": access_token})
    items_before, accounts_before = await PlaidItem.all().count(), await Account.all().count()
    response = await client.post(
        f"{API}/exchange-token", json=exchange_body(again["public_token"]), headers=alice.headers
    )
    assert_nest_error(response, 409, "already linked")
    assert (await PlaidItem.all().count(), await Account.all().count()) == (items_before, accounts_before)


async def listed_ghostfolio(client: httpx.AsyncClient, caller: Caller) -> dict[str, Any]:
    """The caller's one item's ``ghostfolio`` state, the whole answer checked against the documented schema."""
    response = await client.get(f"{API}/items", headers=caller.headers)
    assert response.status_code == 200, response.text
    Draft202012Validator(contract.ITEMS).validate(response.json())
    (entry,) = response.json()["items"]
    state: dict[str, Any] = entry["ghostfolio"]
    return state


async def test_items_show_the_ghostfolio_connector_off_in_standalone_mode(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller
) -> None:
    await link_item(client, emulator, alice)
    off = {"status": "OFF", "lastPushedAt": None, "pendingChanges": 0, "error": None}
    assert await listed_ghostfolio(client, alice) == off


@pytest.fixture
def connected_services(
    app: Starlette, ghostfolio: ThreadedServer, sync_services: SyncServices
) -> Iterator[SyncServices]:
    """The connector on, for the API (as ``GHOSTFOLIO_URL`` would set it) and for the syncs the test runs."""
    services = app.state.services
    original = services.settings
    services.settings = replace(original, ghostfolio_url=ghostfolio.url)
    yield replace(sync_services, settings=services.settings)
    services.settings = original


async def test_items_show_pending_changes_after_a_sync_then_synced_then_failed_on_a_refusal(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    ghostfolio: ThreadedServer,
    connected_services: SyncServices,
) -> None:
    linked = await link_item(client, emulator, alice)
    item_id = linked["plaidItemId"]
    job = await SyncJob.create(plaid_item_id=item_id, trigger=SyncTrigger.MANUAL)
    await execute_sync(connected_services, str(job.id))
    expected = await activities_expected(await Account.filter(plaid_item_id=item_id))
    assert expected > 0
    pending = {"status": "PENDING", "lastPushedAt": None, "pendingChanges": expected, "error": None}
    assert await listed_ghostfolio(client, alice) == pending

    settings = connected_services.settings
    assert await deliver(settings, connected_services.queue, item_id) == "succeeded"
    synced = await listed_ghostfolio(client, alice)
    assert (synced["status"], synced["pendingChanges"], synced["error"]) == ("SYNCED", 0, None)
    pushed_at = datetime.fromisoformat(synced["lastPushedAt"].replace("Z", "+00:00"))
    assert synced["lastPushedAt"].endswith("Z") and datetime.now(UTC) - pushed_at < timedelta(minutes=1)

    revised = await Order.filter(account__plaid_item_id=item_id, type=OrderType.BUY).first()
    assert revised is not None
    revised.unit_price += Decimal("1")
    await revised.save()
    refusal = {"path": "/api/v1/activities/*", "method": "PUT", "status": 400, "body": {"message": "not like this"}}
    await ghostfolio_call(ghostfolio, "POST", "/emulator/faults", refusal)
    try:
        assert await deliver(settings, connected_services.queue, item_id) == "refused"
    finally:
        await ghostfolio_call(ghostfolio, "DELETE", "/emulator/faults")
    failed = await listed_ghostfolio(client, alice)
    assert failed == {
        "status": "FAILED",
        "lastPushedAt": synced["lastPushedAt"],
        "pendingChanges": 0,
        "error": "Ghostfolio answered 400: not like this",
    }


async def ghostfolio_call(ghostfolio: ThreadedServer, method: str, path: str, body: Any = None) -> None:
    async with httpx.AsyncClient(base_url=ghostfolio.url) as http:
        (await http.request(method, path, json=body)).raise_for_status()
