"""The connector's delivery, over HTTP against the Ghostfolio emulator: what a sync imported shows up there."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator
from dataclasses import replace
from decimal import Decimal
from typing import Any

import httpx
import pytest
from rq.registry import ScheduledJobRegistry
from starlette.applications import Starlette

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.ghostfolio.jobs import deliver, push_job_id
from ghostfolio_plaid.ghostfolio.payloads import manual_listing
from ghostfolio_plaid.ghostfolio.status import GhostfolioStatus
from ghostfolio_plaid.ghostfolio.status import ghostfolio_state as ghostfolio_status
from ghostfolio_plaid.models import (
    Account,
    GhostfolioActivity,
    GhostfolioPush,
    GhostfolioSymbol,
    Holding,
    Order,
    OrderType,
    PlaidItem,
    SyncJob,
    SyncTrigger,
)
from ghostfolio_plaid.plaid_emulator import EmulatorServer, ThreadedServer
from ghostfolio_plaid.workers.sync import SyncServices, execute_sync
from tests.conftest import Caller, plaid_post
from tests.linking import exchange_body, forget_first_sync, link_seeded_item, listed_accounts, seed_item
from tests.processes import run_command


@pytest.fixture
def connected(settings: Settings, ghostfolio: ThreadedServer) -> Settings:
    return replace(settings, ghostfolio_url=ghostfolio.url)


async def ghostfolio_state(ghostfolio: ThreadedServer, user_id: str) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=ghostfolio.url) as http:
        answer: dict[str, Any] = (await http.get("/emulator/state", params={"userId": user_id})).json()
    return answer


async def synced_item(
    client: httpx.AsyncClient, emulator: EmulatorServer, caller: Caller, services: SyncServices
) -> PlaidItem:
    item_id, _ = await link_seeded_item(client, emulator, caller)
    item = await PlaidItem.get(id=item_id)
    job = await SyncJob.create(plaid_item=item, trigger=SyncTrigger.MANUAL)
    await execute_sync(services, str(job.id))
    return await PlaidItem.get(id=item_id)


async def test_a_push_delivers_accounts_activities_and_balances_and_positions_match_plaid(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    sync_services: SyncServices,
    connected: Settings,
    ghostfolio: ThreadedServer,
) -> None:
    item = await synced_item(client, emulator, alice, sync_services)
    assert await deliver(connected, sync_services.queue, str(item.id)) == "succeeded"
    state = await ghostfolio_state(ghostfolio, alice.id)
    accounts = await Account.filter(plaid_item_id=item.id)
    assert {a["id"] for a in state["accounts"]} == {a.ghostfolio_account_id for a in accounts}
    assert len(state["activities"]) == await activities_expected(accounts)
    assert all(a["comment"].startswith("plaid:") for a in state["activities"])
    ours = {a.ghostfolio_account_id: a for a in accounts}
    for row in state["accounts"]:
        assert Decimal(str(row["balance"])) == ours[row["id"]].balance
    assert await ghostfolio_positions(state) == await plaid_positions(accounts, alice.id)


async def activities_expected(accounts: list[Account]) -> int:
    """One Ghostfolio activity per order, and one cash position per currency other than the account's."""
    orders = await Order.filter(account_id__in=[a.id for a in accounts]).count()
    currencies = {str(a.id): a.currency for a in accounts}
    foreign = {
        (str(h.account_id), h.currency)
        for h in await Holding.filter(account_id__in=list(currencies), symbol_profile__asset_sub_class="CASH")
        if h.currency != currencies[str(h.account_id)] and h.quantity > 0
    }
    return orders + len(foreign)


async def ghostfolio_positions(state: dict[str, Any]) -> dict[tuple[str, str], Decimal]:
    """Per Ghostfolio account and symbol: BUY minus SELL, positions that are not zero."""
    positions: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for entry in state["activities"]:
        sign = {"BUY": 1, "SELL": -1}.get(entry["type"], 0)
        positions[(entry["accountId"], entry["symbol"])] += sign * Decimal(str(entry["quantity"]))
    return {key: quantity for key, quantity in positions.items() if quantity != 0}


async def plaid_positions(accounts: list[Account], user_id: str) -> dict[tuple[str, str], Decimal]:
    """What Plaid reports held, keyed the way the connector lists each security in Ghostfolio. Cash in the
    account's currency is its balance, not a position; cash in another currency is a position of its own."""
    listed = {str(r.symbol_profile_id): r for r in await GhostfolioSymbol.all()}
    by_id = {str(a.id): a for a in accounts}
    gf_account = {str(a.id): str(a.ghostfolio_account_id) for a in accounts}
    expected: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for holding in await Holding.filter(account_id__in=[a.id for a in accounts]).select_related("symbol_profile"):
        profile = holding.symbol_profile
        own_cash = profile.asset_sub_class == "CASH" and holding.currency == by_id[str(holding.account_id)].currency
        if own_cash or holding.quantity == 0:
            continue
        row = listed.get(str(profile.id))
        symbol = row.symbol if row and row.data_source != "MANUAL" else manual_listing(profile, user_id).symbol
        expected[(gf_account[str(holding.account_id)], symbol)] += holding.quantity
    return dict(expected)


async def test_a_resync_with_nothing_new_sends_nothing(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    sync_services: SyncServices,
    connected: Settings,
) -> None:
    item = await synced_item(client, emulator, alice, sync_services)
    assert await deliver(connected, sync_services.queue, str(item.id)) == "succeeded"
    job = await SyncJob.create(plaid_item=item, trigger=SyncTrigger.MANUAL)
    await execute_sync(sync_services, str(job.id))
    assert await deliver(connected, sync_services.queue, str(item.id)) == "succeeded"
    last = await GhostfolioPush.filter(plaid_item_id=item.id).order_by("-started_at").first()
    assert last is not None and (last.requests, last.created, last.updated, last.deleted) == (0, 0, 0, 0)


async def gf(ghostfolio: ThreadedServer, method: str, path: str, body: Any = None) -> Any:
    async with httpx.AsyncClient(base_url=ghostfolio.url) as http:
        response = await http.request(method, path, json=body)
    response.raise_for_status()
    return response.json()


@pytest.fixture
async def online(ghostfolio: ThreadedServer) -> Any:
    yield
    await gf(ghostfolio, "POST", "/emulator/offline", {"offline": False})
    await gf(ghostfolio, "DELETE", "/emulator/faults")


@pytest.fixture
def connector_on(app: Starlette, connected: Settings) -> Iterator[None]:
    services = app.state.services
    original = services.settings
    services.settings = connected
    yield
    services.settings = original


async def test_linking_creates_one_ghostfolio_account_per_plaid_account_and_answers_their_ids(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, ghostfolio: ThreadedServer, connector_on: None
) -> None:
    seeded, plaid_accounts = await seed_item(emulator)
    response = await client.post(
        "/api/v1/plaid/exchange-token",
        json=exchange_body(seeded["public_token"], listed_accounts(plaid_accounts)),
        headers=alice.headers,
    )
    assert response.status_code == 201, response.text
    answered = {a["accountId"]: a["name"] for a in response.json()["accounts"]}
    state = await ghostfolio_state(ghostfolio, alice.id)
    assert {a["id"]: a["name"] for a in state["accounts"]} == answered
    assert {a["currency"] for a in state["accounts"]} == {"USD"}
    await forget_first_sync(response.json()["plaidItemId"])


@pytest.mark.parametrize(("fault", "status"), [({"status": 503}, 503), ({"status": 400}, 502)])
async def test_ghostfolio_down_or_refusing_at_link_time_stores_nothing_and_removes_the_item_at_plaid(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    ghostfolio: ThreadedServer,
    connector_on: None,
    online: None,
    fault: dict[str, Any],
    status: int,
) -> None:
    seeded, plaid_accounts = await seed_item(emulator)
    await gf(ghostfolio, "POST", "/emulator/faults", {"path": "/api/v1/account", "method": "POST", "times": 2, **fault})
    response = await client.post(
        "/api/v1/plaid/exchange-token",
        json=exchange_body(seeded["public_token"], listed_accounts(plaid_accounts)),
        headers=alice.headers,
    )
    assert response.status_code == status, response.text
    assert "nothing was linked" in response.json()["message"]
    assert not await PlaidItem.exists(user_id=alice.id)
    assert (await ghostfolio_state(ghostfolio, alice.id))["accounts"] == []
    gone = await plaid_post(emulator, "/accounts/get", {"access_token": seeded["access_token"]})
    assert gone["error_code"] == "ITEM_NOT_FOUND"


async def test_a_successful_sync_queues_a_push_with_its_pending_changes(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, sync_services: SyncServices, connected: Settings
) -> None:
    services = replace(sync_services, settings=connected)
    item = await synced_item(client, emulator, alice, services)
    assert item.ghostfolio_pending == await activities_expected(await Account.filter(plaid_item_id=item.id)) > 0
    assert push_job_id(str(item.id)) in services.queue.queue.job_ids


async def test_revisions_update_and_vanished_activities_are_deleted(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    sync_services: SyncServices,
    connected: Settings,
    ghostfolio: ThreadedServer,
) -> None:
    item = await synced_item(client, emulator, alice, sync_services)
    assert await deliver(connected, sync_services.queue, str(item.id)) == "succeeded"
    revised, vanished = await Order.filter(account__plaid_item_id=item.id, type=OrderType.BUY).limit(2)
    revised.unit_price += Decimal("1.5")
    await revised.save()
    await vanished.delete()
    assert await deliver(connected, sync_services.queue, str(item.id)) == "succeeded"
    last = await GhostfolioPush.filter(plaid_item_id=item.id).order_by("-started_at").first()
    assert last is not None and (last.created, last.updated, last.deleted) == (0, 1, 1)
    by_comment = {a["comment"]: a for a in (await ghostfolio_state(ghostfolio, alice.id))["activities"]}
    assert Decimal(str(by_comment[f"plaid:{revised.plaid_transaction_id}"]["unitPrice"])) == revised.unit_price
    assert f"plaid:{vanished.plaid_transaction_id}" not in by_comment


async def test_ghostfolio_down_loses_nothing_and_a_retry_is_scheduled(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    sync_services: SyncServices,
    connected: Settings,
    ghostfolio: ThreadedServer,
    online: None,
) -> None:
    item = await synced_item(client, emulator, alice, sync_services)
    await gf(ghostfolio, "POST", "/emulator/faults", {"path": "/api/v1/import", "status": 503, "times": 1})
    assert await deliver(connected, sync_services.queue, str(item.id)) == "retrying"
    refreshed = await PlaidItem.get(id=item.id)
    assert refreshed.ghostfolio_attempts == 1 and "503" in (refreshed.ghostfolio_error or "")
    scheduled = ScheduledJobRegistry(queue=sync_services.queue.queue)
    assert any(job.startswith(f"gf-push-retry-{item.id}-") for job in scheduled.get_job_ids())
    assert await deliver(connected, sync_services.queue, str(item.id)) == "succeeded"
    state = await ghostfolio_state(ghostfolio, alice.id)
    accounts = await Account.filter(plaid_item_id=item.id)
    assert len(state["activities"]) == await activities_expected(accounts)
    assert await ghostfolio_positions(state) == await plaid_positions(accounts, alice.id)


async def test_an_instance_that_cannot_price_anything_still_gets_every_position_as_manual(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    bob: Caller,
    sync_services: SyncServices,
    connected: Settings,
    ghostfolio: ThreadedServer,
    online: None,
) -> None:
    await GhostfolioSymbol.all().delete()
    await gf(ghostfolio, "POST", "/emulator/offline", {"offline": True})
    item = await synced_item(client, emulator, bob, sync_services)
    assert await deliver(connected, sync_services.queue, str(item.id)) == "succeeded"
    state = await ghostfolio_state(ghostfolio, bob.id)
    assert {a["dataSource"] for a in state["activities"]} == {"MANUAL"}
    manual = {p["symbol"]: p for p in state["assetProfiles"]}
    assert all(symbol.startswith("GF_") for symbol in manual)
    assert any(p["marketData"] for p in manual.values())
    accounts = await Account.filter(plaid_item_id=item.id)
    assert await ghostfolio_positions(state) == await plaid_positions(accounts, bob.id)


async def test_a_crash_after_ghostfolio_imported_resumes_without_duplicates(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    sync_services: SyncServices,
    connected: Settings,
    ghostfolio: ThreadedServer,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    item = await synced_item(client, emulator, alice, sync_services)
    original = GhostfolioActivity.bulk_create

    async def crash(*args: Any, **kwargs: Any) -> None:
        raise SystemExit("the worker died right after Ghostfolio answered")

    monkeypatch.setattr(GhostfolioActivity, "bulk_create", crash)
    with pytest.raises(SystemExit):
        await deliver(connected, sync_services.queue, str(item.id))
    monkeypatch.setattr(GhostfolioActivity, "bulk_create", original)
    assert await deliver(connected, sync_services.queue, str(item.id)) == "succeeded"
    state = await ghostfolio_state(ghostfolio, alice.id)
    comments = [a["comment"] for a in state["activities"]]
    accounts = await Account.filter(plaid_item_id=item.id)
    assert len(comments) == len(set(comments)) == await activities_expected(accounts)
    assert await GhostfolioActivity.filter(plaid_item_id=item.id).count() == len(comments)


async def test_replay_restores_what_someone_deleted_in_ghostfolio(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    sync_services: SyncServices,
    connected: Settings,
    ghostfolio: ThreadedServer,
) -> None:
    item = await synced_item(client, emulator, alice, sync_services)
    assert await deliver(connected, sync_services.queue, str(item.id)) == "succeeded"
    before = await ghostfolio_state(ghostfolio, alice.id)
    victim = before["activities"][0]
    async with httpx.AsyncClient(base_url=ghostfolio.url) as http:
        deleted = await http.delete(
            f"/api/v1/activities/{victim['id']}", headers={"Authorization": f"Bearer {alice.token}"}
        )
    assert deleted.status_code == 200
    assert await deliver(connected, sync_services.queue, str(item.id)) == "succeeded"
    assert len((await ghostfolio_state(ghostfolio, alice.id))["activities"]) == len(before["activities"]) - 1
    assert await deliver(connected, sync_services.queue, str(item.id), replay=True) == "succeeded"
    after = await ghostfolio_state(ghostfolio, alice.id)
    assert sorted(a["comment"] for a in after["activities"]) == sorted(a["comment"] for a in before["activities"])


async def test_a_symbol_the_instance_refuses_falls_back_to_manual_and_the_choice_is_kept(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    sync_services: SyncServices,
    connected: Settings,
    ghostfolio: ThreadedServer,
    online: None,
) -> None:
    await GhostfolioSymbol.all().delete()
    known = set((await gf(ghostfolio, "GET", "/emulator/config"))["known_symbols"])
    await gf(ghostfolio, "POST", "/emulator/config", {"known_symbols": sorted(known - {"MSFT"})})
    try:
        item = await synced_item(client, emulator, alice, sync_services)
        assert await deliver(connected, sync_services.queue, str(item.id)) == "succeeded"
    finally:
        await gf(ghostfolio, "POST", "/emulator/config", {"known_symbols": sorted(known)})
    rows = await GhostfolioSymbol.all().select_related("symbol_profile")
    chosen = {row.symbol_profile.symbol: row.data_source for row in rows}
    assert chosen["MSFT"] == "MANUAL" and chosen["AAPL"] == "YAHOO"
    state = await ghostfolio_state(ghostfolio, alice.id)
    assert "MSFT" not in {a["symbol"] for a in state["activities"]}
    accounts = await Account.filter(plaid_item_id=item.id)
    assert await ghostfolio_positions(state) == await plaid_positions(accounts, alice.id)


async def test_a_refusal_is_recorded_on_the_item_and_does_not_block_other_items(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    bob: Caller,
    sync_services: SyncServices,
    connected: Settings,
    ghostfolio: ThreadedServer,
    online: None,
) -> None:
    refused = await synced_item(client, emulator, alice, sync_services)
    other = await synced_item(client, emulator, bob, sync_services)
    await gf(ghostfolio, "POST", "/emulator/faults", {"path": "/api/v1/import", "status": 400, "times": 1})
    assert await deliver(connected, sync_services.queue, str(refused.id)) == "refused"
    failed = await PlaidItem.get(id=refused.id)
    assert ghostfolio_status(failed, connector_on=True).status == GhostfolioStatus.FAILED
    assert "400" in (failed.ghostfolio_error or "")
    assert await deliver(connected, sync_services.queue, str(other.id)) == "succeeded"
    delivered = await PlaidItem.get(id=other.id)
    assert ghostfolio_status(delivered, connector_on=True).status == GhostfolioStatus.SYNCED


async def test_disconnect_leaves_ghostfolio_accounts_and_activities_in_place(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    sync_services: SyncServices,
    connected: Settings,
    ghostfolio: ThreadedServer,
    connector_on: None,
) -> None:
    item = await synced_item(client, emulator, alice, sync_services)
    assert await deliver(connected, sync_services.queue, str(item.id)) == "succeeded"
    before = await ghostfolio_state(ghostfolio, alice.id)
    assert (await client.delete(f"/api/v1/plaid/items/{item.id}", headers=alice.headers)).status_code == 200
    after = await ghostfolio_state(ghostfolio, alice.id)
    assert (after["accounts"], after["activities"]) == (before["accounts"], before["activities"])


GHOSTFOLIO_QUERY = "query($id: ID!) { plaidItem(id: $id) { ghostfolio { status lastPushedAt pendingChanges error } } }"


async def graphql_ghostfolio(client: httpx.AsyncClient, caller: Caller, item_id: str) -> dict[str, Any]:
    response = await client.post(
        "/graphql", json={"query": GHOSTFOLIO_QUERY, "variables": {"id": item_id}}, headers=caller.headers
    )
    answer: dict[str, Any] = response.json()["data"]["plaidItem"]["ghostfolio"]
    return answer


async def test_graphql_shows_the_connector_off_then_pending_then_synced(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    sync_services: SyncServices,
    connected: Settings,
    app: Starlette,
) -> None:
    item = await synced_item(client, emulator, alice, replace(sync_services, settings=connected))
    off = await graphql_ghostfolio(client, alice, str(item.id))
    assert off == {"status": "OFF", "lastPushedAt": None, "pendingChanges": item.ghostfolio_pending, "error": None}
    services = app.state.services
    original = services.settings
    services.settings = connected
    try:
        pending = await graphql_ghostfolio(client, alice, str(item.id))
        assert pending["status"] == "PENDING" and pending["pendingChanges"] > 0
        assert await deliver(connected, sync_services.queue, str(item.id)) == "succeeded"
        synced = await graphql_ghostfolio(client, alice, str(item.id))
        assert synced["status"] == "SYNCED" and synced["pendingChanges"] == 0 and synced["lastPushedAt"]
    finally:
        services.settings = original


async def test_a_push_job_run_by_a_worker_while_ghostfolio_is_down_schedules_its_retry(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    sync_services: SyncServices,
    connected: Settings,
    ghostfolio: ThreadedServer,
    online: None,
    process_env: dict[str, str],
) -> None:
    """Through a real ``worker --burst`` process, so the push runs as the RQ job it is in production."""
    item = await synced_item(client, emulator, alice, replace(sync_services, settings=connected))
    queue = sync_services.queue.queue
    assert push_job_id(str(item.id)) in queue.job_ids
    await gf(ghostfolio, "POST", "/emulator/faults", {"path": "/api/v1/*", "status": 503, "times": 1000})
    try:
        await run_command({**process_env, "GHOSTFOLIO_URL": ghostfolio.url}, "worker", "--burst")
    finally:
        await gf(ghostfolio, "DELETE", "/emulator/faults")
    scheduled = ScheduledJobRegistry(queue=queue).get_job_ids()
    assert any(job.startswith(f"gf-push-retry-{item.id}-") for job in scheduled), scheduled
    assert (await PlaidItem.get(id=item.id)).ghostfolio_attempts == 1
