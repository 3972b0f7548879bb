"""The sync job against the emulator over HTTP, with rows checked in PostgreSQL."""

from __future__ import annotations

import contextlib
import json
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest
from redis import Redis
from rq.exceptions import NoSuchJobError
from rq.job import Job

from ghostfolio_plaid.config import Settings
from ghostfolio_plaid.job_queue import SyncQueue, request_sync, sync_lock_key
from ghostfolio_plaid.models import (
    Account,
    AccountBalance,
    Holding,
    MarketData,
    Order,
    OrderType,
    PlaidItem,
    SymbolProfile,
    SyncJob,
    SyncStatus,
    SyncTrigger,
)
from ghostfolio_plaid.plaid_client import PlaidClient
from ghostfolio_plaid.plaid_emulator import EmulatorServer
from ghostfolio_plaid.plaid_emulator.signing import WebhookSigner
from ghostfolio_plaid.workers import activities
from ghostfolio_plaid.workers.sync import RetryLater, SyncServices, execute_sync
from tests.conftest import REDIS_URL, Caller, SQLCounter, emulator_call, plaid_post
from tests.linking import link_seeded_item
from tests.processes import run_command

WRITES = ("INSERT", "UPDATE", "DELETE")


@pytest.fixture
def services(sync_services: SyncServices) -> SyncServices:
    return sync_services


async def sync(item_id: str, services: SyncServices, *, final_attempt: bool = True) -> SyncJob:
    job = await SyncJob.create(plaid_item_id=item_id, trigger=SyncTrigger.MANUAL)
    await execute_sync(services, str(job.id), final_attempt=final_attempt)
    return await SyncJob.get(id=job.id)


async def access_token(item_id: str, services: SyncServices) -> str:
    item = await PlaidItem.get(id=item_id)
    return services.cipher.decrypt(item.access_token, row_id=str(item.id))


async def plaid_transactions(emulator: EmulatorServer, token: str) -> list[dict[str, Any]]:
    today = datetime.now(UTC).date()
    answer = await plaid_post(
        emulator,
        "/investments/transactions/get",
        {
            "access_token": token,
            "start_date": f"{today.year - 2}-{today:%m-%d}",
            "end_date": today.isoformat(),
            "options": {"count": 500},
        },
    )
    transactions: list[dict[str, Any]] = answer["investment_transactions"]
    return transactions


async def positions(item_id: str) -> dict[tuple[str, str], Decimal]:
    implied: dict[tuple[str, str], Decimal] = {}
    for order in await Order.filter(account__plaid_item_id=item_id, type__in=[OrderType.BUY, OrderType.SELL]):
        key = (str(order.account_id), str(order.symbol_profile_id))
        sign = 1 if order.type == OrderType.BUY else -1
        implied[key] = implied.get(key, Decimal(0)) + sign * order.quantity
    return {key: value for key, value in implied.items() if value != 0}


async def reported_positions(item_id: str) -> dict[tuple[str, str], Decimal]:
    rows = await Holding.filter(account__plaid_item_id=item_id).select_related("symbol_profile")
    return {
        (str(h.account_id), str(h.symbol_profile_id)): h.quantity
        for h in rows
        if h.symbol_profile.asset_sub_class != "CASH"
    }


async def snapshot_rows(item_id: str) -> dict[str, Any]:
    orders = (
        await Order.filter(account__plaid_item_id=item_id)
        .order_by("plaid_transaction_id")
        .values(
            "plaid_transaction_id", "type", "date", "quantity", "unit_price", "fee", "currency", "symbol_profile_id"
        )
    )
    holdings = (
        await Holding.filter(account__plaid_item_id=item_id)
        .order_by("account_id", "symbol_profile_id")
        .values("account_id", "symbol_profile_id", "quantity", "value", "cost_basis")
    )
    accounts = await Account.filter(plaid_item_id=item_id).order_by("id").values("id", "balance", "currency")
    return {"orders": orders, "holdings": holdings, "accounts": accounts}


async def test_first_sync_imports_and_reconciles(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, services: SyncServices
) -> None:
    item_id, plaid_accounts = await link_seeded_item(client, emulator, alice)
    job = await sync(item_id, services)
    assert job.status == SyncStatus.SUCCEEDED, job.error
    token = await access_token(item_id, services)
    transactions = await plaid_transactions(emulator, token)
    orders = {o.plaid_transaction_id: o for o in await Order.filter(account__plaid_item_id=item_id)}
    by_id = {t["investment_transaction_id"]: t for t in transactions}
    cancelled = {t["cancel_transaction_id"] for t in transactions if t["type"] == "cancel"}
    assert cancelled and not cancelled & set(orders)
    for key, order in orders.items():
        if key.startswith("opening:"):
            continue
        txn = by_id[key]
        assert order.quantity >= 0 and order.unit_price >= 0 and order.fee >= 0
        assert order.currency == txn["iso_currency_code"]
        expected = {"buy": OrderType.BUY, "sell": OrderType.SELL, "fee": OrderType.FEE}.get(txn["type"])
        if expected is not None:
            assert order.type == expected, txn
    positive_sells = [t for t in transactions if t["type"] == "sell" and t["quantity"] > 0]
    assert positive_sells and all(orders[t["investment_transaction_id"]].type == OrderType.SELL for t in positive_sells)
    dividends = [t for t in transactions if t["type"] == "cash" and "dividend" in t["subtype"]]
    assert dividends and all(orders[t["investment_transaction_id"]].type == OrderType.DIVIDEND for t in dividends)
    cash_moves = [t for t in transactions if t["subtype"] in ("deposit", "contribution", "withdrawal")]
    assert cash_moves and not {t["investment_transaction_id"] for t in cash_moves} & set(orders)

    assert await positions(item_id) == await reported_positions(item_id)
    openings = [o for key, o in orders.items() if key.startswith("opening:")]
    ira = next(a for a in plaid_accounts if a["subtype"] == "ira")
    ira_account = await Account.get(plaid_item_id=item_id, plaid_account_id=ira["account_id"])
    assert [str(o.account_id) for o in openings] == [str(ira_account.id)]
    assert openings[0].date < min(
        o.date for o in orders.values() if o.account_id == ira_account.id and o != openings[0]
    )

    brokerage = next(a for a in plaid_accounts if a["subtype"] == "brokerage")
    account = await Account.get(plaid_item_id=item_id, plaid_account_id=brokerage["account_id"])
    assert (
        account.balance
        == Decimal(str(brokerage["balances"]["available"]))
        < Decimal(str(brokerage["balances"]["current"]))
    )
    assert await AccountBalance.filter(account_id=account.id, date=datetime.now(UTC).date()).count() == 1
    bond = await SymbolProfile.get(isin="US91282CJL54")
    assert (bond.symbol, bond.asset_class, bond.asset_sub_class) == ("US91282CJL54", "FIXED_INCOME", "BOND")
    assert (await SymbolProfile.get(symbol="VTI")).asset_sub_class == "ETF"
    assert await MarketData.filter(symbol="AAPL").exists()
    cash_orders = await Order.filter(
        account__plaid_item_id=item_id, symbol_profile__asset_sub_class="CASH", type__in=[OrderType.BUY, OrderType.SELL]
    )
    assert cash_orders == []
    assert job.activities_created == len(orders) and job.holdings_seen > 0
    item = await PlaidItem.get(id=item_id)
    assert item.last_synced_at is not None and item.error is None


async def test_resync_without_changes_writes_nothing(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    services: SyncServices,
    sql_counter: SQLCounter,
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    await sync(item_id, services)
    before = await snapshot_rows(item_id)
    job = await SyncJob.create(plaid_item_id=item_id, trigger=SyncTrigger.MANUAL)
    sql_counter.statements.clear()
    await execute_sync(services, str(job.id))
    job = await SyncJob.get(id=job.id)
    assert job.status == SyncStatus.SUCCEEDED
    assert (job.activities_created, job.activities_updated, job.activities_removed) == (0, 0, 0)
    writes = [s for s in sql_counter.statements if s.lstrip().upper().startswith(WRITES)]
    assert [s[:60] for s in writes if '"sync_job"' not in s and '"plaid_item"' not in s] == []
    assert await snapshot_rows(item_id) == before


async def test_statements_grow_with_pages_not_rows(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    services: SyncServices,
    sql_counter: SQLCounter,
) -> None:
    counts = []
    for per_account in (20, 60, 450):
        shape = {
            "investment_accounts": 1,
            "securities": 10,
            "transactions_per_account": per_account,
            "depository_account": False,
        }
        item_id, _ = await link_seeded_item(client, emulator, alice, shape=shape)
        job = await SyncJob.create(plaid_item_id=item_id, trigger=SyncTrigger.MANUAL)
        sql_counter.statements.clear()
        await execute_sync(services, str(job.id))
        assert (await SyncJob.get(id=job.id)).activities_created >= per_account * 0.8
        counts.append(len(sql_counter.statements))
    assert counts[1] == counts[2], counts


async def test_failure_mid_write_leaves_nothing_and_a_rerun_converges(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    bob: Caller,
    services: SyncServices,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)

    async def crash(*args: object, **kwargs: object) -> None:
        raise RuntimeError("worker died mid-way")

    monkeypatch.setattr(activities, "reconcile", crash)
    with pytest.raises(RuntimeError):
        await sync(item_id, services)
    assert await Order.filter(account__plaid_item_id=item_id).count() == 0
    monkeypatch.undo()
    await SyncJob.filter(plaid_item_id=item_id).update(status=SyncStatus.FAILED)
    assert (await sync(item_id, services)).status == SyncStatus.SUCCEEDED
    twin_id, _ = await link_seeded_item(client, emulator, bob)
    assert (await sync(twin_id, services)).status == SyncStatus.SUCCEEDED
    crashed, clean = await snapshot_rows(item_id), await snapshot_rows(twin_id)
    assert len(crashed["orders"]) == len(clean["orders"]) > 0
    strip = ("plaid_transaction_id", "symbol_profile_id")
    assert sorted(tuple(v for k, v in o.items() if k not in strip) for o in crashed["orders"]) == sorted(
        tuple(v for k, v in o.items() if k not in strip) for o in clean["orders"]
    )


async def test_login_required_flags_the_item_without_retrying(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, services: SyncServices
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    await plaid_post(emulator, "/sandbox/item/reset_login", {"access_token": await access_token(item_id, services)})
    job = await sync(item_id, services, final_attempt=False)
    assert (job.status, job.error) == (SyncStatus.FAILED, "ITEM_LOGIN_REQUIRED")
    assert (await PlaidItem.get(id=item_id)).error == "ITEM_LOGIN_REQUIRED"


@pytest.mark.parametrize(
    "fault",
    [
        {"error_code": "RATE_LIMIT_EXCEEDED"},
        {"status": 500, "body": "oops"},
        {"error_code": "PRODUCT_NOT_READY"},
        {"error_code": "INSTITUTION_DOWN"},
    ],
)
async def test_passing_troubles_are_retried_then_recorded(
    client: httpx.AsyncClient,
    emulator: EmulatorServer,
    alice: Caller,
    services: SyncServices,
    fault: dict[str, Any],
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    await emulator_call(
        emulator, "POST", "/emulator/faults", {"path": "/investments/holdings/get", "times": 2, **fault}
    )
    job = await SyncJob.create(plaid_item_id=item_id, trigger=SyncTrigger.MANUAL)
    with pytest.raises(RetryLater):
        await execute_sync(services, str(job.id), final_attempt=False)
    assert (await SyncJob.get(id=job.id)).status == SyncStatus.QUEUED
    assert await execute_sync(services, str(job.id), final_attempt=True) == SyncStatus.FAILED
    failed = await SyncJob.get(id=job.id)
    assert failed.error in ("RATE_LIMIT_EXCEEDED", "PLAID_UNAVAILABLE", "PRODUCT_NOT_READY", "INSTITUTION_DOWN")
    assert (await PlaidItem.get(id=item_id)).error is None


async def test_a_held_item_lock_keeps_a_second_sync_out(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, services: SyncServices
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    lock = services.redis.lock(sync_lock_key(item_id), timeout=30)
    assert await lock.acquire(blocking=False)
    try:
        job = await SyncJob.create(plaid_item_id=item_id, trigger=SyncTrigger.MANUAL)
        with pytest.raises(RetryLater):
            await execute_sync(services, str(job.id), final_attempt=False)
        assert await execute_sync(services, str(job.id), final_attempt=True) == SyncStatus.FAILED
        assert (await SyncJob.get(id=job.id)).error == "ITEM_LOCKED"
        assert await Order.filter(account__plaid_item_id=item_id).count() == 0
    finally:
        await lock.release()


async def test_disconnected_items_are_skipped(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, services: SyncServices
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    await PlaidItem.filter(id=item_id).update(disconnected_at=datetime.now(UTC))
    job = await sync(item_id, services)
    assert (job.status, job.error) == (SyncStatus.FAILED, "ITEM_DISCONNECTED")


async def test_slow_plaid_times_out_and_is_retried(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, services: SyncServices, settings: Settings
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    plaid_item = await PlaidItem.get(id=item_id)
    await emulator_call(
        emulator,
        "POST",
        "/emulator/faults",
        {"path": "/investments/holdings/get", "item_id": plaid_item.item_id, "delay_ms": 1500},
    )
    impatient = PlaidClient(replace(settings, plaid_timeout_seconds=0.3))
    try:
        job = await SyncJob.create(plaid_item_id=item_id, trigger=SyncTrigger.MANUAL)
        with pytest.raises(RetryLater):
            await execute_sync(replace(services, plaid=impatient), str(job.id), final_attempt=False)
    finally:
        impatient.close()
    stored = await SyncJob.get(id=job.id)
    assert (stored.status, stored.error) == (SyncStatus.QUEUED, "PLAID_UNAVAILABLE")
    assert await execute_sync(services, str(job.id)) == SyncStatus.SUCCEEDED


async def test_a_first_sync_waits_for_plaid_beyond_its_retries_and_ends_with_the_history(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, process_env: dict[str, str]
) -> None:
    """PRODUCT_NOT_READY on a new item is Plaid preparing it: more answers than RQ has retries, then the data."""
    item_id, _ = await link_seeded_item(client, emulator, alice)
    plaid_item = await PlaidItem.get(id=item_id)
    not_ready = {"path": "/investments/holdings/get", "item_id": plaid_item.item_id, "error_code": "PRODUCT_NOT_READY"}
    await emulator_call(emulator, "POST", "/emulator/faults", {**not_ready, "times": 4})
    queue_name = f"gp-test-not-ready-{uuid.uuid4().hex[:8]}"
    queue = SyncQueue(REDIS_URL, queue_name, retry_intervals=(0, 0))
    try:
        job = await request_sync(queue, plaid_item, SyncTrigger.LINK)
        await run_command({**process_env, "SYNC_QUEUE_NAME": queue_name}, "worker", "--burst")
    finally:
        queue.queue.empty()
        queue.close()
    finished = await SyncJob.get(id=job.id)
    assert (finished.status, finished.error) == (SyncStatus.SUCCEEDED, None)
    requests = (await emulator_call(emulator, "GET", "/emulator/requests"))["requests"]
    answers = [r["error_code"] for r in requests if r["item_id"] == plaid_item.item_id and "holdings" in r["path"]]
    assert answers == ["PRODUCT_NOT_READY"] * 4 + [None]  # three attempts were RQ's whole budget
    assert await Order.filter(account__plaid_item_id=item_id).count() > 0


@pytest.mark.parametrize("case", ["synced before", "linked long ago", "another error"])
async def test_only_a_new_items_first_sync_keeps_waiting(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller, services: SyncServices, case: str
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    plaid_item = await PlaidItem.get(id=item_id)
    if case == "synced before":
        await PlaidItem.filter(id=item_id).update(last_synced_at=datetime.now(UTC))
    if case == "linked long ago":
        await PlaidItem.filter(id=item_id).update(created_at=datetime.now(UTC) - timedelta(days=3))
    code = "INSTITUTION_DOWN" if case == "another error" else "PRODUCT_NOT_READY"
    fault = {"path": "/investments/holdings/get", "item_id": plaid_item.item_id, "error_code": code}
    await emulator_call(emulator, "POST", "/emulator/faults", fault)
    job = await SyncJob.create(plaid_item_id=item_id, trigger=SyncTrigger.MANUAL)
    assert await execute_sync(services, str(job.id), final_attempt=True, can_wait=True) == SyncStatus.FAILED
    assert (await SyncJob.get(id=job.id)).error == code


async def test_historical_update_asks_for_a_sync(
    client: httpx.AsyncClient, emulator: EmulatorServer, alice: Caller
) -> None:
    item_id, _ = await link_seeded_item(client, emulator, alice)
    plaid_item = await PlaidItem.get(id=item_id)
    body = json.dumps(
        {
            "webhook_type": "INVESTMENTS_TRANSACTIONS",
            "webhook_code": "HISTORICAL_UPDATE",
            "item_id": plaid_item.item_id,
            "error": None,
            "new_investments_transactions": 50,
            "cancelled_investments_transactions": 0,
            "environment": "sandbox",
        },
        indent=2,
    ).encode()
    signer: WebhookSigner = emulator.app.state.emulator.signer  # type: ignore[attr-defined]
    response = await client.post(
        "/api/v1/plaid/webhook",
        content=body,
        headers={"Plaid-Verification": signer.sign(body), "Content-Type": "application/json"},
    )
    assert response.status_code == 200, response.text
    jobs = await SyncJob.filter(plaid_item_id=item_id)
    assert [(j.trigger, j.status) for j in jobs] == [(SyncTrigger.WEBHOOK, SyncStatus.QUEUED)]
    await forget_syncs(item_id)


async def forget_syncs(item_id: str) -> None:
    """Drop the item's queued syncs (rows and RQ jobs), as ``tests.linking`` does for the link's."""
    redis = Redis.from_url(REDIS_URL)
    try:
        for job in await SyncJob.filter(plaid_item_id=item_id):
            with contextlib.suppress(NoSuchJobError):
                Job.fetch(str(job.id), connection=redis).delete()
            await job.delete()
    finally:
        redis.close()
